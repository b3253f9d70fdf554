"""A paper's full text for `/papers ask`: kept in the catalog once read, so a second question
never fetches; fetched from arXiv's HTML page otherwise. A paper without a page (404) is
remembered for 7 days and answered from its abstract; a page that cannot be read now (a stall,
a 503, garbage) is answered from the abstract too, and the reply says why.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from bot.config import Settings
from bot.library import Library, StoreWriteError
from bot.library.catalog import StoredText
from bot.models import Paper
from bot.sources.arxiv_html import FullText, FullTextError, abstract_only, parse_full_text
from bot.sources.fulltext_client import FullTextClient, FullTextFetchError

log = logging.getLogger(__name__)
MISSING_FOR = timedelta(days=7)  # arXiv makes HTML pages for older papers now and then


@dataclass
class Reading:
    full: FullText
    fetched: bool = False  # read from arXiv just now (not from the library)
    problem: str | None = None  # why the full text could not be read now (abstract instead)

    @property
    def from_abstract(self) -> bool:
        return self.full.source == "abstract"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encoded(full: FullText) -> bytes:
    return zlib.compress(orjson.dumps(full.to_record()), 6)


def _decoded(body: bytes) -> FullText:
    return FullText.from_record(orjson.loads(zlib.decompress(body)))


def stored_reading(library: Library, paper: Paper, now: datetime | None = None) -> Reading | None:
    """The paper's text from the library alone; None when it must be fetched."""
    stored = library.catalog.full_text(paper.id)
    if stored is None:
        return None
    if stored.status == "html" and stored.body:
        try:
            return Reading(_decoded(stored.body))
        except (zlib.error, orjson.JSONDecodeError, KeyError, TypeError) as error:
            log.warning(
                "the kept full text of %s is damaged (%s); reading it again", paper.id, error
            )
            return None
    at = datetime.strptime(stored.at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if stored.status == "missing" and (now or datetime.now(UTC)) - at < MISSING_FOR:
        return Reading(abstract_only(paper.id, paper.abstract))
    return None


def read_paper(
    settings: Settings,
    library: Library,
    paper: Paper,
    client: Callable[[], AbstractContextManager[FullTextClient]] | None = None,
) -> Reading:
    """The paper's passages: kept, fetched (and kept), or its abstract (and why)."""
    stored = stored_reading(library, paper)
    if stored is not None:
        return stored
    make: Callable[[], AbstractContextManager[FullTextClient]] = client or (
        lambda: FullTextClient(settings.arxiv_html_url)
    )
    try:
        with make() as fetcher:
            page = fetcher.page(paper.id)
    except FullTextFetchError as error:
        log.warning("the full text of %s could not be fetched: %s", paper.id, error)
        return Reading(abstract_only(paper.id, paper.abstract), True, str(error))
    if page is None:
        _keep(library, paper.id, StoredText("missing", _now()))
        return Reading(abstract_only(paper.id, paper.abstract), True)
    try:
        full = parse_full_text(page, paper.id)
    except FullTextError as error:
        log.warning("arXiv's page for %s is not a paper: %s", paper.id, error)
        return Reading(abstract_only(paper.id, paper.abstract), True, str(error))
    _keep(library, paper.id, StoredText("html", _now(), _encoded(full)))
    return Reading(full, True)


def _keep(library: Library, paper_id: str, stored: StoredText) -> None:
    try:
        library.catalog.keep_full_text(paper_id, stored)
    except StoreWriteError as error:  # the answer still comes; the next question fetches
        log.error("the full text of %s was not kept: %s", paper_id, error)


@dataclass
class FillReport:
    kept: int = 0
    missing: int = 0
    failed: int = 0
    already: int = 0


def fill_full_texts(
    settings: Settings,
    library: Library,
    papers: Iterable[Paper],
    advance: Callable[[Reading | None], None] = lambda reading: None,
) -> FillReport:
    """Fetch and keep the full text of each paper that has none kept (`papers-bot
    fulltext`): one request a second, resumable (what is kept is skipped)."""
    report = FillReport()
    # Nobody waits on a fill: a patient client (longer timeout, more attempts).
    with FullTextClient(settings.arxiv_html_url, timeout=20.0, max_attempts=4) as client:
        for paper in papers:
            if stored_reading(library, paper) is not None:
                report.already += 1
                advance(None)
                continue
            reading = read_paper(settings, library, paper, lambda: _Borrowed(client))
            if reading.problem:
                report.failed += 1
            elif reading.from_abstract:
                report.missing += 1
            else:
                report.kept += 1
            advance(reading)
    return report


class _Borrowed:
    """The fill's one client, handed to `read_paper` without being closed after each paper."""

    def __init__(self, client: FullTextClient):
        self.client = client

    def __enter__(self) -> FullTextClient:
        return self.client

    def __exit__(self, *exc: object) -> None:
        return None
