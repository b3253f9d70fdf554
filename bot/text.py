"""Text folding shared by search, follows and summaries: one form every comparison uses."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """NFKC, lower case, accents removed: the form every comparison uses."""
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
