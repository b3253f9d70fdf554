"""Daily Papers days into the library: fetch -> parse -> upsert (the caller re-indexes).

Each listing day is one catalog write, so a failure halfway keeps every day fetched before it.
Listings grow during their day and upvotes rise after it, so the scheduled fetch refreshes the
last few days too; weekends and empty days are normal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.ingest.importer import Skip
from bot.library import Library, StoreError
from bot.sources.hf import RowError, parse_daily_row
from bot.sources.hf_client import HFClient, HFError

log = logging.getLogger(__name__)
REFRESH_DAYS = 3


@dataclass
class DayReport:
    day: date
    rows: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.day}: {self.rows} rows; added {len(self.added)}, updated {len(self.updated)}, "
            f"skipped {len(self.skipped)}"
        )


@dataclass
class FetchReport:
    days: list[DayReport] = field(default_factory=list)
    error: str | None = None

    @property
    def added(self) -> list[str]:
        return [p for d in self.days for p in d.added]


def days_back(end: date, count: int) -> list[date]:
    return [end - timedelta(days=n) for n in range(max(1, count) - 1, -1, -1)]


def ingest_day(library: Library, client: HFClient, day: date) -> DayReport:
    report = DayReport(day)
    rows = client.daily_papers(day)
    report.rows = len(rows)
    papers, seen = [], set()
    for number, row in enumerate(rows, start=1):
        try:
            paper = parse_daily_row(row, source="hf-daily")
        except RowError as error:
            report.skipped.append(Skip(f"{day} row {number}", str(error)))
            continue
        if paper.id in seen:
            continue  # a duplicate row in one listing
        seen.add(paper.id)
        papers.append(paper)
    for skip in report.skipped:
        log.warning("skipped %s", skip)
    result = library.upsert_many(papers)
    report.added, report.updated = result.added, result.updated
    return report


def fetch(library: Library, days: list[date], client: HFClient) -> FetchReport:
    """Ingest each day in turn; stop at the first failure, keeping what was written."""
    report = FetchReport()
    for day in days:
        try:
            report.days.append(ingest_day(library, client, day))
        except (HFError, StoreError) as error:
            report.error = f"{day}: {error}"
            log.error("fetch stopped at %s", report.error)
            break
    return report
