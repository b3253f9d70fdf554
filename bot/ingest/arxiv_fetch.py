"""arXiv categories into the library: each page of a category's new submissions is one
catalog write (a failure keeps the pages before it). A paper already in the library from
Hugging Face stays one record, now with arXiv's categories, comment, DOI and journal
reference beside Hugging Face's upvotes and summary (`catalog.merge_paper`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from bot.library import Library, StoreError
from bot.sources.arxiv_client import ArxivClient, ArxivError

log = logging.getLogger(__name__)


@dataclass
class CategoryReport:
    category: str
    found: int = 0  # papers arXiv listed
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> str:
        return (
            f"arXiv {self.category}: {self.found:,} papers; added {len(self.added):,}, "
            f"updated {len(self.updated):,}, skipped {len(self.skipped)}"
        )


def fetch_category(
    library: Library, client: ArxivClient, category: str, since: date, until: date
) -> CategoryReport:
    report = CategoryReport(category)
    try:
        for feed in client.category_pages(category, since, until):
            report.found += len(feed.papers)
            report.skipped += feed.skipped
            result = library.upsert_many(feed.papers)
            report.added += result.added
            report.updated += result.updated
    except (ArxivError, StoreError) as error:
        report.error = str(error)
        log.error("arXiv %s stopped: %s (what came before is kept)", category, error)
    for skip in report.skipped:
        log.warning("arXiv %s: skipped %s", category, skip)
    return report
