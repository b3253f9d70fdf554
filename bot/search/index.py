"""A BM25F index over title, keywords, abstract and authors, in compact numpy postings.

Each term's postings are document slots and saturated, field-weighted term frequencies; the
IDF is applied at query time, so adding a paper touches only its own postings. Postings live
in one CSR block (offsets, slots, weights) plus small per-term lists for papers added since the
block was built; a removed paper is only marked dead until the next compaction. Scoring a term
is a numpy scatter into a dense score vector: milliseconds at 100,000 papers, and about 8 bytes
per posting instead of ~100 for dicts.

Query words become *groups* of alternatives (`expansion`); a document scores the best
alternative of each group and the groups add up, damped by the share of groups matched.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bot.models import Paper
from bot.search import dictionary
from bot.search.aliases import AliasTable, definitions_in
from bot.search.analyzer import WordTerms, analyze
from bot.search.expansion import Alternative, Group, QueryExpansion

# Field weights and length normalisation (BM25F). Titles say what a paper is about; keywords
# are curated; abstracts are long and wordy; author names matter when typed.
FIELDS: dict[str, tuple[float, float]] = {  # name -> (weight, b)
    "title": (3.0, 0.4),
    "keywords": (1.5, 0.3),
    "abstract": (1.0, 0.75),
    "authors": (1.0, 0.2),
}
FIELD_NAMES = tuple(FIELDS)
K1 = 1.2
RANK_POOL = 400  # candidates fully ordered (ties by upvotes, then date) per query


def _date_key(paper: Paper) -> int:
    digits = (paper.date or "").replace("-", "")[:8]
    return int(digits) if digits.isdigit() and len(digits) == 8 else 0


@dataclass(frozen=True)
class AnalysedPaper:
    """A paper's text as index terms, field by field, and the acronyms it defines."""

    fields: tuple[list[WordTerms], ...]  # in FIELD_NAMES order
    definitions: list[tuple[str, tuple[str, ...]]]


def analyse_paper(paper: Paper) -> AnalysedPaper:
    """The expensive, pure half of indexing a paper: safe to run on any thread, unlocked."""
    texts = field_texts(paper)
    return AnalysedPaper(
        tuple(analyze(texts[name]) for name in FIELD_NAMES),
        definitions_in(f"{paper.title}. {paper.abstract}"),
    )


def field_texts(paper: Paper) -> dict[str, str]:
    return {
        "title": paper.title,
        "keywords": " ; ".join(paper.ai_keywords),
        "abstract": paper.abstract,
        "authors": " ; ".join(paper.authors),
    }


