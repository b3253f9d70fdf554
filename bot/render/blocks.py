"""Block Kit pieces that keep Slack's rules: outside text escaped, every limit respected.

Two rules hold for everything rendered (the design's "Rules that hold everywhere"):

- Outside text is data, never markup. Every title, abstract, author name, keyword and query
  goes through `esc()` before it reaches mrkdwn or a `text` fallback: `&`, `<`, `>` are
  escaped, so nothing a paper says can ping `@channel`, mention a user or plant a link.
  Invisible format characters (zero-width, right-to-left overrides) and lone surrogates are
  dropped first, so a title cannot disguise itself either.
- Slack's limits are our job: every block is cut to its limit at a word with an ellipsis,
  messages stay under `MAX_BLOCKS` blocks and `MESSAGE_CHAR_BUDGET` characters of blocks.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from bot.summarize import shorten

Block = dict[str, Any]

# Slack's limits (docs: Block Kit reference), with room to spare.
MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
SECTION_TEXT = 3000
CONTEXT_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
FALLBACK_TEXT = 3000
# Slack rejected messages with about 13,000 characters of blocks (msg_blocks_too_long).
MESSAGE_CHAR_BUDGET = 11_000
SPARE = 0.95  # use at most 95% of each limit

# -- outside text ------------------------------------------------------------------------------


def clean(text: Any) -> str:
    """Outside text made safe to show: no control/format characters, no lone surrogates."""
    if text is None:
        return ""
    text = str(text).encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> ?
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\n\t":
            out.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != "\u200d":
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def esc(text: Any) -> str:
    """Escape outside text for mrkdwn and fallbacks: `&`, `<`, `>` and nothing else."""
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_short(text: Any, limit: int) -> str:
    """Cut first, then escape, and keep the escaped text within `limit` characters."""
    cleaned = clean(text)
    budget = limit
    escaped = esc(shorten(cleaned, budget))
    while len(escaped) > limit and budget > 1:
        budget -= max(1, len(escaped) - limit)
        escaped = esc(shorten(cleaned, budget))
    return escaped


def spare(n: int) -> int:
    """The share of a Slack limit we use."""
    return int(n * SPARE)


def link(url: str, label: str) -> str:
    """A mrkdwn link; `url` is ours (built from a canonical id), `label` is escaped here."""
    return f"<{url}|{esc(label)}>"


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(clean(text), limit) or " ", "emoji": True}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": plain(text, spare(BUTTON_TEXT)),
        "action_id": action_id,
        "value": value[:BUTTON_VALUE],
    }
    if style:
        button["style"] = style
    return button


def message(text: str, blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS) -> dict[str, Any]:
    """A message payload that fits Slack: at most `limit` blocks, within the character budget."""
    blocks = fit_blocks(blocks, limit)
    return {
        "text": esc_short(text, FALLBACK_TEXT) if "<" in text else text[:FALLBACK_TEXT],
        "blocks": blocks,
    }


def fit_blocks(blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """Drop trailing blocks (with a note) until the message fits the block and size limits."""
    kept = list(blocks)
    cut = False
    while kept and (len(kept) > limit - (1 if cut else 0) or _size(kept) > MESSAGE_CHAR_BUDGET):
        kept.pop()
        cut = True
    if cut:
        kept.append({"type": "context", "elements": [mrkdwn("…more than fits in one message.")]})
    return kept


def _size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def text_section(text_mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text_mrkdwn[: spare(SECTION_TEXT)])}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, spare(HEADER_TEXT))}


def context(text_mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text_mrkdwn[: spare(CONTEXT_TEXT)])]}


def with_warning(payload: dict[str, Any], warning_mrkdwn: str) -> dict[str, Any]:
    """The same message with a warning line on top (still within Slack's limits)."""
    blocks = [context(warning_mrkdwn), *payload.get("blocks", [])]
    return {**payload, "blocks": fit_blocks(blocks)}
