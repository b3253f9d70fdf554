"""Every channel's digest at its own time, in every mode: a minute tick (`DueDigests.tick`)
finds the digests due (`bot.digest_settings.due_digests`), fetches once for all of them, and
posts them side by side, each channel at Slack's pace of a message a second. With one bot
token the workspace is `OneWorkspace`; installed by OAuth, `bot.slack.workspaces` knows each
workspace's token.

Replicas: one leader per minute (`run_alone`); the others step aside. A leader that dies
mid-digest is continued by the next one within the grace, and the ledger's atomic claim of
each (channel, paper) means no card is posted twice whoever posts it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import digest_settings
from bot.alerts import send_follow_alerts
from bot.citations import check_week, scholar_citing, week_due
from bot.config import Settings
from bot.daily import (
    JOB_ID,
    before_digest,
    digest_trigger,
    fetch_latest,
    morning_picks,
    selection_for,
)
from bot.delivery import Messenger, PostRefused
from bot.digest import POST_INTERVAL, run_digest
from bot.digest_settings import Due
from bot.render import digests as words
from bot.runtime import Runtime

log = logging.getLogger(__name__)
# Digests posted side by side: each waits a second between its own messages (Slack's pace
# per channel), so their sum, not their count, sets how long a busy minute takes; `make
# bench` (part 11) measures 500 channels with this many.
POSTING_WORKERS = 32
# Slack's answers that mean the bot cannot post in a channel any more: its digest goes off.
GONE = ("not_in_channel", "channel_not_found", "is_archived")


class Workspaces(Protocol):
    """The workspaces the app serves (installed by OAuth, the Slack layer knows their
    tokens; with one bot token, `OneWorkspace`)."""

    def installed(self) -> list[str]: ...

    def messenger(self, team: str) -> Messenger | None:
        """What posts in `team` with its own bot token; None once it is uninstalled."""
        ...


class OneWorkspace:
    """Token mode: the one workspace ("" in the library), posted to with the bot token."""

    def __init__(self, messenger: Messenger):
        self._messenger = messenger

    def installed(self) -> list[str]:
        return [""]

    def messenger(self, team: str) -> Messenger | None:
        return self._messenger if team == "" else None


class DueDigests:
    """Every minute: each channel whose digest time has come gets its digest, on one replica
    at a time. Hugging Face is asked at most once per FETCH_EVERY for all of them, and each
    fetch's new papers go to the followers of every workspace."""

    FETCH_EVERY = timedelta(minutes=30)

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        workspaces: Workspaces,
        pace: float = POST_INTERVAL,
        workers: int = POSTING_WORKERS,
    ):
        self.settings = settings
        self.runtime = runtime
        self.workspaces = workspaces
        self.pace = pace
        self.workers = workers
        self.last_fetch: datetime | None = None
        # Digests that found nothing new, with the fetch they looked after: not looked at
        # again every minute, only after the next fetch (papers listed later still come).
        self.empty: dict[tuple[str, str, date], datetime | None] = {}

    def tick(self, now: datetime | None = None) -> list[tuple[Due, str]]:
        """Post the digests due at `now`, then the citation alerts due; what became of each
        digest (for `papers-bot digest`)."""
        now = now or datetime.now(UTC)
        weeks = self._citation_weeks(now)
        if not self._due(now) and not weeks:
            return []
        with self.runtime.library.run_alone("workspace-digests") as leader:
            if not leader:
                return []
            done: list[tuple[Due, str]] = []
            due = self._due(now)
            if due:
                log.info("this replica posts the %d digests due now", len(due))
                if self.last_fetch is None or now - self.last_fetch >= self.FETCH_EVERY:
                    self.fetch_and_alert(now)  # `due` was read unfiltered: no fetch was fresh
                done = self.post_all(due)
            for team, week in weeks.items():
                self.check_citations(team, week, now)
            return done

    def _citation_weeks(self, now: datetime) -> dict[str, str]:
        """Workspace -> the week whose citation check is due now (Monday morning in its
        zone, within the grace); only workspaces where someone asked for alerts."""
        if not self.settings.enrich or not _monday_somewhere(now, self.settings):
            return {}
        due = {}
        for team in self.workspaces.installed():
            zone = digest_settings.workspace_zone(
                self.settings, self.runtime.library.for_team(team)
            )
            week = week_due(zone, now, self.settings.digest_grace_hours)
            if week and self.runtime.library.for_team(team).citation_alerts.people():
                due[team] = week
        return due

    def check_citations(self, team: str, week: str | None, now: datetime) -> str:
        """One workspace's citation alerts (`week` None: at once, unclaimed, as
        `papers-bot citations --now` asks); what became of them."""
        runtime = self.runtime.for_team(team)
        messenger = self.workspaces.messenger(team)
        if messenger is None:
            return "not installed"
        if week is not None and not runtime.library.citation_alerts.claim_week(week):
            return "checked already"
        client, citing = scholar_citing(runtime)
        with client:
            report = check_week(runtime, messenger, citing, now.date())
        sent = sum(report.sent.values())
        log.info("citation alerts of %s: %d papers to %d people", team, sent, len(report.sent))
        return f"sent {sent} to {len(report.sent)}" + (
            f", {len(report.failed)} saved papers failed" if report.failed else ""
        )

    def _due(self, now: datetime) -> list[Due]:
        due = digest_settings.due_digests(self.settings, self.runtime.library, now)
        fresh = self.last_fetch is not None and now - self.last_fetch < self.FETCH_EVERY
        if not fresh:
            return due
        return [d for d in due if self.empty.get((d.team, d.channel, d.day)) != self.last_fetch]

    def post_all(self, due: list[Due]) -> list[tuple[Due, str]]:
        """The digests side by side; then each workspace's morning picks, once."""
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            outcomes = list(pool.map(self._post, due))
        shown: dict[str, list[str]] = defaultdict(list)
        for one, (_, posted) in zip(due, outcomes, strict=True):
            shown[one.team] += posted
        for team, papers in shown.items():
            messenger = self.workspaces.messenger(team)
            if messenger is not None:
                days = [one.day for one in due if one.team == team]
                morning_picks(self.runtime.for_team(team), messenger, min(days), [], papers)
        return [(one, outcome) for one, (outcome, _) in zip(due, outcomes, strict=True)]

    def fetch_and_alert(self, now: datetime | None = None) -> None:
        """Fetch the latest days once, then alert every workspace's followers."""
        self.last_fetch = now or datetime.now(UTC)
        added = fetch_latest(self.settings, self.runtime, self.last_fetch)
        for team in self.workspaces.installed():
            messenger = self.workspaces.messenger(team)
            try:
                if messenger is not None:
                    send_follow_alerts(self.runtime.for_team(team), messenger, added)
            except Exception:  # one workspace's failure must not stop the others
                log.exception("follow alerts of workspace %s failed", team)

    def _post(self, due: Due) -> tuple[str, list[str]]:
        """One channel's digest: what became of it, and the papers it posted."""
        messenger = self.workspaces.messenger(due.team)
        if messenger is None:
            log.info("workspace %s is not installed any more; no digest", due.team)
            return "not installed", []
        library = self.runtime.library.for_team(due.team)
        settings, digest = self.settings, due.digest
        try:
            result = run_digest(
                library,
                messenger,
                due.channel,
                due.day,
                settings.digest_size,
                settings.save_emoji,
                pace=self.pace,
                freshen=before_digest(self.runtime, library),
                signals=settings.team_signals,
                selection=selection_for(self.runtime, digest),
            )
        except PostRefused as refused:
            if refused.code in GONE:
                return self._gone(messenger, due, refused.code), []
            log.warning("digest of %s in %s refused: %s", due.team, due.channel, refused.code)
            return f"failed: {refused}", []
        except Exception as error:
            log.exception("digest of %s in %s on %s failed", due.team, due.channel, due.day)
            return f"failed: {error}", []
        self.runtime.enrich_later(library.get_many(result.posted))
        if not result.posted and result.header_ts is None:
            self.empty[(due.team, due.channel, due.day)] = self.last_fetch
        outcome = f"posted {len(result.posted)} {result.note}".strip()
        log.info("digest of %s in %s for %s: %s", due.team, due.channel, due.day, outcome)
        return outcome, result.posted

    def _gone(self, messenger: Messenger, due: Due, code: str) -> str:
        """The bot cannot post there any more: the digest is switched off, and whoever set it
        is told once (the operator's default: the log says it)."""
        library = self.runtime.library
        if not digest_settings.switch_off(library, due.digest, code):
            return f"switched off ({code})"
        log.warning("digest of %s in %s switched off: Slack says %s", due.team, due.channel, code)
        if due.digest.set_by:
            try:
                dm = messenger.open_dm(due.digest.set_by)
                messenger.post(dm, words.switched_off_dm(due.channel, code, due.digest))
            except Exception as error:  # the digest is off either way
                log.warning("could not tell %s: %s", due.digest.set_by, error)
        return f"switched off ({code})"


