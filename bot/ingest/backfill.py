"""`papers-bot fetch --since DAY`: every Daily Papers day from DAY on, into the library.

Resumable: a day older than `REFRESH_DAYS` is recorded as fetched for good in the catalog
(`fetched_days`) once its papers are written, and a rerun skips it; the last few days are
fetched again (listings grow during their day, upvotes after). A day's papers are one catalog
write and its record a second: a kill between the two fetches that day again on the next run,
which merges into the same records (a paper is never in the library twice). The index catches
up every `INDEX_EVERY` papers written, not once per day. How fast to ask is the client's
business (`hf_client.RateLimit`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from bot.ingest.fetch import REFRESH_DAYS, DayReport, ingest_day
from bot.library import Library, StoreError
from bot.sources.hf_client import HFClient, HFError

log = logging.getLogger(__name__)
SOURCE = "hf-daily"
INDEX_EVERY = 2_000


@dataclass
class BackfillReport:
    wanted: int  # days in the range
    done_before: int = 0  # skipped: fetched for good by an earlier run
    fetched: int = 0
    added: int = 0
    updated: int = 0
    error: str | None = None

    def summary(self) -> str:
        return (
            f"{self.fetched} of {self.wanted} days fetched ({self.done_before} done before); "
            f"papers added {self.added:,}, updated {self.updated:,}"
        )


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


class Progress(Protocol):
    """Told how many days there are to fetch, then of each day done."""

    def start(self, todo: int, done_before: int) -> None: ...
    def day_done(self, report: DayReport) -> None: ...


class Quiet:
    def start(self, todo: int, done_before: int) -> None:
        pass

    def day_done(self, report: DayReport) -> None:
        pass


def backfill(
    library: Library,
    client: HFClient,
    days: list[date],
    today: date,
    catch_up: Callable[[], object],
    progress: Progress | None = None,
) -> BackfillReport:
    """Fetch the days not fetched for good yet, oldest first; stop at the first failure,
    keeping (and recording) every day written before it."""
    done = library.catalog.fetched_days(SOURCE)
    todo = [day for day in days if day.isoformat() not in done]
    report = BackfillReport(wanted=len(days), done_before=len(days) - len(todo))
    progress = progress or Quiet()
    progress.start(len(todo), report.done_before)
    unindexed = 0
    for day in todo:
        try:
            fetched = ingest_day(library, client, day)
            if today - day >= timedelta(days=REFRESH_DAYS):
                library.catalog.mark_fetched(SOURCE, day.isoformat(), fetched.rows, library.clock())
        except (HFError, StoreError) as error:
            report.error = f"{day}: {error}"
            log.error("backfill stopped at %s; run it again to go on", report.error)
            break
        report.fetched += 1
        report.added += len(fetched.added)
        report.updated += len(fetched.updated)
        unindexed += len(fetched.added) + len(fetched.updated)
        progress.day_done(fetched)
        if unindexed >= INDEX_EVERY:
            catch_up()
            unindexed = 0
    if unindexed:
        catch_up()
    return report
