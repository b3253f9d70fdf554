"""Block Kit and mrkdwn as a person reads them: the console and the command line."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from bot.models import Paper, arxiv_url, hf_url
from bot.render.cards import byline, title_of
from bot.summarize import tldr

_LINK_RE = re.compile(r"<([^|<>]+)\|([^<>]*)>")


_MENTION_RE = re.compile(r"<([@#])([A-Z0-9]+)(?:\|[^<>]*)?>")


def mrkdwn_to_text(text: str) -> str:
    """What a person would read: links as `label (url)`, entities unescaped."""
    text = _MENTION_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}", text)
    text = _LINK_RE.sub(
        lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) not in m.group(1) else m.group(1),
        text,
    )
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


ButtonText = Callable[[dict[str, Any], dict[str, Any]], str]


def _label(element: dict[str, Any], block: dict[str, Any]) -> str:
    return f"[{element['text']['text']}]"


def blocks_to_text(blocks: list[dict[str, Any]], button: ButtonText = _label) -> str:
    """Blocks as a person reads them; `button(element, block)` shows a button (the console
    numbers them so they can be pressed)."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = mrkdwn_to_text(block.get("text", {}).get("text", ""))
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                text += "  " + button(accessory, block)
            lines.append(text)
        elif kind == "header":
            lines.append(block["text"]["text"].upper())
        elif kind == "context":
            texts = (mrkdwn_to_text(e.get("text", "")) for e in block["elements"])
            lines.append("   " + " | ".join(texts))
        elif kind == "divider":
            lines.append("")
        elif kind == "actions":
            lines.append("   " + " ".join(button(e, block) for e in block["elements"]))
    return "\n".join(lines)


def paper_text(rank: int, paper: Paper, matched: Sequence[str] = ()) -> str:
    lines = [
        f"{rank}. {title_of(paper)}",
        f"   {byline(paper)}",
    ]
    summary = tldr(paper)
    if summary:
        lines.append(f"   TL;DR: {summary}")
    if matched:
        lines.append(f"   matched: {', '.join(matched)}")
    lines.append(f"   {arxiv_url(paper.id)}  {hf_url(paper.id)}")
    return "\n".join(lines)