def _monday_somewhere(now: datetime, settings: Settings) -> bool:
    """Whether it is Monday morning (or its grace) in some zone of the world (UTC-12 to
    UTC+14): the other six days the minute tick reads no workspace's zone."""
    furthest_ahead = now + timedelta(hours=14)
    furthest_behind = now - timedelta(hours=12 + settings.digest_grace_hours)
    return any(moment.weekday() == 0 for moment in (furthest_behind, now, furthest_ahead))


def start_digest_scheduler(settings: Settings, job: DueDigests) -> BackgroundScheduler:
    """The minute tick (sooner with a shorter PAPERS_TAKEOVER_SECONDS), and one fetch a day
    at PAPERS_DIGEST_TIME for the follow alerts of workspaces without a digest."""
    scheduler = BackgroundScheduler(timezone=ZoneInfo(settings.timezone))
    scheduler.add_job(
        job.tick,
        IntervalTrigger(seconds=min(60, settings.takeover_seconds)),
        id=f"{JOB_ID}-channels",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),  # a restart catches up at once, not a minute later
    )
    scheduler.add_job(
        _fetch_alone,
        digest_trigger(settings),
        args=(job,),
        id=f"{JOB_ID}-fetch",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=int(settings.digest_grace_hours * 3600) or None,
    )
    scheduler.start()
    return scheduler


def _fetch_alone(job: DueDigests) -> None:
    with job.runtime.library.run_alone("workspace-digests") as leader:
        if leader:
            job.fetch_and_alert()