class SearchIndex(QueryExpansion):
    def __init__(self) -> None:
        # documents
        self.ids: list[str | None] = []
        self.slots: dict[str, int] = {}
        self._upvotes: list[int] = []
        self._dates: list[int] = []
        self._alive: list[bool] = []
        self._lengths: list[tuple[int, ...]] = []
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # postings: a CSR block plus pending additions
        self._term_row: dict[str, int] = {}
        self._offsets = np.zeros(1, dtype=np.int64)
        self._post_slots = np.zeros(0, dtype=np.int32)
        self._post_weights = np.zeros(0, dtype=np.float32)
        self._pending: dict[str, tuple[list[int], list[float]]] = {}
        self._df: Counter[str] = Counter()
        self._dead = 0
        # vocabulary and aliases
        self.aliases = AliasTable()
        self._length_totals: Counter[str] = Counter()
        self._surface_df: Counter[str] = Counter()
        self._surface_term: dict[str, str] = {}
        self._term_surface: dict[str, str] = {}
        self._vocab_list: list[str] | None = None

    def clone(self) -> SearchIndex:
        """An independent copy to update on the side (numpy blocks are shared: they are
        replaced, never changed in place)."""
        other = SearchIndex()
        other.ids = list(self.ids)
        other.slots = dict(self.slots)
        other._upvotes = list(self._upvotes)
        other._dates = list(self._dates)
        other._alive = list(self._alive)
        other._lengths = list(self._lengths)
        other._term_row = dict(self._term_row)
        other._offsets, other._post_slots = self._offsets, self._post_slots
        other._post_weights = self._post_weights
        other._pending = {t: (list(s), list(w)) for t, (s, w) in self._pending.items()}
        other._df = Counter(self._df)
        other._dead = self._dead
        other.aliases = self.aliases.clone()
        other._length_totals = Counter(self._length_totals)
        other._surface_df = Counter(self._surface_df)
        other._surface_term = dict(self._surface_term)
        other._term_surface = dict(self._term_surface)
        return other

    # -- documents ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def size(self) -> int:
        return len(self.ids)

    def add_many(self, papers: Iterable[Paper]) -> None:
        for paper in papers:
            self.add(paper)

    def _avg_length(self, name: str) -> float:
        return max(1.0, self._length_totals[name] / max(1, len(self.slots)))

    def add(self, paper: Paper) -> None:
        """Index `paper`, replacing an earlier version of it."""
        self.add_analysed(paper, analyse_paper(paper))

    def add_analysed(self, paper: Paper, analysed: AnalysedPaper) -> None:
        """Index a paper whose text was analysed already (`analyse_paper`, which needs no
        index and so can run outside the index's lock): the cheap, mutating half of `add`."""
        self.remove(paper.id)
        slot = len(self.ids)
        weighted: defaultdict[str, float] = defaultdict(float)
        surfaces: set[str] = set()
        lengths = []
        for name, words in zip(FIELD_NAMES, analysed.fields, strict=True):
            lengths.append(len(words))
            self._length_totals[name] += len(words)
            weight, b = FIELDS[name]
            norm = 1 - b + b * len(words) / self._avg_length(name) if words else 1
            for word in words:
                if name != "authors":  # names are searchable, but no typo target
                    surfaces.update(self._learn_surfaces(word))
                weighted[word.whole] += weight / norm
                for part in word.parts:
                    weighted[part] += weight / norm
        for term, wtf in weighted.items():
            slots, weights = self._pending.setdefault(term, ([], []))
            slots.append(slot)
            weights.append(wtf * (K1 + 1) / (wtf + K1))
            self._df[term] += 1
        for surface in surfaces:
            if self._surface_df[surface] == 0:
                self._vocab_list = None
            self._surface_df[surface] += 1
        self.ids.append(paper.id)
        self.slots[paper.id] = slot
        self._upvotes.append(paper.upvotes)
        self._dates.append(_date_key(paper))
        self._alive.append(True)
        self._lengths.append(tuple(lengths))
        self._arrays = None
        self.aliases.add_found(paper.id, analysed.definitions)

    def _learn_surfaces(self, word: WordTerms) -> tuple[str, ...]:
        self._term_surface.setdefault(word.whole, word.surface)
        self._surface_term.setdefault(word.surface, word.whole)
        for piece, part in zip(word.pieces, word.parts, strict=False):
            self._term_surface.setdefault(part, piece)
            self._surface_term.setdefault(piece, part)
        return word.surfaces()

    def remove(self, paper_id: str) -> None:
        """Forget a paper: its slot is marked dead (its postings go at the next compaction).

        Document frequencies of its terms are not lowered (that would need its old text);
        compaction recomputes them. The typo vocabulary keeps its words: harmless.
        """
        slot = self.slots.pop(paper_id, None)
        if slot is None:
            return
        self._alive[slot] = False
        self._arrays = None
        self._dead += 1
        for name, length in zip(FIELD_NAMES, self._lengths[slot], strict=True):
            self._length_totals[name] -= length
        self.aliases.remove_document(paper_id)

    def doc_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(alive, upvotes, yyyymmdd) per slot, as numpy arrays."""
        if self._arrays is None or len(self._arrays[0]) != self.size:
            self._arrays = (
                np.array(self._alive, dtype=bool),
                np.array(self._upvotes, dtype=np.int64),
                np.array(self._dates, dtype=np.int64),
            )
        return self._arrays

    def warm_up(self) -> None:
        """Build the lazily made structures now (document arrays, typo vocabulary, the
        English word list that keeps real words from being "corrected")."""
        self.doc_arrays()
        self._vocabulary()
        dictionary.load()

    # -- postings ----------------------------------------------------------------------------

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        row = self._term_row.get(term)
        pending = self._pending.get(term)
        if row is not None:
            start, end = self._offsets[row], self._offsets[row + 1]
            slots, weights = self._post_slots[start:end], self._post_weights[start:end]
            if not pending:
                return slots, weights
            return (
                np.concatenate([slots, np.asarray(pending[0], dtype=np.int32)]),
                np.concatenate([weights, np.asarray(pending[1], dtype=np.float32)]),
            )
        if pending:
            return np.asarray(pending[0], dtype=np.int32), np.asarray(pending[1], dtype=np.float32)
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)

    def compact(self) -> None:
        """Fold pending postings into the CSR block and drop dead documents' postings."""
        alive = self.doc_arrays()[0]
        terms = sorted(set(self._term_row) | set(self._pending))
        slot_parts, weight_parts, offsets = [], [], [0]
        rows: dict[str, int] = {}
        df: Counter[str] = Counter()
        for term in terms:
            slots, weights = self.postings(term)
            if self._dead:
                keep = alive[slots]
                slots, weights = slots[keep], weights[keep]
            if len(slots) == 0:
                continue
            rows[term] = len(rows)
            df[term] = len(slots)
            slot_parts.append(slots)
            weight_parts.append(weights)
            offsets.append(offsets[-1] + len(slots))
        self._term_row, self._df = rows, df
        self._offsets = np.asarray(offsets, dtype=np.int64)
        self._post_slots = (
            np.concatenate(slot_parts).astype(np.int32) if slot_parts else np.zeros(0, np.int32)
        )
        self._post_weights = (
            np.concatenate(weight_parts).astype(np.float32)
            if weight_parts
            else np.zeros(0, np.float32)
        )
        self._pending = {}
        self._dead = 0

    # -- vocabulary --------------------------------------------------------------------------

    def idf(self, term: str) -> float:
        df = self._df.get(term, 0)
        n = len(self.slots)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def has_term(self, term: str) -> bool:
        return self._df.get(term, 0) > 0

    def surface_of(self, term: str) -> str:
        return self._term_surface.get(term, term)

    # -- scoring -----------------------------------------------------------------------------

    def _term_vector(self, term: str, factor: float) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        slots, weights = self.postings(term)
        if len(slots):
            scores[slots] = weights * np.float32(factor)
        return scores

    def _alternative_vector(self, alt: Alternative) -> np.ndarray | None:
        if not all(self.has_term(t) for t in alt.terms):
            return None
        vectors = [self._term_vector(t, self.idf(t)) for t in alt.terms]
        if len(vectors) == 1:
            return vectors[0] * np.float32(alt.weight)
        stacked = np.vstack(vectors)
        present = (stacked > 0).all(axis=0)
        return np.where(present, stacked.mean(axis=0) * np.float32(alt.weight), 0).astype(
            np.float32
        )

    def group_vector(self, group: Group) -> np.ndarray:
        best = np.zeros(self.size, dtype=np.float32)
        for alt in group.alternatives:
            vector = self._alternative_vector(alt)
            if vector is not None:
                np.maximum(best, vector, out=best)
        if group.span:
            summed = np.zeros(self.size, dtype=np.float32)
            for sub in group.span:
                summed += self.group_vector(sub)
            np.maximum(best, summed, out=best)
        return best

    def score(self, groups: list[Group]) -> tuple[np.ndarray, np.ndarray]:
        """(scores, coverage) per slot: the sum of group scores damped by missed groups."""
        totals = np.zeros(self.size, dtype=np.float32)
        matched = np.zeros(self.size, dtype=np.float32)
        weights = [max(1, len(g.span)) for g in groups]
        for group, weight in zip(groups, weights, strict=True):
            vector = self.group_vector(group)
            totals += vector
            matched += (vector > 0) * np.float32(weight)
        coverage = matched / np.float32(sum(weights) or 1)
        scores = totals * coverage
        scores[~self.doc_arrays()[0]] = 0
        return scores, coverage

    def presence(self, term: str) -> np.ndarray:
        """A boolean vector: which slots contain `term`."""
        mask = np.zeros(self.size, dtype=bool)
        slots, _ = self.postings(term)
        mask[slots] = True
        return mask

    def ranked(
        self,
        scores: np.ndarray | None,
        since: str | None,
        required: Iterable[str] = (),
        pool: int = RANK_POOL,
    ) -> tuple[np.ndarray, int]:
        """(candidate slots best first, how many candidates in all).

        Ties go to more upvotes, then the newer paper; at most `pool` scored candidates are
        ordered. Without scores (filters only) the order is most upvoted, then newest.
        `required` terms must all be present (a cheap pre-filter for phrases and authors).
        """
        alive, upvotes, dates = self.doc_arrays()
        mask = alive.copy()
        if scores is not None:
            mask &= scores > 0
        if since:
            mask &= dates >= int(since.replace("-", ""))
        for term in required:
            mask &= self.presence(term)
        candidates = np.flatnonzero(mask)
        total = len(candidates)
        if scores is None:
            order = np.lexsort((-dates[candidates], -upvotes[candidates]))
            return candidates[order], total
        values = np.round(scores[candidates].astype(np.float64), 6)
        if len(candidates) > pool:
            threshold = np.partition(values, -pool)[-pool]
            keep = values >= threshold
            candidates, values = candidates[keep], values[keep]
        order = np.lexsort((-dates[candidates], -upvotes[candidates], -values))
        return candidates[order], total

    def matched_labels(self, groups: list[Group], slot: int) -> list[str]:
        labels = []
        for group in groups:
            best, best_label = 0.0, None
            for alt in group.alternatives:
                value = self._alternative_value(alt, slot)
                if value > best:
                    best, best_label = value, alt.label
            if group.span and best_label is None:
                labels.extend(self.matched_labels(group.span, slot))
            elif best_label:
                labels.append(best_label)
        return list(dict.fromkeys(labels))  # `kan kan KAN` matched one word, shown once

    def _alternative_value(self, alt: Alternative, slot: int) -> float:
        values = []
        for term in alt.terms:
            slots, weights = self.postings(term)
            hits = np.flatnonzero(slots == slot)
            if not len(hits):
                return 0.0
            values.append(self.idf(term) * float(weights[hits[0]]))
        return alt.weight * sum(values) / len(values)

    def top_terms(self, paper: Paper, count: int = 12) -> list[str]:
        """The terms that best characterise a paper (tf-idf), for "More like this"."""
        weights: defaultdict[str, float] = defaultdict(float)
        for name, text in field_texts(paper).items():
            if name == "authors":
                continue
            for word in analyze(text):
                weights[word.whole] += FIELDS[name][0]
        common = len(self.slots) * 0.2
        scored = {
            t: w * self.idf(t)
            for t, w in weights.items()
            if self.has_term(t) and len(t) > 2 and self._df[t] <= max(2, common)
        }
        return sorted(scored, key=lambda t: -scored[t])[:count]


def more_like_groups(index: SearchIndex, paper: Paper) -> list[Group]:
    return [
        Group(index.surface_of(t), [Alternative((t,), 1.0, index.surface_of(t))])
        for t in index.top_terms(paper)
    ]
