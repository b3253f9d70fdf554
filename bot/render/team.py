"""The team's week in words: the count line on cards, `/papers team`, the App Home section,
and a link's card (the unfurl). Counts only, never who saved; public channels by name."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.models import Paper
from bot.render.blocks import (
    divider,
    esc_short,
    header,
    link,
    message,
    mrkdwn,
    text_section,
)
from bot.render.cards import (
    SAVE,
    CardOptions,
    card_blocks,
    emoji_names,
    paper_button,
    paper_fallback,
    title_of,
)
from bot.summarize import shorten, tldr
from bot.team import TeamCounts
from bot.text import plural

TEAM_HEADING = "Your team this week"
TEAM_WEEK = "The team's week"  # in a weekly digest: most shared and saved, counts only
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,20}$")  # a channel id Slack names as <#C123>


def team_line(counts: TeamCounts | None) -> str | None:
    """`shared 3 times in 2 channels · saved by 4`; None when there is nothing to count."""
    if counts is None or not counts.weight:
        return None
    parts = []
    if counts.shares:
        times = "once" if counts.shares == 1 else f"{counts.shares} times"
        where = f" in {plural(len(counts.channels), 'channel')}" if len(counts.channels) > 1 else ""
        parts.append(f"shared {times}{where}")
    if counts.saves:
        parts.append(f"saved by {counts.saves}")
    return " · ".join(parts) + " this week"


def shared_in(counts: TeamCounts, most: int = 3) -> str:
    """` · shared in <#C1>, <#C2>`: the public channels (Slack shows their names)."""
    channels = sorted(c for c in counts.public if _CHANNEL_ID.match(c))[:most]
    return " · shared in " + ", ".join(f"<#{c}>" for c in channels) if channels else ""


def team_message(ranked: Sequence[tuple[Paper, TeamCounts]], off: bool = False) -> dict[str, Any]:
    """`/papers team`: the papers the workspace shared and saved most in the last 7 days."""
    if off:
        text = "Team signals are off in this workspace (`PAPERS_TEAM_SIGNALS=0`)."
        return message(text, [text_section(text)])
    if not ranked:
        text = (
            "Nothing shared or saved in this workspace in the last 7 days. Paste an arXiv or "
            "Hugging Face link in a channel, or save a paper: it shows up here."
        )
        return message(text, [text_section(text)])
    blocks: list[dict[str, Any]] = [
        text_section(f"*{TEAM_HEADING}*: the papers most shared and saved in the last 7 days")
    ]
    for paper, counts in ranked:
        line = (team_line(counts) or "") + shared_in(counts)
        blocks.append(divider())
        blocks.extend(card_blocks(paper, CardOptions(team=None, note=line or None)))
    fallback = f"{TEAM_HEADING}: " + "; ".join(esc_short(title_of(p), 80) for p, _ in ranked[:10])
    return message(fallback, blocks)


def team_home_blocks(ranked: Sequence[tuple[Paper, TeamCounts]]) -> list[dict[str, Any]]:
    """The App Home section: one line a paper, with Save."""
    if not ranked:
        return []
    blocks: list[dict[str, Any]] = [header(TEAM_HEADING)]
    for paper, counts in ranked[:5]:
        title = link(paper.url, shorten(title_of(paper), 200))
        counted = esc_short(team_line(counts) or "", 200) + shared_in(counts)
        row = f"*{title}*\n{counted}\n{esc_short(tldr(paper), 300)}".strip()
        blocks.append(
            {"type": "section", "text": mrkdwn(row), "accessory": paper_button(SAVE, paper.id)}
        )
    return blocks


def unfurl_card(
    paper: Paper, counts: TeamCounts | None, save_emoji: Sequence[str]
) -> dict[str, Any]:
    """One link's card, as `chat.unfurl` takes it for its URL: {"blocks": [...]}."""
    options = CardOptions(
        buttons=(SAVE,),
        team=team_line(counts),
        note=f"react with {emoji_names(save_emoji)} to save",
    )
    return {"blocks": card_blocks(paper, options), "fallback": paper_fallback(paper)}


def several_saved(lines: Sequence[str]) -> str:
    """The confirmation of one reaction on a message with several papers: a line for each."""
    return "\n".join(lines)
