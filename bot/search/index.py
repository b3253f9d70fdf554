"""An in-memory BM25F index over title, keywords, abstract and authors.

Postings map a term to {document slot: saturated, field-weighted term frequency}; the IDF is
applied at query time, so adding or removing one paper touches only that paper's postings.
Query words become *groups* of alternatives (the word itself, its hyphen/camel parts, a typo
correction, an acronym's long form); a document scores the best alternative of each group, and
the groups add up. Exact terms always come first: a typo or an alias never outranks the word
that was actually typed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.models import Paper
from bot.search.aliases import AliasTable, long_form_terms
from bot.search.analyzer import analyze, analyze_word, fold, phrase_text, stem

# Field weights and length normalisation (BM25F). Titles say what a paper is about; keywords
# are curated; abstracts are long and wordy; author names matter when typed.
FIELDS: dict[str, tuple[float, float]] = {  # name -> (weight, b)
    "title": (3.0, 0.4),
    "keywords": (1.5, 0.3),
    "abstract": (1.0, 0.75),
    "authors": (1.0, 0.2),
}
K1 = 1.2
TYPO_WEIGHT = 0.9
PARTS_WEIGHT = 0.9
ALIAS_WEIGHT = 0.85
MIN_TYPO_LENGTH = 4


@dataclass
class Alternative:
    terms: tuple[str, ...]  # all must be present
    weight: float
    label: str  # what the user sees in "matched: ..."


@dataclass
class Group:
    word: str  # what the user typed
    alternatives: list[Alternative]
    span: list[Group] = field(default_factory=list)  # a long form typed out: its word groups
    key: tuple[str, ...] = ()  # the stemmed pieces, in order, for spotting long forms
    corrected: str | None = None  # the library's word, when what was typed was a typo

    @property
    def shown(self) -> str:
        return self.corrected or self.word


@dataclass
class Hit:
    paper_id: str
    score: float
    matched: list[str]


@dataclass
class _Doc:
    paper: Paper
    terms: tuple[str, ...]
    year_day: int  # YYYYMMDD, for newest-first ties


def _date_key(paper: Paper) -> int:
    date = paper.date or ""
    digits = date.replace("-", "")[:8]
    return int(digits) if digits.isdigit() and len(digits) == 8 else 0


def field_texts(paper: Paper) -> dict[str, str]:
    return {
        "title": paper.title,
        "keywords": " ; ".join(paper.ai_keywords),
        "abstract": paper.abstract,
        "authors": " ; ".join(paper.authors),
    }


class SearchIndex:
    def __init__(self) -> None:
        self.postings: dict[str, dict[int, float]] = {}
        self.docs: dict[int, _Doc] = {}
        self.slots: dict[str, int] = {}
        self.aliases = AliasTable()
        self._next_slot = 0
        self._length_totals: Counter[str] = Counter()
        self._surface_df: Counter[str] = Counter()  # folded surface word -> documents
        self._surface_term: dict[str, str] = {}
        self._term_surface: dict[str, str] = {}
        self._vocab_list: list[str] | None = None

    # -- building --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.docs)

    def add_many(self, papers: Iterable[Paper]) -> None:
        for paper in papers:
            self.add(paper)

    def _avg_length(self, name: str) -> float:
        return max(1.0, self._length_totals[name] / max(1, len(self.docs)))

    def add(self, paper: Paper) -> None:
        """Index `paper`, replacing an earlier version of it."""
        self.remove(paper.id)
        slot = self._next_slot
        self._next_slot += 1
        weighted: Counter[str] = Counter()
        surfaces: set[str] = set()
        lengths: dict[str, int] = {}
        for name, text in field_texts(paper).items():
            analysed = analyze(text)
            lengths[name] = len(analysed)
            self._length_totals[name] += len(analysed)
            weight, b = FIELDS[name]
            norm = 1 - b + b * len(analysed) / self._avg_length(name) if analysed else 1
            for word in analysed:
                if name != "authors":  # names are searchable, but no typo target
                    surfaces.update(self._learn_surfaces(word))
                weighted[word.whole] += weight / norm
                for part in word.parts:
                    if part != word.whole:
                        weighted[part] += weight / norm
        for term, wtf in weighted.items():
            self.postings.setdefault(term, {})[slot] = wtf * (K1 + 1) / (wtf + K1)
        for surface in surfaces:
            if self._surface_df[surface] == 0:
                self._vocab_list = None
            self._surface_df[surface] += 1
        self.docs[slot] = _Doc(paper, tuple(weighted), _date_key(paper))
        self.slots[paper.id] = slot
        self.aliases.add_document(paper.id, f"{paper.title}. {paper.abstract}")

    def _learn_surfaces(self, word) -> tuple[str, ...]:  # noqa: ANN001 - WordTerms
        self._term_surface.setdefault(word.whole, word.surface)
        self._surface_term.setdefault(word.surface, word.whole)
        for piece, part in zip(word.pieces, word.parts, strict=False):
            self._term_surface.setdefault(part, piece)
            self._surface_term.setdefault(piece, part)
        return word.surfaces()

    def _surfaces_of(self, paper: Paper) -> set[str]:
        return {
            surface
            for name, text in field_texts(paper).items()
            if name != "authors"
            for word in analyze(text)
            for surface in word.surfaces()
        }

    def remove(self, paper_id: str) -> None:
        slot = self.slots.pop(paper_id, None)
        if slot is None:
            return
        doc = self.docs.pop(slot)
        for term in doc.terms:
            posting = self.postings.get(term)
            if posting is not None:
                posting.pop(slot, None)
                if not posting:
                    del self.postings[term]
        for name, text in field_texts(doc.paper).items():
            self._length_totals[name] -= len(analyze(text))
        for word in self._surfaces_of(doc.paper):
            self._surface_df[word] -= 1
            if self._surface_df[word] <= 0:
                del self._surface_df[word]
                self._vocab_list = None
        self.aliases.remove_document(paper_id)

    # -- vocabulary ------------------------------------------------------------------------

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        n = len(self.docs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def has_term(self, term: str) -> bool:
        return term in self.postings

    def surface_of(self, term: str) -> str:
        return self._term_surface.get(term, term)

    def _vocabulary(self) -> list[str]:
        if self._vocab_list is None:
            self._vocab_list = [w for w in self._surface_df if len(w) >= 3 and w.isalpha()]
        return self._vocab_list

    def near_words(self, word: str, max_distance: int, limit: int = 3) -> list[str]:
        """Library words within `max_distance` edits of `word`, closest and commonest first."""
        if len(word) < MIN_TYPO_LENGTH or not word.isalpha():
            return []
        matches = process.extract(
            word,
            self._vocabulary(),
            scorer=Levenshtein.distance,
            score_cutoff=max_distance,
            limit=20,
        )
        ranked = sorted(
            (m for m in matches if m[0] != word),
            key=lambda m: (m[1], m[0][0] != word[0], -self._surface_df[m[0]]),
        )
        # Only the closest candidates: `difusion` means diffusion (1 edit), not fusion (2).
        closest = [m for m in ranked if m[1] == ranked[0][1]] if ranked else []
        return [m[0] for m in closest[:limit]]

    # -- query groups ----------------------------------------------------------------------

    def groups_for(self, text: str) -> list[Group]:
        groups = [g for g in (self._group_for_word(w) for w in analyze(text)) if g]
        return self._with_long_form_spans(groups)

    def _group_for_word(self, word) -> Group | None:  # noqa: ANN001 - WordTerms
        alternatives: list[Alternative] = []
        if self.has_term(word.whole):
            alternatives.append(Alternative((word.whole,), 1.0, word.surface))
        if word.parts and all(self.has_term(p) for p in word.parts):
            alternatives.append(Alternative(word.parts, PARTS_WEIGHT, word.surface))
        key = word.sequence
        corrected = None
        if not alternatives:
            alternatives.extend(self._typo_alternatives(word.surface))
            if alternatives:
                key = alternatives[0].terms
                corrected = self.surface_of(key[0])
        if not alternatives and not word.parts:
            alternatives.extend(self._split_alternatives(word.surface))
        for long_form in self.aliases.long_forms(word.whole):
            if all(self.has_term(t) for t in long_form):
                label = (
                    f"{word.surface.upper()} = {' '.join(self.surface_of(t) for t in long_form)}"
                )
                alternatives.append(Alternative(long_form, ALIAS_WEIGHT, label))
        if not alternatives:
            # Nothing in the library: keep the group so coverage counts it as missed.
            alternatives.append(Alternative((word.whole,), 1.0, word.surface))
        return Group(word.surface, alternatives, key=key, corrected=corrected)

    def _typo_alternatives(self, surface: str) -> list[Alternative]:
        max_distance = 1 if len(surface) < 8 else 2
        out = []
        for near in self.near_words(surface, max_distance, limit=2):
            term = self._surface_term.get(near)
            if term and self.has_term(term):
                out.append(Alternative((term,), TYPO_WEIGHT, f"{surface} → {near}"))
        return out

    def _split_alternatives(self, surface: str) -> list[Alternative]:
        """`multiagent` typed as one word where the library writes `multi agent`."""
        out = []
        for cut in range(3, len(surface) - 2):
            left, right = stem(surface[:cut]), stem(surface[cut:])
            if self.has_term(left) and self.has_term(right):
                label = f"{surface[:cut]} {surface[cut:]}"
                out.append(Alternative((left, right), PARTS_WEIGHT, label))
        return out[:1]

    def _with_long_form_spans(self, groups: list[Group]) -> list[Group]:
        """Words that spell an acronym's long form also match the bare acronym."""
        out: list[Group] = []
        i = 0
        while i < len(groups):
            for j in range(len(groups), i, -1):
                span = groups[i:j]
                terms = tuple(t for g in span for t in g.key)
                acronyms = [
                    a
                    for a in self.aliases.acronyms_for(terms)
                    if self.has_term(a) and a not in terms
                ]
                if acronyms:
                    typed = " ".join(g.shown for g in span)
                    alts = [
                        Alternative((a,), ALIAS_WEIGHT * len(span), f"{typed} = {a.upper()}")
                        for a in acronyms
                    ]
                    out.append(Group(typed, alts, span=span))
                    i = j
                    break
            else:
                out.append(groups[i])
                i += 1
        return out

    # -- scoring ---------------------------------------------------------------------------

    def _alternative_scores(self, alt: Alternative) -> dict[int, float]:
        postings = [self.postings.get(t) for t in alt.terms]
        if not all(postings):
            return {}
        idfs = [self.idf(t) for t in alt.terms]
        if len(postings) == 1:
            factor = alt.weight * idfs[0]
            return {slot: factor * s for slot, s in postings[0].items()}  # type: ignore[union-attr]
        order = sorted(range(len(postings)), key=lambda k: len(postings[k]))  # type: ignore[arg-type]
        common = set(postings[order[0]])  # type: ignore[arg-type]
        for k in order[1:]:
            common &= postings[k].keys()  # type: ignore[union-attr]
        n = len(postings)
        return {
            slot: alt.weight * sum(idfs[k] * postings[k][slot] for k in range(n)) / n  # type: ignore[index]
            for slot in common
        }

    def group_scores(self, group: Group) -> dict[int, float]:
        best: dict[int, float] = {}
        for alt in group.alternatives:
            for slot, value in self._alternative_scores(alt).items():
                if value > best.get(slot, 0.0):
                    best[slot] = value
        if group.span:
            summed: Counter[int] = Counter()
            for sub in group.span:
                summed.update(self.group_scores(sub))
            for slot, value in summed.items():
                if value > best.get(slot, 0.0):
                    best[slot] = value
        return best

    def score(self, groups: list[Group]) -> dict[int, float]:
        """Document slot -> score: the sum of group scores, damped by missed groups."""
        totals: Counter[int] = Counter()
        matched: Counter[int] = Counter()
        weights = [max(1, len(g.span)) for g in groups]
        for group, weight in zip(groups, weights, strict=True):
            for slot, value in self.group_scores(group).items():
                totals[slot] += value
                matched[slot] += weight
        total_weight = sum(weights) or 1
        return {slot: value * (matched[slot] / total_weight) for slot, value in totals.items()}

    def coverage(self, groups: list[Group], slot: int) -> float:
        """The share of the query's groups (by weight) that this document matches."""
        weights = [max(1, len(g.span)) for g in groups]
        hit = sum(
            w
            for g, w in zip(groups, weights, strict=True)
            if any(self._alternative_scores_for(a, slot) > 0 for a in g.alternatives)
            or (g.span and self.coverage(g.span, slot) == 1.0)
        )
        return hit / (sum(weights) or 1)

    def matched_labels(self, groups: list[Group], slot: int) -> list[str]:
        labels = []
        for group in groups:
            best, best_label = 0.0, None
            for alt in group.alternatives:
                value = self._alternative_scores_for(alt, slot)
                if value > best:
                    best, best_label = value, alt.label
            if group.span and best_label is None:
                labels.extend(self.matched_labels(group.span, slot))
                continue
            if best_label:
                labels.append(best_label)
        return labels

    def _alternative_scores_for(self, alt: Alternative, slot: int) -> float:
        values = []
        for term in alt.terms:
            posting = self.postings.get(term)
            if not posting or slot not in posting:
                return 0.0
            values.append(self.idf(term) * posting[slot])
        return alt.weight * sum(values) / len(values)

    # -- filters and ranking ---------------------------------------------------------------

    def slots_matching(
        self,
        candidates: Iterable[int],
        phrases: list[str],
        authors: list[str],
        since: str | None,
    ) -> list[int]:
        folded_phrases = [phrase_text(p) for p in phrases]
        since_key = int(since.replace("-", "")) if since else 0
        kept = []
        for slot in candidates:
            doc = self.docs[slot]
            if since_key and doc.year_day < since_key:
                continue
            if authors and not all(_author_matches(a, doc.paper.authors) for a in authors):
                continue
            if folded_phrases:
                texts = [phrase_text(t) for t in field_texts(doc.paper).values()]
                if not all(any(p in text for text in texts) for p in folded_phrases):
                    continue
            kept.append(slot)
        return kept

    def rank(self, scores: dict[int, float], slots: Iterable[int]) -> list[int]:
        """Best first; ties go to more upvotes, then the newer paper."""
        return sorted(
            slots,
            key=lambda s: (
                -round(scores.get(s, 0.0), 9),
                -self.docs[s].paper.upvotes,
                -self.docs[s].year_day,
                self.docs[s].paper.id,
            ),
        )

    def top_terms(self, paper_id: str, count: int = 12) -> list[str]:
        """The terms that best characterise a paper (tf-idf), for "More like this"."""
        slot = self.slots.get(paper_id)
        if slot is None:
            return []
        doc = self.docs[slot]
        weights = {t: self.postings[t][slot] * self.idf(t) for t in doc.terms if t in self.postings}
        common = len(self.docs) * 0.2
        ranked = sorted(
            (t for t in weights if len(self.postings[t]) <= max(2, common) and len(t) > 2),
            key=lambda t: -weights[t],
        )
        return ranked[:count]


def _author_matches(wanted: str, authors: list[str]) -> bool:
    wanted_words = wanted.replace(".", " ").split()
    for author in authors:
        words = fold(author).replace(".", " ").replace("-", " ").split()
        if all(
            any(w == a or (len(w) >= 3 and a.startswith(w)) for a in words) for w in wanted_words
        ):
            return True
    return False


def more_like_groups(index: SearchIndex, paper_id: str) -> list[Group]:
    return [
        Group(index.surface_of(t), [Alternative((t,), 1.0, index.surface_of(t))])
        for t in index.top_terms(paper_id)
    ]


__all__ = ["SearchIndex", "Group", "Alternative", "Hit", "more_like_groups", "long_form_terms"]
_ = analyze_word
