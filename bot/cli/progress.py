"""A backfill's progress: a bar on a terminal (tqdm: days done, papers added, rate, ETA), and
plain log lines every LOG_EVERY seconds otherwise (cron, CI, `docker logs`)."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from bot.ingest.fetch import DayReport

log = logging.getLogger(__name__)
LOG_EVERY = 30.0


class BackfillProgress:
    def __init__(self, interactive: bool | None = None):
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.bar: Any = None
        self.todo = self.done = self.added = 0
        self.started = self.logged = time.monotonic()

    def __enter__(self) -> BackfillProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def start(self, todo: int, done_before: int) -> None:
        self.todo = todo
        if done_before:
            log.info("%d days were fetched before; %d to go", done_before, todo)
        if self.interactive:
            from tqdm import tqdm

            self.bar = tqdm(total=todo, unit="day", desc="Daily Papers", file=sys.stderr)

    def day_done(self, report: DayReport) -> None:
        self.done += 1
        self.added += len(report.added)
        if self.bar is not None:
            self.bar.set_postfix(day=str(report.day), added=f"{self.added:,}", refresh=False)
            self.bar.update(1)
            return
        now = time.monotonic()
        if now - self.logged >= LOG_EVERY or self.done == self.todo:
            self.logged = now
            rate = self.done / max(now - self.started, 1e-9)
            left = (self.todo - self.done) / rate if rate else 0.0
            log.info(
                "backfill: %d/%d days (up to %s), %s papers added, %.1f days/s, about %s left",
                self.done,
                self.todo,
                report.day,
                f"{self.added:,}",
                rate,
                _duration(left),
            )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
