"""`SearchEngine`: what `/papers QUERY` and `papers-bot search` both call.

The index is derived data: built from the catalog, kept in step with it shard by shard (also
when another process wrote it), and saved to `PAPERS_DATA_DIR/index/search.npz` so that a new
process starts in a fraction of a second instead of re-analysing every paper. Delete the file
and it is rebuilt.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.library import Library, StoreError
from bot.models import Paper
from bot.search.analyzer import analyze
from bot.search.expansion import Group
from bot.search.filters import slot_filter
from bot.search.index import SearchIndex, analyse_paper, more_like_groups
from bot.search.persist import load_index, save_index
from bot.search.query import ParsedQuery, parse_query

log = logging.getLogger(__name__)

HOW_TO_SEARCH = (
    "Type what you remember of a paper: a topic (`speculative decoding`), an acronym (`kan`), "
    'part of a title, an arXiv id or URL, `author:NAME`, `since:2024-06`, or a "quoted phrase".'
)
INDEX_FILE = Path("index") / "search.npz"
REFRESH_BATCH = 200  # papers applied per hold of the index lock while catching up
# More changed papers than this are applied to a copy of the index, swapped in when ready.
IN_PLACE_LIMIT = 2_000
OLD_INDEX_FILES = ("search.idx",)  # pickles of earlier releases: removed once replaced


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
    problem: str | None = None  # the query cannot be run (empty, no words, a bad since:)


@dataclass
class _ShardPlan:
    """What catching up with one changed shard means: papers to (re)index, ids to drop."""

    key: str
    signature: object
    todo: list[Paper]
    gone: list[str]


class SearchEngine:
    """The library's search index, kept in step with the catalog (also across processes)."""

    def __init__(self, library: Library, persist: bool = True):
        self.library = library
        self.path = library.data_dir / INDEX_FILE if persist else None
        self._lock = threading.RLock()
        self._shards: dict[str, object] = {}  # shard -> the file signature indexed
        self._versions: dict[str, dict[str, str | None]] = {}  # shard -> paper -> `updated`
        self._dirty = False
        self._checked_at = 0.0
        self._generation = -1
        self._refresh_lock = threading.Lock()  # one catch-up at a time
        self._background: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        loaded = load_index(self.path) if self.path else None
        if loaded:
            self.index, catalog_state = loaded
            # JSON has no tuples: signatures come back as lists.
            self._shards = {k: tuple(v) for k, v in catalog_state["shards"].items()}
            self._versions = catalog_state["versions"]
        else:
            self.index = SearchIndex()
        self.refresh()
        if not loaded:
            self.save()

    @property
    def dirty(self) -> bool:
        return self._dirty

    def refresh(self, wait: bool = True) -> int:
        """Catch up with the catalog: re-index the papers of every shard that changed, also
        when another process wrote it. Returns how many papers changed.

        Searches go on meanwhile: a few changed papers are analysed outside the index's lock
        and applied in small batches; many (another process's import) go into a copy of the
        index that is swapped in when ready. With `wait=False` it returns at once when a
        refresh is already running (that one sees the same changes).
        """
        if not self._refresh_lock.acquire(blocking=wait):
            return 0
        try:
            changed = self._catch_up()
        finally:
            self._refresh_lock.release()
        if changed:
            self._dirty = True
        return changed

    def _catch_up(self) -> int:
        signatures = self.library.catalog.signatures()
        gone_shards = set(self._shards) - set(signatures)
        plans = [
            self._plan_shard(key, signature)
            for key, signature in signatures.items()
            if self._shards.get(key) != signature
        ]
        removals = [pid for key in gone_shards for pid in self._versions.get(key, {})]
        changed = len(removals) + sum(len(p.todo) + len(p.gone) for p in plans)
        if changed <= IN_PLACE_LIMIT:
            self._apply_in_place(plans, removals)
        else:
            self._apply_on_a_copy(plans, removals)
        with self._lock:
            for key in gone_shards:
                self._versions.pop(key, None)
                del self._shards[key]
            for plan in plans:
                versions = self._versions.setdefault(plan.key, {})
                versions.update({p.id: p.updated for p in plan.todo})
                for paper_id in plan.gone:
                    versions.pop(paper_id, None)
                self._shards[plan.key] = plan.signature
        return changed

    def _plan_shard(self, key: str, signature: object) -> _ShardPlan:
        papers = self.library.catalog.shard(key)  # parsed outside the index's lock
        known = self._versions.get(key, {})
        todo = [p for p in papers.values() if known.get(p.id, "missing") != p.updated]
        gone = [paper_id for paper_id in known if paper_id not in papers]
        return _ShardPlan(key, signature, todo, gone)

    def _apply_in_place(self, plans: list[_ShardPlan], removals: list[str]) -> None:
        """A few papers (a day's ingest): into the serving index, a batch per lock hold."""
        todo = [paper for plan in plans for paper in plan.todo]
        for start in range(0, len(todo), REFRESH_BATCH):
            batch = todo[start : start + REFRESH_BATCH]
            analysed = [analyse_paper(p) for p in batch]  # the slow part, unlocked
            with self._lock:
                for paper, words in zip(batch, analysed, strict=True):
                    self.index.add_analysed(paper, words)
        with self._lock:
            for paper_id in removals + [pid for plan in plans for pid in plan.gone]:
                self.index.remove(paper_id)

    def _apply_on_a_copy(self, plans: list[_ShardPlan], removals: list[str]) -> None:
        """Many papers (another process's import): searches keep the index they have, fast
        and compacted, while a copy takes the changes; then the copy is swapped in."""
        updated = self.index.clone()  # only this thread (holding _refresh_lock) mutates
        for plan in plans:
            for paper in plan.todo:
                updated.add_analysed(paper, analyse_paper(paper))
            for paper_id in plan.gone:
                updated.remove(paper_id)
        for paper_id in removals:
            updated.remove(paper_id)
        updated.compact()
        updated.warm_up()
        with self._lock:
            self.index = updated

    # -- catching up in the background (the serving bot) ---------------------------------

    def start_background_refresh(self, interval: float = 1.0) -> None:
        """Catch up with other processes' writes on a thread of its own, never in a request."""
        if self._background is not None:
            return
        self._stopping.clear()
        self._background = threading.Thread(
            target=self._refresh_loop, args=(interval,), name="index-refresh", daemon=True
        )
        self._background.start()

    def stop_background_refresh(self) -> None:
        thread, self._background = self._background, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join(timeout=30)

    def _refresh_loop(self, interval: float) -> None:
        while not self._stopping.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                changed = self.refresh()
            except Exception:  # a damaged file, a full disk: log, keep serving, try again
                log.exception("catching up with the catalog failed; the index serves as it is")
                continue
            if changed:
                log.info("the search index caught up with %d changed papers", changed)

    def save(self) -> None:
        """Persist the index (derived data: a failure is logged, never fatal)."""
        if self.path is None:
            return
        with self._refresh_lock, self._lock:  # compaction changes the index: no catch-up now
            try:
                self.path.parent.mkdir(exist_ok=True)
                state = {"shards": self._shards, "versions": self._versions}
                save_index(self.path, self.index, state)
                self._dirty = False
                for name in OLD_INDEX_FILES:
                    (self.path.parent / name).unlink(missing_ok=True)
            except (OSError, ValueError, StoreError) as error:
                log.warning("the search index was not saved (%s); it is rebuilt when needed", error)

    def warm_up(self) -> None:
        self.refresh()
        with self._lock:
            self.index.warm_up()

    def save_if_dirty(self) -> None:
        if self._dirty:
            self.save()

    def _maybe_refresh(self) -> None:
        # A stat of every shard per query is cheap, but not free at thousands of queries a
        # second; a tenth of a second of staleness is invisible to a person.
        now = time.monotonic()
        generation = self.library.catalog.generation
        if generation == self._generation and now - self._checked_at <= 0.1:
            return
        self._checked_at, self._generation = now, generation
        if self._background is not None:
            self._wake.set()  # the refresher catches up; this request never waits for it
        else:
            self.refresh()  # a one-shot process (the CLI): catch up now

    def search(self, raw_query: str, limit: int = 5) -> SearchResponse:
        parsed = parse_query(raw_query)
        response = SearchResponse(query=raw_query, notes=list(parsed.notes), problem=parsed.problem)
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
        self._maybe_refresh()
        with self._lock:
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

    def has_words(self, text: str) -> bool:
        """Whether `text` has words search can match (not only stopwords or noise)."""
        with self._lock:
            return bool(self.index.groups_for(text))

    def _required_terms(self, parsed: ParsedQuery) -> list[str]:
        """Terms every result must contain: the words of quoted phrases and author names."""
        terms = []
        for text in [*parsed.phrases, *parsed.authors]:
            for word in analyze(text):
                if self.index.has_term(word.whole):
                    terms.append(word.whole)
        return terms

    def _ranked(self, parsed: ParsedQuery, response: SearchResponse, limit: int) -> SearchResponse:
        groups = self.index.groups_for(parsed.text) if parsed.text else []
        if parsed.text and not groups:
            response.message = (
                "Those words are too common (or too long) to search for. " + HOW_TO_SEARCH
            )
            return response
        scores, coverage = self.index.score(groups) if groups else (None, None)
        order, total = self.index.ranked(scores, parsed.since, self._required_terms(parsed))
        check = slot_filter(self.index, self.library.get, parsed.phrases, parsed.authors)
        needs_text = bool(parsed.phrases or parsed.authors)
        for slot in order:
            paper = check(int(slot))
            if paper is None:
                continue
            score = float(scores[slot]) if scores is not None else 0.0
            matched = self.index.matched_labels(groups, int(slot)) if groups else []
            cover = float(coverage[slot]) if coverage is not None else 1.0
            response.results.append(SearchResult(paper, round(score, 4), matched, cover))
            if len(response.results) == limit:
                break
        # Phrases and author names are checked on the shown results only: the total is then
        # the number of papers that contain all the words.
        response.total = (
            total if not needs_text or len(response.results) == limit else len(response.results)
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
        if parsed.phrases:
            return ("No papers match all of that; try without the quotes.", suggestions)
        if parsed.has_filters:
            return ("No papers match all of that; try fewer filters.", suggestions)
        return ("No papers match that query.", suggestions)

    def suggest(self, text: str) -> list[str]:
        """Did-you-mean: library words close to what was typed, and acronyms that are near."""
        from rapidfuzz.distance import Levenshtein

        out: list[str] = []
        for word in analyze(text):
            if self.index.has_term(word.whole):
                continue
            out.extend(self.index.near_words(word.surface, 2 if len(word.surface) < 8 else 3))
            if len(word.surface) <= 5:
                out.extend(
                    a.upper()
                    for a in self.index.aliases.acronyms()
                    if a != word.surface and Levenshtein.distance(word.surface, a) <= 1
                )
        return list(dict.fromkeys(out))[:5]

    def more_like(self, paper_id: str, limit: int = 5) -> list[SearchResult]:
        self._maybe_refresh()
        with self._lock:
            paper = self.library.get(paper_id)
            if paper is None:
                return []
            groups = more_like_groups(self.index, paper)
            if not groups:
                return []
            scores, coverage = self.index.score(groups)
            own = self.index.slots.get(paper_id)
            if own is not None:
                scores[own] = 0
            order, _ = self.index.ranked(scores, None)
            results = []
            for slot in order[:limit]:
                found = self.library.get(self.index.ids[int(slot)] or "")
                if found is not None:
                    results.append(
                        SearchResult(
                            found,
                            round(float(scores[slot]), 4),
                            self.index.matched_labels(groups, int(slot))[:4],
                            float(coverage[slot]),
                        )
                    )
            return results
