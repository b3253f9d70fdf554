"""`SearchEngine`: what `/papers QUERY` and `papers-bot search` both call.

It answers queries over the index `bot.search.upkeep.IndexKeeper` keeps current: the query
parsed, its words expanded (typos, aliases, acronyms), ranked by tantivy's BM25 with our
boosts, fused with search by meaning when on, and the papers read from the catalog.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import tantivy
from tantivy import Query

from bot.library import Library
from bot.models import Paper
from bot.search.analyzer import analyze
from bot.search.documents import FIELDS, field_texts
from bot.search.expansion import Alternative, Group
from bot.search.filters import paper_filter
from bot.search.index import PaperIndex
from bot.search.query import Note, ParsedQuery, parse_query
from bot.search.ranking import (
    LABEL_BITS,
    alternative_query,
    author_query,
    category_query,
    filtered,
    group_query,
    groups_query,
    labelled,
    phrase_query,
    ranked_query,
    since_query,
)
from bot.search.semantic import Semantic
from bot.search.semantic.fusion import DEPTH, LABEL, fuse, meaning_weight
from bot.search.upkeep import IndexKeeper

log = logging.getLogger(__name__)

TIE_MARGIN = 10  # extra hits read so that equal scores at the cut are ordered right
# `has:code` and `sort:cited` look at the papers themselves (their code link, their citation
# count), so they read this many of the best matches instead of the few shown; `sort:cited`
# orders those by citations (the rest of a huge match set is left out: README says so).
WIDE_DEPTH = 2_000
# Papers shown in results, kept decoded (a paper read from the catalog costs ~15 us of SQLite
# and JSON, more when its page is cold: a third of a query's time). Popular papers come up
# again and again; the memo is emptied whenever the index shows a newer catalog.
SHOWN_PAPERS = 2_000


@dataclass
class SearchResult:
    paper: Paper
    score: float
    matched: list[str] = field(default_factory=list)
    coverage: float = 1.0  # share of the query's words this paper matches


@dataclass
class SearchResponse:
    query: str
    results: list[SearchResult] = field(default_factory=list)
    # Said to the user instead of, or above, the results (`bot.render.search_text` words it).
    message: list[Note] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # what was changed about the query
    suggestions: list[str] = field(default_factory=list)
    total: int = 0
    paper_id: str | None = None  # the query named this arXiv id
    problem: str | None = None  # the query cannot be run (empty, no words, a bad since:)


@dataclass
class _Hit:
    num: int
    score: float
    full: bool  # matched every group of the query
    rank: int = 0  # `documents.IndexedPaper.rank`: upvotes, then date
    meant: bool = False  # found by meaning alone (no word of the query)

    def order(self) -> tuple[int, int, int]:
        """Best first: score (to 4 decimals, so float noise never splits a tie), then more
        upvotes, then the newer paper, then the first in the catalog (papers equal in all
        else would otherwise come in the order of the index's segments, which differs from
        build to build). Scores are positive: `int(x + 0.5)` rounds them, ten times faster
        than `round(x, 4)`, and it runs for every hit of every query."""
        return (-int(self.score * 10_000 + 0.5), -self.rank, self.num)


class SearchEngine:
    """Searches the library's index and keeps it in step with the catalog."""

    def __init__(
        self, library: Library, separate_builder: bool = False, semantic: Semantic | None = None
    ):
        """`separate_builder`: see `IndexKeeper`. `semantic`: search by meaning too (the
        `[semantic]` extra), for the queries `fusion.meaning_weight` lets through."""
        self.library = library
        self.semantic = semantic
        self.keeper = IndexKeeper(library, separate_builder)
        self._shown: dict[int, Paper] = {}  # num -> paper, as of `_shown_as_of`
        self._shown_as_of: tuple[int, int, int] = (-1, -1, -1)

    @property
    def index(self) -> PaperIndex:
        return self.keeper.current()

    def refresh(self, wait: bool = True) -> int:
        """Catch up with the catalog now (see `IndexKeeper.refresh`)."""
        return self.keeper.refresh(wait)

    def start_background_refresh(self, interval: float = 1.0) -> None:
        """Catch up with other processes' writes on a thread of its own, never in a request;
        with search by meaning, embed new papers on another."""
        if self.semantic is not None:
            self.semantic.start_background(self.library)
        self.keeper.start_background_refresh(interval)

    def stop_background_refresh(self) -> None:
        if self.semantic is not None:
            self.semantic.stop_background()
        self.keeper.stop_background_refresh()

    def close(self) -> None:
        """Let go of the index's files (the process goes on without searching)."""
        if self.semantic is not None:
            self.semantic.stop_background()
        self.keeper.close()

    def warm_up(self) -> None:
        """Load what the first typo would otherwise load (the English word list, rapidfuzz),
        and the embedding model the first search by meaning would (a second)."""
        from bot.search import dictionary

        self.refresh()
        dictionary.load()
        importlib.import_module("rapidfuzz.process")
        if self.semantic is not None:
            self.semantic.warm_up()

    # -- searching ---------------------------------------------------------------------------

    def search(self, raw_query: str, limit: int = 5, meaning: bool = True) -> SearchResponse:
        """`meaning=False`: by the words alone (follow alerts want papers that say it)."""
        parsed = parse_query(raw_query)
        response = SearchResponse(query=raw_query, notes=list(parsed.notes), problem=parsed.problem)
        if parsed.problem in ("empty", "no-words"):
            response.message = [Note("how-to" if parsed.problem == "empty" else "no-words")]
            return response
        if parsed.problem:
            response.message, response.notes = parsed.notes or [Note("how-to")], []
            return response
        self.keeper.maybe_refresh()
        if parsed.paper_id:
            return self._by_id(parsed, response)
        index = self.keeper.current()
        weight = meaning_weight(parsed) if meaning and self.semantic is not None else None
        return self._ranked(index, parsed, response, max(1, limit), weight)

    def _by_id(self, parsed: ParsedQuery, response: SearchResponse) -> SearchResponse:
        response.paper_id = parsed.paper_id
        paper = self.library.get(parsed.paper_id or "")
        if paper is None:
            response.message = [Note("not-in-library", parsed.paper_id or "")]
            return response
        response.results = [SearchResult(paper, 1.0, ["arXiv id"])]
        response.total = 1
        return response

    def word_share(self, term: str) -> float:
        """The share of the library's papers that have an analysed word (0 when empty)."""
        index = self.index
        return index.doc_freq(term) / max(len(index), 1)

    def has_words(self, text: str) -> bool:
        """Whether `text` has words search can match (not only stopwords or noise)."""
        return bool(self.index.expansion.groups_for(text))

    def _filters(self, index: PaperIndex, parsed: ParsedQuery) -> list[tantivy.Query]:
        filters = [author_query(index, name) for name in parsed.authors]
        filters += [q for q in (phrase_query(index, p) for p in parsed.phrases) if q is not None]
        if parsed.since:
            filters.append(since_query(index, parsed.since))
        filters += [category_query(index, category) for category in parsed.categories]
        return filters

    def _ranked(
        self,
        index: PaperIndex,
        parsed: ParsedQuery,
        response: SearchResponse,
        limit: int,
        weight: float | None = None,
    ) -> SearchResponse:
        groups = index.expansion.groups_for(parsed.text) if parsed.text else []
        if parsed.text and not groups:
            response.message = [Note("too-common")]
            return response
        wide = parsed.has_code or parsed.sort_cited
        fetch = max(limit + TIE_MARGIN, WIDE_DEPTH if wide else 0)
        if parsed.phrases and _only_phrase(parsed):
            # One quoted phrase and nothing else: the phrase query ranks by itself (its words
            # together), instead of scoring the words apart and filtering by the phrase.
            filters = self._filters(
                index,
                ParsedQuery(
                    text="",
                    authors=parsed.authors,
                    since=parsed.since,
                    categories=parsed.categories,
                ),
            )
            phrase = phrase_query(index, parsed.phrases[0]) or Query.empty_query()
            hits, response.total = self._hits(index, filtered(phrase, filters), fetch, True)
        elif groups:
            dense = self._nearest(parsed.text) if weight is not None else []
            if dense and weight is not None:
                hits, response.total = self._fused(index, groups, dense, weight, fetch)
            else:
                hits, response.total = self._scored(
                    index, groups, self._filters(index, parsed), fetch
                )
        else:
            filters = self._filters(index, parsed)
            hits, response.total = self._by_rank(index, filters, fetch)
        shown, kept = self._kept(hits, parsed, limit)
        if kept is not None:  # `has:code` counted what it let through, not the matches
            response.total = kept
        labels = self._labels(index, groups, [h for h, _ in shown]) if groups and shown else {}
        for hit, paper in shown:
            matched, coverage = labels.get(hit.num, ([], 1.0))
            matched = matched or ([LABEL] if hit.meant else [])
            response.results.append(
                SearchResult(paper, round(hit.score, 4), matched, 1.0 if hit.full else coverage)
            )
        if not response.results:
            note, response.suggestions = self._no_results(parsed, groups)
            response.message = [note]
        return response

    def _kept(
        self, hits: list[_Hit], parsed: ParsedQuery, limit: int
    ) -> tuple[list[tuple[_Hit, Paper]], int | None]:
        """The hits to show: those that pass the query's checks on the papers themselves
        (authors, `has:code`), most cited first with `sort:cited` (ties keep relevance); and,
        with `has:code`, how many of the hits read passed (the total to say)."""
        authors = paper_filter(parsed.authors)

        def check(paper: Paper) -> bool:
            return authors(paper) and (not parsed.has_code or paper.code_url is not None)

        if not (parsed.sort_cited or parsed.has_code):
            return self._papers(hits, check, limit), None
        every = self._papers(hits, check, len(hits))
        if parsed.sort_cited:
            every.sort(key=lambda shown: -(shown[1].citations or 0))
        return every[:limit], len(every) if parsed.has_code else None

    def _papers(
        self, hits: list[_Hit], check: Callable[[Paper], bool], limit: int
    ) -> list[tuple[_Hit, Paper]]:
        """The first `limit` hits that pass `check`, as papers: read only as many as shown."""
        shown: list[tuple[_Hit, Paper]] = []
        position = 0
        while len(shown) < limit and position < len(hits):
            chunk = hits[position : position + limit - len(shown)]
            position += len(chunk)
            papers = self._read_papers([h.num for h in chunk])
            shown += [(h, papers[h.num]) for h in chunk if h.num in papers and check(papers[h.num])]
        return shown

    def _read_papers(self, nums: list[int]) -> dict[int, Paper]:
        """Papers by index key, decoded once while the index shows the same catalog (a
        change, this process's or another's, empties the memo: see `SHOWN_PAPERS`). The
        papers are shared between answers: read them, never change them."""
        as_of = (*self.keeper.shows, self.library.catalog.generation)
        if as_of != self._shown_as_of:
            self._shown, self._shown_as_of = {}, as_of
        memo = self._shown
        missing = [n for n in nums if n not in memo]
        if missing:
            if len(memo) + len(missing) > SHOWN_PAPERS:
                memo = self._shown = {}
            memo.update(self.library.catalog.by_nums(missing))
        return {n: memo[n] for n in nums if n in memo}

    @staticmethod
    def _labels(
        index: PaperIndex, groups: list[Group], hits: list[_Hit]
    ) -> dict[int, tuple[list[str], float]]:
        """What each shown paper matched, and its share of the query. A paper that matched
        every group, each of one alternative, needs no look; otherwise the index is asked
        which shown papers have which alternatives (one small search, `ranking.labelled`)."""
        simple = all(len(g.alternatives) == 1 and not g.span for g in groups)
        if simple and all(hit.full for hit in hits):
            labels = [g.alternatives[0].label for g in groups]
            return {hit.num: (labels, 1.0) for hit in hits}
        nums = [hit.num for hit in hits]
        members: dict[int, set[int]] = {}
        present: list[tuple[Alternative, Query]] = []
        for alt in _alternatives(groups):
            members[id(alt)] = set()
            query = alternative_query(index, alt)
            if query is not None:
                present.append((alt, query))
        for start in range(0, len(present), LABEL_BITS):
            chunk = present[start : start + LABEL_BITS]
            query = labelled(index, nums, [q for _, q in chunk])
            found = index.searcher.search(query, len(nums), count=False)
            keys = index.searcher.fast_field_values("num", [address for _, address in found.hits])
            for (mask, _), num in zip(found.hits, keys, strict=True):
                for bit, (alt, _) in enumerate(chunk):
                    if int(mask) >> bit & 1:
                        members[id(alt)].add(int(num or 0))
        return {num: matched_labels(groups, _member_of(members, num)) for num in nums}

    def _scored(
        self,
        index: PaperIndex,
        groups: list[Group],
        filters: list[tantivy.Query],
        fetch: int,
    ) -> tuple[list[_Hit], int]:
        """Papers matching every group first, then those matching some, each by score."""
        hits: list[_Hit] = []
        total = 0
        every = ranked_query(index, groups, whole=True, filters=filters)
        if every is not None:
            hits, total = self._hits(index, every, fetch, full=True)
        # Some groups are enough where there are several, or a long form's words each count.
        partly = len(groups) > 1 or any(g.span for g in groups)
        if len(hits) < fetch - TIE_MARGIN and (partly or every is None):
            some = ranked_query(index, groups, whole=False, filters=filters)
            if some is None:
                return hits, total
            more, total = self._hits(index, some, fetch + len(hits), False)
            seen = {h.num for h in hits}
            hits += [h for h in more if h.num not in seen]
        return hits, total

    def _nearest(self, text: str) -> list[tuple[int, float]]:
        return self.semantic.nearest(text, DEPTH) if self.semantic is not None else []

    def _fused(
        self,
        index: PaperIndex,
        groups: list[Group],
        dense: list[tuple[int, float]],
        weight: float,
        fetch: int,
    ) -> tuple[list[_Hit], int]:
        """The word hits and the nearest papers by meaning, ranked by the fused score
        (`fusion.fuse`); the total counts the papers found either way."""
        lexical, total = self._scored(index, groups, [], max(fetch, DEPTH))
        shares = self._labels(index, groups, lexical) if lexical else {}
        fused = fuse(
            [(h.num, h.score, shares.get(h.num, ([], 1.0))[1]) for h in lexical], dense, weight
        )
        by_num = {h.num: h for h in lexical}
        hits = [
            _Hit(num, score, by_num[num].full, by_num[num].rank)
            if num in by_num
            else _Hit(num, score, False, meant=True)
            for num, score in fused.items()
        ]
        return sorted(hits, key=_Hit.order)[:fetch], total + sum(1 for h in hits if h.meant)

    def _hits(
        self, index: PaperIndex, query: tantivy.Query, fetch: int, full: bool
    ) -> tuple[list[_Hit], int]:
        searcher = index.searcher
        found = searcher.search(query, fetch, count=True)
        addresses = [address for _, address in found.hits]
        nums = searcher.fast_field_values("num", addresses)
        ranks = searcher.fast_field_values("rank", addresses)
        hits = [
            _Hit(int(num or 0), float(score), full, int(rank or 0))
            for (score, _), num, rank in zip(found.hits, nums, ranks, strict=True)
        ]
        return sorted(hits, key=_Hit.order), _count(found)

    def _by_rank(
        self, index: PaperIndex, filters: list[tantivy.Query], fetch: int
    ) -> tuple[list[_Hit], int]:
        """Filters only: the most upvoted matching papers, newest first among equals."""
        searcher = index.searcher
        found = searcher.search(filtered(None, filters), fetch, count=True, order_by_field="rank")
        addresses = [address for _, address in found.hits]
        nums = searcher.fast_field_values("num", addresses)
        return [_Hit(int(n or 0), 0.0, True) for n in nums], _count(found)  # in rank order

    def _no_results(self, parsed: ParsedQuery, groups: list[Group]) -> tuple[Note, list[str]]:
        suggestions = self.suggest(parsed.text)
        if parsed.text and not any(ch.isascii() and ch.isalpha() for ch in parsed.text):
            return Note("none-not-english"), suggestions
        if parsed.phrases:
            return Note("none-with-quotes"), suggestions
        if parsed.has_filters:
            return Note("none-with-filters"), suggestions
        return Note("none"), suggestions

    def suggest(self, text: str) -> list[str]:
        """Did-you-mean: library words close to what was typed, and acronyms that are near."""
        from rapidfuzz.distance import Levenshtein

        index = self.index
        out: list[str] = []
        for word in analyze(text):
            if index.has_term(word.whole):
                continue
            out.extend(index.expansion.near_words(word.surface, 2 if len(word.surface) < 8 else 3))
            if len(word.surface) <= 5:
                out.extend(
                    a.upper()
                    for a in index.lexicon.acronyms()
                    if a != word.surface and Levenshtein.distance(word.surface, a) <= 1
                )
        return list(dict.fromkeys(out))[:5]

    def more_like(self, paper_id: str, limit: int = 5) -> list[SearchResult]:
        """Papers that share a paper's most telling words (tf-idf over title, keywords and
        abstract)."""
        self.keeper.maybe_refresh()
        index = self.index
        paper = self.library.get(paper_id)
        if paper is None:
            return []
        groups = more_like_groups(index, paper)
        queries = [q for q in (group_query(index, g) for g in groups) if q is not None]
        if not queries:
            return []
        own = self.library.catalog.num_of(paper_id)
        hits, _ = self._hits(index, groups_query(queries, 1), limit + 1, full=False)
        hits = [h for h in hits if h.num != own][:limit]
        shown = self._papers(hits, lambda _: True, limit)
        labels = self._labels(index, groups, [h for h, _ in shown]) if shown else {}
        return [
            SearchResult(found, round(hit.score, 4), *_first_labels(labels.get(hit.num)))
            for hit, found in shown
        ]


