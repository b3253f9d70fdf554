"""What people read about citation alerts: the answer to `/papers citations on|off`, and the
weekly DM of new papers citing what they saved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.models import Paper
from bot.render.blocks import context, esc_short, link, message, mrkdwn, text_section
from bot.render.cards import SAVE, paper_button, title_of
from bot.sources.semantic_scholar import CitingPaper
from bot.summarize import shorten
from bot.text import plural

CITATIONS_USAGE = (
    "`/papers citations on` sends you a DM on Monday mornings with new papers that cite the "
    "papers you saved (from Semantic Scholar); `/papers citations off` stops it."
)
CITATIONS_OFF_HERE = (
    "Citation alerts are off in this installation (`PAPERS_CITATIONS=0`): nothing is asked of "
    "Semantic Scholar."
)
MOST_SHOWN = 40  # citing papers in one DM (Slack's 50 blocks); the rest come next week


def citations_set(on: bool, changed: bool) -> str:
    if on:
        return (
            "Citation alerts on: each Monday morning, a DM with the new papers citing what you "
            "saved. The first look only notes what cites them already, except this week's."
            if changed
            else "Citation alerts were already on."
        )
    return "Citation alerts off." if changed else "Citation alerts were not on."


def citation_alert_message(groups: Sequence[tuple[Paper, Sequence[CitingPaper]]]) -> dict[str, Any]:
    """One DM: for each saved paper, the new papers citing it, each with Save when it is on
    arXiv (so the library can hold it)."""
    blocks: list[dict[str, Any]] = [text_section("*New papers citing what you saved*")]
    count = 0
    for saved, citing in groups:
        blocks.append(context(f"Citing {link(saved.url, shorten(title_of(saved), 200))}:"))
        for paper in citing:
            blocks.append(_citing_block(paper))
            count += 1
    blocks.append(context("`/papers citations off` stops these."))
    return message(f"{plural(count, 'new paper')} citing what you saved", blocks)


def _citing_block(paper: CitingPaper) -> dict[str, Any]:
    authors = ", ".join(paper.authors[:3]) + (" et al." if len(paper.authors) > 3 else "")
    line = f"*{link(paper.url, shorten(paper.title, 200))}*"
    details = " · ".join(x for x in (esc_short(authors, 200), paper.date or "") if x)
    block: dict[str, Any] = {
        "type": "section",
        "text": mrkdwn(f"{line}\n{details}".strip()),
    }
    if paper.arxiv_id:
        block["accessory"] = paper_button(SAVE, paper.arxiv_id)
    return block
