"""For you as Block Kit: `/papers foryou`, its part of the App Home, the morning DM, and the
`/papers forget me` confirmation. Every one of them is seen by its person only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.models import Paper
from bot.render.blocks import (
    button,
    context,
    esc_short,
    header,
    link,
    message,
    text_section,
)
from bot.render.cards import (
    HIDE,
    SAVE,
    CardOptions,
    card_blocks,
    emoji_names,
    paper_button,
    title_of,
)
from bot.summarize import shorten, tldr

FOR_YOU_MORE = "papers_for_you_more"
FORGET_ME = "papers_forget_me"
PAGE_SIZE = 5


def why(like: Paper | None) -> str:
    """The saved paper a pick is most like, as its card says it."""
    if like is None:
        return "Picked from what you saved."
    return f"Because you saved *{esc_short(title_of(like), 120)}*."


def no_picks_text(has_saves: bool, ready: bool, save_emoji: Sequence[str]) -> str:
    if not ready:
        return "For you is reading the library (it does this once); try again in a minute."
    if not has_saves:
        return (
            "For you learns from what you save: save a paper (the Save button, or react with "
            f"{emoji_names(save_emoji)}) and your picks appear here. Nobody else sees them."
        )
    return "Nothing new to pick for you right now: everything close to your saves is saved."


def for_you_message(
    papers: Sequence[tuple[Paper, Paper | None]], offset: int, more: bool, empty: str
) -> dict[str, Any]:
    """`/papers foryou`: five picks at a time, each with Save and Not interested, and why."""
    if not papers:
        return message(empty, [text_section(empty)])
    blocks: list[dict[str, Any]] = [
        text_section(f"*For you* · picks {offset + 1}-{offset + len(papers)}, from your saves")
    ]
    for paper, like in papers:
        blocks += card_blocks(paper, CardOptions(buttons=(SAVE, HIDE), note=why(like)))
    if more:
        blocks.append(
            {
                "type": "actions",
                "elements": [button("More", FOR_YOU_MORE, str(offset + len(papers)))],
            }
        )
    blocks.append(
        context("Only you see your picks. `/papers forget me` deletes what they learn from.")
    )
    return message(f"For you: {len(papers)} picks", blocks)


def for_you_home_blocks(
    papers: Sequence[tuple[Paper, Paper | None]], empty: str
) -> list[dict[str, Any]]:
    """The App Home's For you section: above the reading list."""
    blocks: list[dict[str, Any]] = [header("For you")]
    if not papers:
        return blocks + [text_section(empty)]
    for paper, like in papers:
        title = link(paper.url, shorten(title_of(paper), 200))
        blocks.append(text_section(f"*{title}*\n{esc_short(tldr(paper), 300)}"))
        blocks.append(context(why(like)))
        blocks.append(
            {
                "type": "actions",
                "block_id": f"foryou:{paper.id}",
                "elements": [paper_button(SAVE, paper.id), paper_button(HIDE, paper.id)],
            }
        )
    return blocks


def picks_dm_message(papers: Sequence[tuple[Paper, Paper | None]], day: str) -> dict[str, Any]:
    """The morning DM: a person's top new papers of the day."""
    blocks: list[dict[str, Any]] = [
        text_section(f"*Your picks of {day}*, new today and close to what you saved")
    ]
    for paper, like in papers:
        blocks += card_blocks(paper, CardOptions(buttons=(SAVE, HIDE), note=why(like)))
    blocks.append(context("`/papers picks off` stops these. Only you get them."))
    return message(f"Your picks of {day}: {len(papers)} new papers", blocks)


def forget_me_message() -> dict[str, Any]:
    text = (
        "This deletes your reading list, your follows, your Not interested marks, your "
        "picks, the links you shared (from the team's counts), your citation alerts (and "
        "which citing papers you were sent), and what For you learned from them. It cannot be "
        "undone."
    )
    blocks = [
        text_section(f"*Forget me?* {text}"),
        {
            "type": "actions",
            "elements": [button("Forget me", FORGET_ME, "confirm", "danger")],
        },
    ]
    return message("Forget me?", blocks)
