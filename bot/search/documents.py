"""A paper as the search index stores it: analysed field tokens, filter values, side facts.

`prepare` is pure and needs no index, so the build runs it in worker processes and catching up
runs it outside any lock. It is also where "what is a paper to search" is decided: the fields
and their weights, the date a `since:` filter sees, the acronyms a paper defines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import chain, repeat
from operator import add
from typing import NamedTuple

from bot.models import Paper
from bot.search.aliases import definitions_in
from bot.search.analyzer import analyze_word, index_tokens, words_of

# Field weights: titles say what a paper is about; keywords are curated; abstracts are long and
# wordy; author names matter when typed. They are written into one `text` field as repeats
# (BM25F): a term's frequencies add up across fields before BM25 saturates them once, so a
# title word counts more without a title match drowning everything else (separate per-field
# BM25 scores, summed, give a title word up to three saturated scores). One field is also one
# posting list per term: faster queries.
FIELDS: dict[str, float] = {"title": 3.0, "keywords": 1.5, "abstract": 1.0, "authors": 1.0}
REPEATS: dict[str, int] = {"title": 3, "keywords": 2, "abstract": 1, "authors": 1}
SEPARATOR = "|"  # between fields and repeats: no query term is "|", so no phrase straddles two
# A title word also earns a small bonus of its own: BM25F over one field normalises a title
# word by the whole paper's length, where a title is what a paper is about (judged set nDCG@10
# 0.976 without, 0.982 with: "activation functions" finds the papers titled so first).
TITLE_BONUS = 0.2
TYPO_FIELDS = ("title", "keywords", "abstract")  # names are searchable, but no typo target
RANK_DATE = 100_000_000  # rank = upvotes * RANK_DATE + yyyymmdd: most upvoted, then newest


def date_key(paper: Paper) -> int:
    """The paper's date as yyyymmdd (0 when unknown)."""
    digits = (paper.date or "").replace("-", "")[:8]
    return int(digits) if digits.isdigit() and len(digits) == 8 else 0


def field_texts(paper: Paper) -> dict[str, str]:
    return {
        "title": paper.title,
        "keywords": " ; ".join(paper.ai_keywords),
        "abstract": paper.abstract,
        "authors": " ; ".join(paper.authors),
    }


class IndexedPaper(NamedTuple):
    """A tuple, not a dataclass: the build's workers send a million of them back (pickled)."""

    num: int  # the catalog's key for the paper
    text: str  # analysed tokens of every field, weighted by repeats (`REPEATS`)
    title: str  # the title's tokens
    authors: str  # the authors' tokens
    date: int
    upvotes: int
    definitions: list[tuple[str, tuple[str, ...]]]  # (acronym term, long-form terms)
    pieces: set[str]  # distinct pieces of title, keywords and abstract (`analyzer.pieces`)
    categories: str = ""  # arXiv's categories, lower-cased, space-separated (`cat:`)

    @property
    def rank(self) -> int:
        return max(0, self.upvotes) * RANK_DATE + self.date


def prepare(num: int, paper: Paper) -> IndexedPaper:
    copies: list[str] = []
    pieces: set[str] = set()
    authors = title = ""
    for name, text in field_texts(paper).items():
        analysed, found = index_tokens(text)
        if name in TYPO_FIELDS:
            pieces.update(found)
        if name == "authors":
            authors = analysed
        if name == "title":
            title = analysed
        if analysed:
            copies += [analysed] * REPEATS[name]
    return IndexedPaper(
        num=num,
        text=f" {SEPARATOR} ".join(copies),
        title=title,
        authors=authors,
        date=date_key(paper),
        upvotes=max(0, paper.upvotes),
        definitions=definitions_in(f"{paper.title}. {paper.abstract}"),
        pieces=pieces,
        categories=" ".join(category_term(c) for c in paper.categories),
    )


def category_term(category: str) -> str:
    """How a category is indexed and asked for: `cs.LG`, `cs.lg` and `CS.LG` are one."""
    return category.strip().lower()


class Vocabulary:
    """Folded library words -> how many papers use them, and the index term of each.

    `add` only counts each paper's distinct pieces (in C); they become words when `counts` or
    `terms` are read, or at `settle`: once per distinct piece for a build worker's whole share,
    where turning each batch's pieces into words repeated the look-ups of common pieces in
    every batch (at a million papers, millions of Python steps per worker).
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._terms: dict[str, str] = {}
        self._pieces: Counter[str] = Counter()  # counted since the last `settle`

    def add(self, papers: Iterable[IndexedPaper]) -> None:
        # Counted in a small Counter of the batch, then added to the whole count in C (a
        # build worker's whole count holds a million pieces; ~150 a paper are counted).
        _add_counts(self._pieces, Counter(chain.from_iterable(paper.pieces for paper in papers)))

    def settle(self) -> None:
        """Turn the pieces counted so far into words (a build worker does it once, before it
        saves its words: `lexicon.save_words`)."""
        if not self._pieces:
            return
        counts, terms = self._counts, self._terms
        count_of, first_term = counts.get, terms.setdefault  # (a Counter's `+=` on a new
        for piece, count in self._pieces.items():  # word calls `__missing__` in Python)
            # A piece of letters and digits only is one word (most are): no regex to find it.
            for word in (piece,) if piece.isalnum() else words_of(piece):
                found = analyze_word(word)
                if found is None:
                    continue
                # What typo correction may suggest: the folded word and each of its parts.
                counts[found.surface] = count_of(found.surface, 0) + count
                first_term(found.surface, found.whole)
                for surface, term in zip(found.pieces, found.parts, strict=False):
                    counts[surface] = count_of(surface, 0) + count
                    first_term(surface, term)
        self._pieces = Counter()

    @property
    def counts(self) -> Counter[str]:
        self.settle()
        return self._counts

    @property
    def terms(self) -> dict[str, str]:
        self.settle()
        return self._terms

    def rows(self) -> list[tuple[str, str, int]]:
        """(surface, term, papers) of every word, in surface order (as the lexicon stores
        them: each row lands at the end of the table's tree)."""
        counts, terms = self.counts, self.terms
        surfaces = sorted(counts)
        return list(
            zip(
                surfaces,
                map(terms.__getitem__, surfaces),
                map(counts.__getitem__, surfaces),
                strict=True,
            )
        )


def _add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    if not total:
        dict.update(total, more)
        return
    keys = list(more)
    sums = map(add, map(total.get, keys, repeat(0)), more.values())
    dict.update(total, zip(keys, sums, strict=True))
