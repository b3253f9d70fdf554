"""English words: a word of the language is never "corrected" into another one.

Typo correction looks for a library word one or two edits away from a word the library lacks.
Without this check `unbalanced` became `balanced`, `untrained` became `trained` and `trending`
became `trading`: real words that flip the meaning. pyspellchecker ships an English word list
with inflections (`trending`, `untrained`), loaded once, on the first word that needs it.
"""

from __future__ import annotations

import functools


@functools.cache
def _english_words() -> frozenset[str]:
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def is_english_word(word: str) -> bool:
    return word.lower() in _english_words()


def load() -> None:
    """Load the word list now (a serving bot warms up before its first request)."""
    _english_words()
