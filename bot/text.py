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
