"""Query words -> groups of alternatives, the way researchers type.

A word becomes a *group*: the word itself, its hyphen/camelCase parts, a typo correction
(against the library's own words), a split of a glued word, an acronym's long form; a typed
long form also matches its bare acronym. The ranking scores the best alternative of each group.
Exact terms always come first: a typo or an alias never outranks the word that was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.search.analyzer import WordTerms, analyze, stem
from bot.search.dictionary import is_english_word

if TYPE_CHECKING:
    from bot.search.lexicon import Lexicon

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


class IndexedWords(Protocol):
    """What expansion reads of an index generation: its terms and its lexicon."""

    lexicon: Lexicon

    def has_term(self, term: str) -> bool: ...

    def surface_of(self, term: str) -> str: ...


class QueryExpansion:
    """Query words -> groups over one index generation's words (`PaperIndex.expansion`)."""

    def __init__(self, words: IndexedWords):
        self.words = words

    def near_words(self, word: str, max_distance: int, limit: int = 3) -> list[str]:
        """Library words within `max_distance` edits of `word`, closest and commonest first."""
        if len(word) < MIN_TYPO_LENGTH or not word.isalpha():
            return []
        key = (word, max_distance, limit)
        return list(self.words.lexicon.remembered("near", key, lambda: self._near_words(*key)))

    def _near_words(self, word: str, max_distance: int, limit: int) -> list[str]:
        # Imported here: a cold `papers-bot search` with no typo never pays for rapidfuzz.
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        # Only words of a possible length are candidates (n edits change it by at most n),
        # first those that start with the typed word's first two letters, then its first,
        # then any: a wider look only when no candidate is 1 edit away.
        found: dict[str, int] = {}
        df: dict[str, int] = {}
        for start in (2, 1, 0):
            words, df = self.words.lexicon.words_like(word, max_distance, start)
            matches = process.extract(
                word, words, scorer=Levenshtein.distance, score_cutoff=max_distance, limit=20
            )
            found.update((m[0], int(m[1])) for m in matches if m[0] != word)
            if found and min(found.values()) <= 1:
                break
        ranked = sorted(found.items(), key=lambda m: (m[1], m[0][0] != word[0], -df.get(m[0], 0)))
        # Only the closest candidates: `difusion` means diffusion (1 edit), not fusion (2).
        closest = [m for m in ranked if m[1] == ranked[0][1]] if ranked else []
        return [m[0] for m in closest[:limit]]

    # -- query groups ------------------------------------------------------------------------

    def groups_for(self, text: str) -> list[Group]:
        groups = [self._group_for_word(w) for w in analyze(text)]
        return self._with_long_form_spans(groups)

    def _group_for_word(self, word: WordTerms) -> Group:
        alternatives: list[Alternative] = []
        if self.words.has_term(word.whole):
            alternatives.append(Alternative((word.whole,), 1.0, word.surface))
        if word.parts and all(self.words.has_term(p) for p in word.parts):
            alternatives.append(Alternative(word.parts, PARTS_WEIGHT, word.surface))
        key = word.sequence
        corrected = None
        if not alternatives and not is_english_word(word.surface):
            alternatives.extend(self._typo_alternatives(word.surface))
            if alternatives:
                key = alternatives[0].terms
                corrected = self.words.surface_of(key[0])
        if not alternatives and not word.parts:
            alternatives.extend(self._split_alternatives(word.surface))
        for long_form in self.words.lexicon.long_forms(word.whole):
            if all(self.words.has_term(t) for t in long_form):
                spelled = " ".join(self.words.surface_of(t) for t in long_form)
                label = f"{word.surface.upper()} = {spelled}"
                alternatives.append(Alternative(long_form, ALIAS_WEIGHT, label))
        if not alternatives:
            # Nothing in the library: keep the group so coverage counts it as missed.
            alternatives.append(Alternative((word.whole,), 1.0, word.surface))
        return Group(word.surface, alternatives, key=key, corrected=corrected)

    def _typo_alternatives(self, surface: str) -> list[Alternative]:
        max_distance = 1 if len(surface) < 8 else 2
        out = []
        for near in self.near_words(surface, max_distance, limit=2):
            term = self.words.lexicon.term_of(near)
            if term and self.words.has_term(term):
                out.append(Alternative((term,), TYPO_WEIGHT, f"{surface} → {near}"))
        return out

    def _split_alternatives(self, surface: str) -> list[Alternative]:
        """`multiagent` typed as one word where the library writes `multi agent`."""
        for cut in range(3, len(surface) - 2):
            left, right = stem(surface[:cut]), stem(surface[cut:])
            if self.words.has_term(left) and self.words.has_term(right):
                label = f"{surface[:cut]} {surface[cut:]}"
                return [Alternative((left, right), PARTS_WEIGHT, label)]
        return []

    def _with_long_form_spans(self, groups: list[Group]) -> list[Group]:
        """Words that spell an acronym's long form also match the bare acronym."""
        out: list[Group] = []
        i = 0
        while i < len(groups):
            # Long forms are looked up by their first two words: most pairs start none.
            start = tuple(t for g in groups[i : i + 2] for t in g.key)[:2]
            if not self.words.lexicon.long_form_starts(start):
                out.append(groups[i])
                i += 1
                continue
            for j in range(len(groups), i, -1):
                span = groups[i:j]
                terms = tuple(t for g in span for t in g.key)
                acronyms = [
                    a
                    for a in self.words.lexicon.acronyms_for(terms)
                    if self.words.has_term(a) and a not in terms
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
