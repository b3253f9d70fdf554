"""Many workspaces (installed by OAuth): each workspace's digest at its own time and zone, as
its people set it in Slack (`/papers digest here ...`), checked every minute; one fetch for
all of them. The one-workspace digest is `bot.daily`'s.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import digest_settings
from bot.alerts import send_follow_alerts
from bot.config import Settings
from bot.daily import JOB_ID, before_digest, digest_trigger, fetch_latest, morning_picks
from bot.delivery import Messenger
from bot.digest import run_digest
from bot.runtime import Runtime

log = logging.getLogger(__name__)


class Workspaces(Protocol):
    """The workspaces the app is installed in (multi-workspace mode; the Slack layer knows
    their tokens)."""

    def installed(self) -> list[str]: ...

    def messenger(self, team: str) -> Messenger | None:
        """What posts in `team` with its own bot token; None once it is uninstalled."""
        ...


class DueWorkspaceDigests:
    """Multi-workspace mode: every minute, each workspace whose digest time has come gets its
    digest, on one replica at a time (the others step aside, as for the single digest).
    Hugging Face is asked at most once per FETCH_EVERY for all of them, and each fetch's new
    papers go to the followers of every workspace."""

    FETCH_EVERY = timedelta(minutes=30)

    def __init__(self, settings: Settings, runtime: Runtime, workspaces: Workspaces):
        self.settings = settings
        self.runtime = runtime
        self.workspaces = workspaces
        self.last_fetch: datetime | None = None

    def tick(self, now: datetime | None = None) -> list[tuple[digest_settings.Due, str]]:
        """Post the digests due at `now`; what became of each (for `papers-bot digest`)."""
        now = now or datetime.now(UTC)
        if not digest_settings.due_digests(self.runtime.library, now, self._grace):
            return []
        with self.runtime.library.run_alone("workspace-digests") as leader:
            if not leader:
                return []
            if self.last_fetch is None or now - self.last_fetch >= self.FETCH_EVERY:
                self.fetch_and_alert(now)
            due = digest_settings.due_digests(self.runtime.library, now, self._grace)
            return [(one, self._post(one)) for one in due]

    @property
    def _grace(self) -> float:
        return self.settings.digest_grace_hours

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

    def _post(self, due: digest_settings.Due) -> str:
        messenger = self.workspaces.messenger(due.team)
        if messenger is None:
            log.info("workspace %s is not installed any more; no digest", due.team)
            return "not installed"
        library = self.runtime.library.for_team(due.team)
        settings = self.settings
        try:
            result = run_digest(
                library,
                messenger,
                due.channel,
                due.day,
                settings.digest_size,
                settings.save_emoji,
                freshen=before_digest(self.runtime, library),
                signals=settings.team_signals,
            )
        except Exception as error:
            log.exception(
                "digest of %s on %s failed; the next minute continues it", due.team, due.day
            )
            return f"failed: {error}"
        outcome = f"posted {len(result.posted)} {result.note}".strip()
        log.info("digest of %s in %s for %s: %s", due.team, due.channel, due.day, outcome)
        morning_picks(self.runtime.for_team(due.team), messenger, due.day, [], result.posted)
        return outcome


def start_workspace_scheduler(settings: Settings, job: DueWorkspaceDigests) -> BackgroundScheduler:
    """Multi-workspace mode: the minute tick (sooner with a shorter PAPERS_TAKEOVER_SECONDS),
    and one fetch a day at PAPERS_DIGEST_TIME for
    the follow alerts of workspaces without a digest."""
    scheduler = BackgroundScheduler(timezone=ZoneInfo(settings.timezone))
    scheduler.add_job(
        job.tick,
        IntervalTrigger(seconds=min(60, settings.takeover_seconds)),
        id=f"{JOB_ID}-workspaces",
        max_instances=1,
        coalesce=True,
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


def _fetch_alone(job: DueWorkspaceDigests) -> None:
    with job.runtime.library.run_alone("workspace-digests") as leader:
        if leader:
            job.fetch_and_alert()
