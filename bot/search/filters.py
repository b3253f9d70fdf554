"""Checks that need a paper's text: quoted phrases and author names, on the shown results."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.models import Paper
from bot.search.index import SearchIndex, field_texts
from bot.text import fold


def slot_filter(
    index: SearchIndex,
    get_paper: Callable[[str], Paper | None],
    phrases: list[str],
    authors: list[str],
) -> Callable[[int], Paper | None]:
    """A check of the filters that need a paper's text; returns the paper when it passes."""
    # A phrase matches its words in order, separated only by non-word characters: one
    # compiled regex per phrase, run on the raw field text (a few microseconds a field).
    patterns = [
        re.compile(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])", re.I)
        for words in (re.findall(r"[^\W_]+", fold(p)) for p in phrases)
        if words
    ]

    def check(slot: int) -> Paper | None:
        paper_id = index.ids[slot]
        paper = get_paper(paper_id) if paper_id else None
        if paper is None:
            return None
        if authors and not all(author_matches(a, paper.authors) for a in authors):
            return None
        if patterns:
            texts = field_texts(paper).values()  # the patterns ignore case
            if not all(any(p.search(text) for text in texts) for p in patterns):
                return None
        return paper

    return check


def author_matches(wanted: str, authors: list[str]) -> bool:
    wanted_words = wanted.replace(".", " ").split()
    for author in authors:
        words = fold(author).replace(".", " ").replace("-", " ").split()
        if all(
            any(w == a or (len(w) >= 3 and a.startswith(w)) for a in words) for w in wanted_words
        ):
            return True
    return False
