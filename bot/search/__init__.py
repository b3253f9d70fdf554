"""Search over the library: what `/papers QUERY` and `papers-bot search` both call."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bot.models import Paper
from bot.search.analyzer import WORD_RE, analyze, fold
from bot.search.index import Group, SearchIndex, more_like_groups
from bot.search.query import ParsedQuery, parse_query
from bot.store import Library

HOW_TO_SEARCH = (
    "Type what you remember of a paper: a topic (`speculative decoding`), an acronym (`kan`), "
    'part of a title, an arXiv id or URL, `author:NAME`, `since:2024-06`, or a "quoted phrase".'
)


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
    message: str | None = None  # shown to the user instead of, or above, the results
    notes: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    total: int = 0
    paper_id: str | None = None  # the query named this arXiv id

    @property
    def ok(self) -> bool:
        return bool(self.results)


class SearchEngine:
    """The library's search index, kept in step with the catalog (also across processes)."""

    def __init__(self, library: Library):
        self.library = library
        self.index = SearchIndex()
        self._lock = threading.RLock()
        self._signature: object = None
        self._versions: dict[str, str | None] = {}
        self.refresh()

    def refresh(self) -> None:
        """Bring the index up to date with the catalog: only changed papers are re-indexed."""
        with self._lock:
            signature = self.library.catalog_signature
            if signature == self._signature:
                return
            papers = self.library.papers()
            for paper_id in set(self._versions) - set(papers):
                self.index.remove(paper_id)
                del self._versions[paper_id]
            for paper in papers.values():
                if self._versions.get(paper.id, "missing") != paper.updated:
                    self.index.add(paper)
                    self._versions[paper.id] = paper.updated
            self._signature = signature

    def search(self, raw_query: str, limit: int = 5) -> SearchResponse:
        parsed = parse_query(raw_query)
        response = SearchResponse(query=raw_query, notes=list(parsed.notes))
        if parsed.problem in ("empty", "no-words"):
            response.message = (
                HOW_TO_SEARCH
                if parsed.problem == "empty"
                else f"There are no words to search for in that query. {HOW_TO_SEARCH}"
            )
            return response
        if parsed.problem:
            response.message = " ".join(parsed.notes) or HOW_TO_SEARCH
            response.notes = []
            return response
        with self._lock:
            self.refresh()
            if parsed.paper_id:
                return self._by_id(parsed, response)
            return self._ranked(parsed, response, max(1, limit))

    def _by_id(self, parsed: ParsedQuery, response: SearchResponse) -> SearchResponse:
        response.paper_id = parsed.paper_id
        paper = self.library.get(parsed.paper_id or "")
        if paper is None:
            response.message = f"arXiv {parsed.paper_id} is not in the library yet."
            return response
        response.results = [SearchResult(paper, 1.0, ["arXiv id"])]
        response.total = 1
        return response

    def _ranked(self, parsed: ParsedQuery, response: SearchResponse, limit: int) -> SearchResponse:
        groups = self.index.groups_for(parsed.text) if parsed.text else []
        if parsed.text and not groups:
            response.message = (
                "Those words are too common (or too long) to search for. " + HOW_TO_SEARCH
            )
            return response
        if groups:
            scores = self.index.score(groups)
            candidates = scores.keys()
        else:
            scores, candidates = {}, self.index.docs.keys()
        kept = self.index.slots_matching(candidates, parsed.phrases, parsed.authors, parsed.since)
        ranked = self.index.rank(scores, kept)
        response.total = len(ranked)
        for slot in ranked[:limit]:
            doc = self.index.docs[slot]
            matched = self.index.matched_labels(groups, slot) if groups else []
            coverage = self.index.coverage(groups, slot) if groups else 1.0
            response.results.append(
                SearchResult(doc.paper, round(scores.get(slot, 0.0), 4), matched, coverage)
            )
        if not response.results:
            response.message, response.suggestions = self._no_results(parsed, groups)
        return response

    def _no_results(self, parsed: ParsedQuery, groups: list[Group]) -> tuple[str, list[str]]:
        suggestions = self.suggest(parsed.text)
        if parsed.text and not any(ch.isascii() and ch.isalpha() for ch in parsed.text):
            return (
                "No papers match. The library's papers are in English: try English terms.",
                suggestions,
            )
        if parsed.has_filters or parsed.phrases:
            return ("No papers match all of that; try fewer filters or no quotes.", suggestions)
        return ("No papers match that query.", suggestions)

    def suggest(self, text: str) -> list[str]:
        """Did-you-mean: library words close to what was typed, and acronyms that are near."""
        out: list[str] = []
        for word in analyze(text):
            if self.index.has_term(word.whole):
                continue
            for near in self.index.near_words(word.surface, 2 if len(word.surface) < 8 else 3):
                out.append(near)
            for acronym in self.index.aliases.acronyms():
                if len(word.surface) <= 5 and _one_edit(word.surface, acronym):
                    out.append(acronym.upper())
        seen: dict[str, None] = {}
        for item in out:
            seen.setdefault(item, None)
        return list(seen)[:5]

    def more_like(self, paper_id: str, limit: int = 5) -> list[SearchResult]:
        with self._lock:
            self.refresh()
            groups = more_like_groups(self.index, paper_id)
            if not groups:
                return []
            scores = self.index.score(groups)
            own = self.index.slots.get(paper_id)
            ranked = [s for s in self.index.rank(scores, scores.keys()) if s != own][:limit]
            return [
                SearchResult(
                    self.index.docs[s].paper,
                    round(scores[s], 4),
                    self.index.matched_labels(groups, s)[:4],
                )
                for s in ranked
            ]


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b) <= 1


__all__ = ["SearchEngine", "SearchResponse", "SearchResult", "HOW_TO_SEARCH", "WORD_RE", "fold"]
