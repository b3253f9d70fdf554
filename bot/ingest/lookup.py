"""Papers the library lacks, looked up on Hugging Face while someone waits, and added to it.

`/papers ID` for an unknown paper asks `GET /papers/{id}`; a search with too few good matches
asks its paper search. Both are short (a person is waiting) and fail quietly: the caller
answers from the library alone, and the failure is one log line. The caller re-indexes.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.library import Library, StoreWriteError
from bot.models import Paper
from bot.sources.hf import RowError, parse_daily_row, parse_paper_object

if TYPE_CHECKING:
    from bot.sources.polite import RateLimit

log = logging.getLogger(__name__)


@functools.cache
def _arxiv_turns() -> RateLimit:
    """arXiv asks for one request every 3 s: this process's one-paper lookups take turns
    (made on first use, like the clients: see look_up_paper)."""
    from bot.sources.polite import RateLimit

    return RateLimit(1, 3.1)


SEARCH_SECONDS = 8.0  # Hugging Face's search answers as an update, so it may take this long


def look_up_paper(
    settings: Settings,
    library: Library,
    paper_id: str,
    source: str = "hf-paper",
    timeout: float = 5,
    attempts: int = 2,
) -> Paper | None:
    """The paper `paper_id` from Hugging Face, stored (its `source` says why it came);
    None when unknown or unreachable (one log line)."""
    paper, failure = _from_hugging_face(settings, library, paper_id, source, timeout, attempts)
    if failure:
        log.warning("looking up %s on Hugging Face failed: %s", paper_id, failure)
    return paper


def _from_hugging_face(
    settings: Settings,
    library: Library,
    paper_id: str,
    source: str,
    timeout: float,
    attempts: int,
) -> tuple[Paper | None, str | None]:
    """(the paper stored, or None; why the lookup failed, or None when it did not)."""
    # The client (httpx, which brings its command line's rich and pygments) is imported when
    # a paper is looked up: a serving bot's memory and a CLI's start pay for it only then.
    from bot.sources.hf_client import HFError, client_for

    try:
        with client_for(
            settings, timeout=timeout, connect_timeout=min(3, timeout), max_attempts=attempts
        ) as client:
            raw = client.paper(paper_id)
        if raw is None:
            return None, None
        paper = parse_paper_object(raw, source=source)
        # One paper looked up is not a Daily Papers listing: giving it its listing day
        # would make a "day" of one paper for trending and the digest.
        paper.listed = None
        library.upsert_many([paper])
    except (HFError, RowError, StoreWriteError) as error:
        return None, str(error)
    return library.get(paper.id), None


def _from_arxiv(
    settings: Settings, library: Library, paper_id: str, source: str, timeout: float
) -> tuple[Paper | None, str | None]:
    """The paper from arXiv's API, stored, as `_from_hugging_face` answers. One attempt
    (someone is waiting), spaced from the other lookups of this process as arXiv asks."""
    from bot.sources.arxiv_client import ArxivClient, ArxivError

    try:
        with ArxivClient(
            settings.arxiv_api_url, rate=_arxiv_turns(), timeout=timeout, max_attempts=1
        ) as client:
            paper = client.paper(paper_id)
        if paper is None:
            return None, None
        paper.source = source
        library.upsert_many([paper])
    except (ArxivError, StoreWriteError) as error:
        return None, str(error)
    return library.get(paper.id), None


def look_up_anywhere(
    settings: Settings, library: Library, paper_id: str, source: str, seconds: float
) -> Paper | None:
    """Hugging Face first (it has TL;DRs and upvotes), then arXiv, within about `seconds`;
    found on neither: one log line saying what each answered."""
    deadline = time.monotonic() + seconds
    paper, hf_failed = _from_hugging_face(settings, library, paper_id, source, seconds / 2, 1)
    if paper is not None:
        return paper
    left = deadline - time.monotonic()
    arxiv_failed: str | None = "no time left"
    if left >= 0.5:
        paper, arxiv_failed = _from_arxiv(settings, library, paper_id, source, left)
        if paper is not None:
            return paper
    failed = hf_failed or arxiv_failed  # a source that failed is worth the operator's eye
    log.log(
        logging.WARNING if failed else logging.INFO,
        "%s is on neither Hugging Face nor arXiv (Hugging Face: %s; arXiv: %s)",
        paper_id,
        hf_failed or "unknown",
        arxiv_failed or "unknown",
    )
    return None


def search_hugging_face(
    settings: Settings, library: Library, words: str, known: set[str], limit: int
) -> list[Paper]:
    """Up to `limit` papers Hugging Face's paper search finds for `words` that are not in
    `known`, stored in the library (shown even when storing them failed)."""
    from bot.sources.hf_client import HFError, client_for  # see look_up_paper

    try:
        with client_for(
            settings, timeout=SEARCH_SECONDS, connect_timeout=3, max_attempts=1
        ) as client:
            rows = client.search_papers(words, limit=10)
    except HFError as error:
        log.warning("Hugging Face's paper search for %r failed: %s", words[:80], error)
        return []
    found: dict[str, Paper] = {}
    for row in rows:
        try:
            paper = parse_daily_row(row, source="hf-search")
        except RowError:
            continue
        paper.listed = None  # a search hit is not a Daily Papers listing (see look_up_paper)
        if paper.id not in known:
            found.setdefault(paper.id, paper)
    papers = list(found.values())[:limit]
    if not papers:
        return []
    try:
        library.upsert_many(papers)
    except StoreWriteError as error:  # still worth showing; saving them will not work
        log.error("papers from Hugging Face's search were not stored: %s", error)
        return papers
    return [library.get(p.id) or p for p in papers]
