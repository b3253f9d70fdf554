"""The daily job inside `papers-bot run`: fetch, follow alerts, then each channel's digest
(`bot.daily.workspaces`: the same for each workspace at its own time, when installed in many).

APScheduler 3 runs it every day at PAPERS_DIGEST_TIME in PAPERS_TIMEZONE (a CronTrigger with an
IANA zone, so DST moves the UTC time, not the local one). `misfire_grace_time` is the grace
(PAPERS_DIGEST_GRACE_HOURS, default 3; APScheduler's own default of 1 s would skip a late run)
and `coalesce` folds missed runs into one. APScheduler forgets everything on restart, so at
start we catch up: if today's run time passed less than the grace ago and a channel has no
finished digest for that day, the job runs now. The digest ledger makes a second run a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import digest_settings
from bot.alerts import send_follow_alerts
from bot.config import Settings
from bot.delivery import Messenger
from bot.digest import run_digest
from bot.for_you import send_morning_picks
from bot.ingest.arxiv_fetch import fetch_category
from bot.ingest.fetch import REFRESH_DAYS, days_back, fetch
from bot.ingest.freshen import freshener
from bot.library import Library
from bot.models import Paper
from bot.runtime import Runtime
from bot.sources.arxiv_client import arxiv_client_for
from bot.sources.hf_client import client_for

log = logging.getLogger(__name__)
JOB_ID = "daily-digest"
ARXIV_DAYS = 3


def digest_trigger(settings: Settings) -> CronTrigger:
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(settings.timezone))


def last_run_time(settings: Settings, now: datetime) -> datetime:
    """The latest scheduled time at or before `now`, in the digest's time zone."""
    return digest_settings.last_run_time(settings.digest_time, settings.timezone, now)


def missed_day(settings: Settings, runtime: Runtime, now: datetime) -> date | None:
    """The digest day to catch up on after a restart, or None."""
    scheduled = last_run_time(settings, now)
    if now - scheduled > timedelta(hours=settings.digest_grace_hours):
        return None
    day = scheduled.date()
    if all(runtime.library.ledger.is_done(c, day) for c in settings.channels):
        return None
    return day


def daily_job(
    settings: Settings, runtime: Runtime, messenger: Messenger, day: date | None = None
) -> None:
    """The day's fetch, alerts and digests, on one process or replica at a time: the others
    step aside (files: a lock file; PostgreSQL: an advisory lock on a connection of its own,
    released when its replica dies, so another one can finish the day)."""
    day = day or datetime.now(ZoneInfo(settings.timezone)).date()
    with runtime.library.run_alone("daily-job") as leader:
        if not leader:
            log.info("the daily job of %s runs on another replica or process", day)
            return
        log.info("this replica runs the daily job of %s", day)
        _run_daily(settings, runtime, messenger, day)


def _finish_a_missed_day(settings: Settings, runtime: Runtime, messenger: Messenger) -> None:
    """With replicas: a day whose digest was started and not finished (its leader died, or
    Slack failed it midway) is taken over, within the grace period. A day with nothing new
    never started one: it is not retried every minute."""
    day = missed_day(settings, runtime, datetime.now(UTC))
    if day is None:
        return
    ledger = runtime.library.ledger
    started = [c for c in settings.channels if (ledger.digest(c, day) or {}).get("papers")]
    if any(not ledger.is_done(c, day) for c in started):
        daily_job(settings, runtime, messenger, day)


def fetch_latest(settings: Settings, runtime: Runtime, now: datetime) -> list[str]:
    """The last few Daily Papers days into the library, the index caught up; new paper ids."""
    with client_for(settings) as client:
        report = fetch(runtime.library, days_back(now.date(), REFRESH_DAYS), client)
    if report.error:
        log.error("fetch failed (%s); digests use what the library has", report.error)
    added = report.added + _fetch_arxiv(settings, runtime, now.date())
    runtime.search.refresh()
    return added


def _fetch_arxiv(settings: Settings, runtime: Runtime, today: date) -> list[str]:
    """PAPERS_ARXIV_CATEGORIES' submissions of the last few days (arXiv announces a day's
    papers the next working day; a paper seen twice is merged, never doubled)."""
    if not settings.arxiv_categories:
        return []
    added: list[str] = []
    with arxiv_client_for(settings) as client:
        for category in settings.arxiv_categories:
            report = fetch_category(
                runtime.library, client, category, today - timedelta(days=ARXIV_DAYS), today
            )
            log.info("%s", report.summary())
            added += report.added
    return added


def before_digest(runtime: Runtime, library: Library) -> Callable[[list[Paper]], list[Paper]]:
    """What a digest's chosen papers go through before it posts: Hugging Face's AI summaries
    that appeared since the listing, then (PAPERS_LLM_URL) an LLM's TL;DR for those still
    without one; each within its time box, each failure leaving the TL;DR we have."""
    from_hugging_face = freshener(runtime.settings, library)

    def run(papers: list[Paper]) -> list[Paper]:
        try:
            papers = from_hugging_face(papers)
        except Exception:
            log.exception("looking up fresher AI summaries failed; the digest goes on")
        if runtime.summaries is not None:
            papers = runtime.summaries.summarise(papers)
        return papers

    return run


def _run_daily(settings: Settings, runtime: Runtime, messenger: Messenger, day: date) -> None:
    added = fetch_latest(settings, runtime, datetime.now(UTC))
    try:
        send_follow_alerts(runtime, messenger, added)
    except Exception:  # alerts must not stop the digest
        log.exception("follow alerts failed")
    shown: list[str] = []
    for channel in settings.channels:
        try:
            result = run_digest(
                runtime.library,
                messenger,
                channel,
                day,
                settings.digest_size,
                settings.save_emoji,
                freshen=before_digest(runtime, runtime.library),
                signals=settings.team_signals,
            )
            log.info("digest %s %s: posted %d %s", channel, day, len(result.posted), result.note)
            shown += result.posted
        except Exception:  # one channel's failure must not stop the others
            log.exception("digest for %s on %s failed; the next run continues it", channel, day)
    morning_picks(runtime, messenger, day, added, shown)


def morning_picks(
    runtime: Runtime, messenger: Messenger, day: date, added: list[str], shown: list[str]
) -> None:
    """After a digest: each opted-in person's own top new papers, not already shown."""
    try:
        new = [*runtime.library.catalog.listed_ids_on(day.isoformat()), *added]
        sent = send_morning_picks(runtime, messenger, day, new, shown)
        log.info("morning picks sent to %d people", len(sent))
    except Exception:
        log.exception("morning picks failed; the digest is out")


def start_scheduler(
    settings: Settings, runtime: Runtime, messenger: Messenger, now: datetime | None = None
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=ZoneInfo(settings.timezone))
    scheduler.add_job(
        daily_job,
        digest_trigger(settings),
        args=(settings, runtime, messenger),
        id=JOB_ID,
        misfire_grace_time=int(settings.digest_grace_hours * 3600) or None,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
    if settings.database_url:
        scheduler.add_job(
            _finish_a_missed_day,
            IntervalTrigger(seconds=settings.takeover_seconds),
            args=(settings, runtime, messenger),
            id=f"{JOB_ID}-takeover",
            max_instances=1,
            coalesce=True,
        )
    catch_up = missed_day(settings, runtime, now or datetime.now(UTC))
    if catch_up is not None:
        log.info("the digest of %s was missed while the bot was down; running it now", catch_up)
        scheduler.add_job(
            daily_job,
            args=(settings, runtime, messenger, catch_up),
            id=f"{JOB_ID}-catch-up",
            max_instances=1,
        )
    scheduler.start()
    return scheduler
