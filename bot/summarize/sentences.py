"""Text cut to a length at a word boundary; sentences are `bot.text.split_sentences`."""

from __future__ import annotations

from bot.text import split_sentences

__all__ = ["ELLIPSIS", "shorten", "split_sentences"]
ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS
