"""The check that needs a paper's text: author names, on the shown results.

The index narrows by author terms already (a word of a name, or its start); this makes the
answer exact where tokens cannot: "goldstein" must be one person's name, not two authors'.
Quoted phrases need no check here: the index matches them by word positions.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.models import Paper
from bot.text import fold


def paper_filter(authors: list[str]) -> Callable[[Paper], bool]:
    """A check of the author filters, on a paper's own author list."""

    def check(paper: Paper) -> bool:
        return all(author_matches(a, paper.authors) for a in authors)

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
