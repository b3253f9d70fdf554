"""Acronym aliases mined from the library's own text: "Long Form (ACRONYM)".

Nobody types these in: every paper that writes "Kolmogorov-Arnold Networks (KANs)" teaches the
index that `kan` and `kolmogorov arnold network` mean the same thing. Long forms are matched to
their acronyms with the Schwartz & Hearst (2003) algorithm: each letter of the acronym, right to
left, must appear in the long form in order, and the first one must start a word.
"""

from __future__ import annotations

import re

from bot.search.analyzer import WORD_RE, analyze, analyze_word

TAIL_CHARS_PER_WORD = 12  # room for a word and its space, long words included
LOOK_BACK = 400  # characters: room for the longest window (20 words) of a 10-letter acronym
_PAREN_RE = re.compile(r"\(\s*([^()\s;,]{2,12})s?\s*[;,)]")


def _acronym_text(candidate: str) -> str | None:
    """The acronym written in parentheses, without a plural `s`; None if it is not one."""
    core = candidate[:-1] if candidate.endswith("s") and candidate[-2:-1].isupper() else candidate
    letters = [c for c in core if c.isalpha()]
    if not 2 <= len(letters) <= 10 or not core[0].isalnum():
        return None
    if sum(c.isupper() for c in letters) < max(2, len(letters) - 2):
        return None
    return core


def schwartz_hearst(short: str, long: str) -> str | None:
    """The shortest tail of `long` whose letters spell `short`, or None.

    Each letter is looked for by `str.rfind` in the lower-cased text (in C: a third of the
    acronym mining's time went to comparing one character at a time in Python); text whose
    lower case is not character for character (a letter that lower-cases to two, a final
    sigma) is matched by `_schwartz_hearst_by_character`, the algorithm as published.
    """
    lowered = long.lower()
    if len(lowered) != len(long) or len(short.lower()) != len(short) or "Σ" in long:
        return _schwartz_hearst_by_character(short, long)
    end = len(long)  # where the next letter is looked for, exclusive
    for s_idx in range(len(short) - 1, -1, -1):
        char = short[s_idx].lower()
        if not char.isalnum():
            continue
        found = lowered.rfind(char, 0, end)
        if s_idx == 0:  # the first letter must start a word
            while found > 0 and long[found - 1].isalnum():
                found = lowered.rfind(char, 0, found)
        if found < 0:
            return None
        end = found
    start = long.rfind(" ", 0, end)
    return long[start + 1 :].strip()


def _schwartz_hearst_by_character(short: str, long: str) -> str | None:
    s_idx, l_idx = len(short) - 1, len(long) - 1
    while s_idx >= 0:
        char = short[s_idx].lower()
        if not char.isalnum():
            s_idx -= 1
            continue
        while l_idx >= 0 and (
            long[l_idx].lower() != char or (s_idx == 0 and l_idx > 0 and long[l_idx - 1].isalnum())
        ):
            l_idx -= 1
        if l_idx < 0:
            return None
        l_idx -= 1
        s_idx -= 1
    start = long.rfind(" ", 0, l_idx + 1)
    return long[start + 1 :].strip()


def _last_words(text: str, count: int) -> list[str]:
    """The last `count` words of `text`. Words are first looked for in its tail: when the tail
    holds more than `count`, its first (maybe cut) word is not among them, and every later one
    is a word of `text` too (a word never crosses a space or a mark), so the answer is exact."""
    tail = WORD_RE.findall(text[-TAIL_CHARS_PER_WORD * count :])
    if len(tail) > count or len(text) <= TAIL_CHARS_PER_WORD * count:
        return tail[-count:]
    return WORD_RE.findall(text)[-count:]


def find_definitions(text: str) -> list[tuple[str, str]]:
    """(acronym, long form) pairs defined in `text`."""
    pairs = []
    for match in _PAREN_RE.finditer(text):
        acronym = _acronym_text(match.group(1))
        if acronym is None:
            continue
        # A long form is a few words right before the parenthesis: look no further back.
        before = text[max(0, match.start() - LOOK_BACK) : match.start()].rstrip()
        window_words = _last_words(before, min(len(acronym) + 5, len(acronym) * 2))
        if len(window_words) < 2:
            continue
        window = before[before.rfind(window_words[0]) :] if window_words else ""
        long_form = schwartz_hearst(acronym, window)
        if long_form and len(WORD_RE.findall(long_form)) >= 2:
            pairs.append((acronym, long_form))
    return pairs


def long_form_terms(long_form: str) -> tuple[str, ...]:
    """The stemmed content terms of a long form, hyphenated words split into their parts."""
    terms: list[str] = []
    for word in analyze(long_form):
        terms.extend(word.parts or (word.whole,))
    return tuple(terms)


def definitions_in(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(acronym term, long-form terms) for each acronym `text` defines; pure, so it can run
    outside the index's lock."""
    found = []
    for acronym, long_form in find_definitions(text):
        analysed = analyze_word(acronym)
        terms = long_form_terms(long_form)
        if analysed is None or len(terms) < 2:
            continue
        found.append((analysed.whole, terms))
    return found


__all__ = [
    "definitions_in",
    "find_definitions",
    "long_form_terms",
    "schwartz_hearst",
]
