"""Papers the library lacks, looked up on Hugging Face while someone waits, and added to it.

`/papers ID` for an unknown paper asks `GET /papers/{id}`; a search with too few good matches
asks its paper search. Both are short (a person is waiting) and fail quietly: the caller
answers from the library alone, and the failure is one log line. The caller re-indexes.
"""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.library import Library, StoreWriteError
from bot.models import Paper
from bot.sources.hf import RowError, parse_daily_row, parse_paper_object

log = logging.getLogger(__name__)
SEARCH_SECONDS = 8.0  # Hugging Face's search answers as an update, so it may take this long


def look_up_paper(settings: Settings, library: Library, paper_id: str) -> Paper | None:
    """The paper `paper_id` from Hugging Face, stored; None when unknown or unreachable."""
    # The client (httpx, which brings its command line's rich and pygments) is imported when
    # a paper is looked up: a serving bot's memory and a CLI's start pay for it only then.
    from bot.sources.hf_client import HFError, client_for

    try:
        with client_for(settings, timeout=5, connect_timeout=3, max_attempts=2) as client:
            raw = client.paper(paper_id)
        if raw is None:
            return None
        paper = parse_paper_object(raw, source="hf-paper")
        # One paper looked up is not a Daily Papers listing: giving it its listing day
        # would make a "day" of one paper for trending and the digest.
        paper.listed = None
        library.upsert_many([paper])
    except (HFError, RowError, StoreWriteError) as error:
        log.warning("looking up %s on Hugging Face failed: %s", paper_id, error)
        return None
    return library.get(paper.id)


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