# -- what a shown paper matched ------------------------------------------------------------


def _alternatives(groups: list[Group]) -> list[Alternative]:
    found: list[Alternative] = []
    for group in groups:
        found += group.alternatives
        found += _alternatives(group.span)
    return found


def _member_of(members: dict[int, set[int]], num: int) -> Callable[[Alternative], bool]:
    return lambda alt: num in members[id(alt)]


def _count(found: tantivy.SearchResult) -> int:
    # `count` is there at run time (tantivy-py 0.27: `SearchResult(hits, count)`); its type
    # stub leaves it out.
    return int(found.count or 0)  # type: ignore[attr-defined]


def _only_phrase(parsed: ParsedQuery) -> bool:
    typed = [w.whole for w in analyze(parsed.text)]
    return len(parsed.phrases) == 1 and typed == [w.whole for w in analyze(parsed.phrases[0])]


def matched_labels(
    groups: list[Group], matches: Callable[[Alternative], bool]
) -> tuple[list[str], float]:
    """(labels of the alternatives a paper matched, the share of the query it matched)."""
    labels: list[str] = []
    matched = 0.0
    weights = [max(1, len(g.span)) for g in groups]
    for group, weight in zip(groups, weights, strict=True):
        label = next((a.label for a in group.alternatives if matches(a)), None)
        if label is not None:
            labels.append(label)
            matched += weight
        elif group.span:
            inner, share = matched_labels(group.span, matches)
            labels.extend(inner)
            matched += share * weight
    return list(dict.fromkeys(labels)), matched / (sum(weights) or 1)


def _first_labels(labels: tuple[list[str], float] | None) -> tuple[list[str], float]:
    matched, coverage = labels or ([], 0.0)
    return matched[:4], coverage


def more_like_groups(index: PaperIndex, paper: Paper, count: int = 12) -> list[Group]:
    """The terms that best characterise a paper (tf-idf), each a group of its own."""
    weights: dict[str, float] = {}
    for name, text in field_texts(paper).items():
        if name == "authors":
            continue
        for word in analyze(text):
            weights[word.whole] = weights.get(word.whole, 0.0) + FIELDS[name]
    total = len(index)
    common = max(2, total * 0.2)
    scored = {}
    for term, weight in weights.items():
        df = index.doc_freq(term)
        if df and len(term) > 2 and df <= common:
            scored[term] = weight * index.idf(term)
    best = sorted(scored, key=lambda t: -scored[t])[:count]
    return [Group(index.surface_of(t), [Alternative((t,), 1.0, index.surface_of(t))]) for t in best]
