"""What runs around the digests: the fetch (Hugging Face, arXiv's categories), follow alerts,
the freshening of a digest's papers, morning picks; and `daily_job`, the operator's channels'
digests at once (`papers-bot digest`, for cron users).

Inside `papers-bot run` every channel's digest comes at its own time from the minute tick of
`bot.daily.workspaces` (in every mode), which also catches up after a restart: a digest whose
time passed less than PAPERS_DIGEST_GRACE_HOURS ago and is not finished is posted then. The
digest ledger makes a second run a no-op. APScheduler 3 fires the daily fetch at
PAPERS_DIGEST_TIME in PAPERS_TIMEZONE (a CronTrigger with an IANA zone, so DST moves the UTC
time, not the local one), with the grace as `misfire_grace_time`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot import digest_settings
from bot.alerts import send_follow_alerts
from bot.config import Settings
from bot.delivery import Messenger
from bot.digest import Selection, run_digest
from bot.for_you import send_morning_picks
from bot.ingest.arxiv_fetch import fetch_category
from bot.ingest.fetch import REFRESH_DAYS, days_back, fetch
from bot.ingest.freshen import freshener
from bot.library import Library
from bot.models import ChannelDigest, Paper
from bot.runtime import Runtime
from bot.search.topics import topic_matches
from bot.sources.arxiv_client import arxiv_client_for
from bot.sources.hf_client import client_for

log = logging.getLogger(__name__)
JOB_ID = "daily-digest"
ARXIV_DAYS = 3


def digest_trigger(settings: Settings) -> CronTrigger:
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(settings.timezone))


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


def selection_for(runtime: Runtime, digest: ChannelDigest) -> Selection:
    """A channel digest's cadence and topic, the topic matched by the search's rule."""
    matches = partial(topic_matches, runtime.search, digest.topic) if digest.topic else None
    return Selection(digest.weekly, digest.topic, matches, digest.quiet)


def channel_digest(runtime: Runtime, channel: str) -> ChannelDigest:
    """The channel's digest as set (in Slack, or PAPERS_CHANNEL's), else a plain daily one."""
    found = digest_settings.channel_digests(runtime.settings, runtime.library, runtime.library.team)
    mine = [d for d in found if d.channel == channel]
    return mine[0] if mine else ChannelDigest(runtime.library.team, channel)


def _run_daily(settings: Settings, runtime: Runtime, messenger: Messenger, day: date) -> None:
    added = fetch_latest(settings, runtime, datetime.now(UTC))
    try:
        send_follow_alerts(runtime, messenger, added)
    except Exception:  # alerts must not stop the digest
        log.exception("follow alerts failed")
    shown: list[str] = []
    for channel in settings.channels:
        digest = channel_digest(runtime, channel)
        if not digest.active:
            log.info("the digest of %s was switched off in Slack; not posted", channel)
            continue
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
                selection=selection_for(runtime, digest),
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
