"""Citation counts, venue and year from Semantic Scholar, kept on each paper's record.

A paper's figures are asked for when it is shown and they are missing or older than a week
(`STALE_AFTER`), never while someone waits: `Enricher` gathers the ids papers were shown with
and asks in a thread of its own, 500 ids a request, one request a second
(`bot.sources.semantic_scholar`). An id Semantic Scholar does not know is remembered the same
way (`scholar_known` False, with the time), so it is not asked again for a week.
`papers-bot enrich` fills a whole library the same way, resumable: what is fresh is skipped.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.library import Library
from bot.models import Paper
from bot.sources.semantic_scholar import BATCH_SIZE, ScholarClient, ScholarError

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(days=7)


@dataclass
class EnrichReport:
    found: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None


def is_stale(paper: Paper, now: datetime) -> bool:
    """Never asked, or asked more than a week ago (known or not)."""
    if not paper.scholar_checked:
        return True
    try:
        checked = datetime.fromisoformat(paper.scholar_checked)
    except ValueError:
        return True
    if checked.tzinfo is None:
        checked = checked.replace(tzinfo=UTC)
    return now - checked > STALE_AFTER


def enrich(
    library: Library, client: ScholarClient, paper_ids: Sequence[str], now: datetime | None = None
) -> EnrichReport:
    """Ask for `paper_ids`' figures (any number: 500 a request) and keep them; a request that
    fails leaves its papers as they were (`failed`, `error`)."""
    report = EnrichReport()
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    for start in range(0, len(paper_ids), BATCH_SIZE):
        chunk = list(paper_ids[start : start + BATCH_SIZE])
        try:
            figures = client.figures(chunk)
        except ScholarError as error:
            report.failed += chunk
            report.error = str(error)
            log.warning("citation counts of %d papers not fetched: %s", len(chunk), error)
            continue
        changed = []
        for paper in library.get_many(chunk):
            found = figures.get(paper.id)
            if found is None:
                report.unknown.append(paper.id)
                changed.append(replace(paper, scholar_checked=at, scholar_known=False))
                continue
            report.found.append(paper.id)
            changed.append(
                replace(
                    paper,
                    citations=found.citations,
                    influential_citations=found.influential,
                    venue=found.venue,
                    year=found.year,
                    scholar_checked=at,
                    scholar_known=True,
                )
            )
        library.upsert_many(changed)
    return report


class Enricher:
    """Papers' figures refreshed in the background: `refresh_later` returns at once; a
    thread of its own asks Semantic Scholar for those that are stale, in batches."""

    WAIT_FOR_MORE = 2.0  # seconds: ids shown close together go in one request

    def __init__(
        self,
        library: Library,
        client: Callable[[], ScholarClient],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.library, self.client, self.clock = library, client, clock
        self._waiting: queue.Queue[str] = queue.Queue()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.done = threading.Event()  # set after each batch (tests and the bench wait on it)

    def refresh_later(self, papers: Iterable[Paper]) -> int:
        """Queue the stale ones among `papers`; how many were queued."""
        now = self.clock()
        stale = [p.id for p in papers if is_stale(p, now)]
        with self._lock:
            fresh = [i for i in stale if i not in self._queued]
            self._queued.update(fresh)
            if fresh and self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="scholar-enricher", daemon=True
                )
                self._thread.start()
        for paper_id in fresh:
            self._waiting.put(paper_id)
        return len(fresh)

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            try:
                while len(batch) < BATCH_SIZE:
                    batch.append(self._waiting.get(timeout=self.WAIT_FOR_MORE))
            except queue.Empty:
                pass
            try:
                with self.client() as client:
                    report = enrich(self.library, client, batch, self.clock())
                log.info(
                    "citation counts: %d found, %d unknown to Semantic Scholar, %d failed",
                    len(report.found),
                    len(report.unknown),
                    len(report.failed),
                )
            except Exception:  # the thread must outlive any one failure
                log.exception("citation counts of %d papers failed", len(batch))
            finally:
                with self._lock:
                    self._queued.difference_update(batch)
                self.done.set()
