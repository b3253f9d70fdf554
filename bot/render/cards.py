"""One paper as Block Kit: the card every message shows, and the buttons on it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import Paper
from bot.render.blocks import (
    SECTION_TEXT,
    button,
    clean,
    context,
    divider,
    esc,
    esc_short,
    link,
    message,
    mrkdwn,
    spare,
    text_section,
)
from bot.summarize import keywords, latex_to_unicode, shorten, tldr, tldr_note

# The action ids of our buttons; the Slack listeners route on them.
SAVE, SHARE, MORE, REMOVE = "papers_save", "papers_share", "papers_more", "papers_remove"
HIDE = "papers_hide"  # Not interested: For you never picks the paper for this person again
PAGE = "papers_page"


def first_authors(paper: Paper, count: int = 3) -> str:
    names = [clean(a) for a in paper.authors[:count]]
    if not names:
        return "unknown authors"
    more = len(paper.authors) - count
    return ", ".join(names) + (f" +{more} more" if more > 0 else "")


def byline(paper: Paper) -> str:
    parts = [first_authors(paper)]
    if paper.date:
        parts.append(paper.date)
    parts.append(f"▲ {paper.upvotes}")
    if paper.comments:
        parts.append(f"💬 {paper.comments}")
    return " · ".join(parts)


def title_of(paper: Paper) -> str:
    """The title as people read it; never empty (a blank title shows the arXiv id)."""
    return clean(latex_to_unicode(paper.title)) or f"arXiv {paper.id}"


@dataclass
class CardOptions:
    matched: Sequence[str] = ()
    buttons: Sequence[str] = (SAVE, SHARE, MORE, HIDE)
    full: bool = False  # the full card: whole abstract, links to code and project
    note: str | None = None  # a line of our own under the card ("react with :bookmark: ...")
    team: str | None = None  # the team's week ("shared 3 times in 2 channels · saved by 4")


def card_blocks(paper: Paper, options: CardOptions | None = None) -> list[dict[str, Any]]:
    """One paper as Block Kit: title + byline, TL;DR, keywords and match hint, buttons."""
    options = options or CardOptions()
    title = link(paper.url, shorten(title_of(paper), 250))
    head = f"*{title}*\n{esc_short(byline(paper), 400)}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn(head)}]
    summary = esc_short(tldr(paper), 600)
    abstract = esc_short(latex_to_unicode(paper.abstract), 2400) if options.full else ""
    if abstract:
        body = f"*TL;DR* {summary}\n\n{abstract}" if summary else abstract
        blocks.append({"type": "section", "text": mrkdwn(body[: spare(SECTION_TEXT)])})
    elif summary:
        blocks.append({"type": "section", "text": mrkdwn(summary)})
    blocks.extend(_context_blocks(paper, options))
    actions = [paper_button(kind, paper.id) for kind in options.buttons]
    if actions:
        blocks.append({"type": "actions", "block_id": f"paper:{paper.id}", "elements": actions})
    return blocks


def _context_blocks(paper: Paper, options: CardOptions) -> list[dict[str, Any]]:
    elements = []
    note = tldr_note(paper)
    if note:
        elements.append(mrkdwn(esc_short(note, 120)))
    words = keywords(paper)
    if words:
        elements.append(mrkdwn(esc_short("🏷 " + ", ".join(words), 600)))
    if options.matched:
        elements.append(mrkdwn(esc_short("matched: " + ", ".join(options.matched), 300)))
    links = [link(paper.url, "arXiv"), link(paper.hf_url, "Hugging Face")]
    links += citations_and_code(paper, options.full)
    if options.full and paper.project_page:
        links.append(link(_safe_url(paper.project_page), "project page"))
    elements.append(mrkdwn(" · ".join(links)))
    if options.team:
        elements.append(mrkdwn(esc_short(options.team, 300)))
    if options.note:
        elements.append(mrkdwn(options.note))
    return [{"type": "context", "elements": elements[:10]}]


def citations_and_code(paper: Paper, full: bool = False) -> list[str]:
    """`cited by 1,234` (to Semantic Scholar's page of it) and `code ★ 2.1k` (to the
    repository), when known; a full card adds the venue and year."""
    parts = []
    cited = paper.citations
    if paper.scholar_known and isinstance(cited, int) and not isinstance(cited, bool):
        label = f"cited by {cited:,}"
        if full and isinstance(paper.venue, str) and paper.venue:
            label += f" · {shorten(paper.venue, 60)}" + (f" {paper.year}" if paper.year else "")
        parts.append(link(f"https://www.semanticscholar.org/arxiv/{paper.id}", label))
    code = paper.code_url
    if code:
        stars = paper.github_stars if code == paper.github_repo else None
        shown = f" ★ {short_count(stars)}" if isinstance(stars, int) and stars > 0 else ""
        parts.append(link(_safe_url(code), f"code{shown}"))
    return parts


def short_count(n: int) -> str:
    """2,134 -> 2.1k, 12,400 -> 12k, 1,200,000 -> 1.2M (a star count on a card)."""
    if n < 1000:
        return str(n)
    for size, unit in ((1_000_000, "M"), (1000, "k")):
        if n >= size:
            value = n / size
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return text.removesuffix(".0") + unit
    return str(n)


def _safe_url(url: str) -> str:
    """A URL from outside, made safe inside <url|label>: no spaces, `|`, `<` or `>`."""
    return re.sub(r"[\s|<>]", "", url)[:2000]


def paper_button(kind: str, paper_id: str) -> dict[str, Any]:
    """A Save, Share, More like this, Remove or Not interested button for one paper."""
    labels = {
        SAVE: "Save",
        SHARE: "Share",
        MORE: "More like this",
        REMOVE: "Remove",
        HIDE: "Not interested",
    }
    styles = {SAVE: "primary", REMOVE: "danger"}
    return button(labels[kind], kind, paper_id, styles.get(kind))


def emoji_names(save_emoji: Sequence[str]) -> str:
    """`:bookmark: or :star:`: the reactions that save a paper, as the team configured them."""
    return " or ".join(f":{esc(e)}:" for e in save_emoji)


def paper_fallback(paper: Paper) -> str:
    return esc_short(f"{title_of(paper)} ({paper.id}) · {byline(paper)}", 600)


def papers_message(
    heading_mrkdwn: str,
    fallback: str,
    items: Iterable[tuple[Paper, CardOptions]],
    footer: str | None = None,
) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [text_section(heading_mrkdwn)]
    for paper, options in items:
        blocks.append(divider())
        blocks.extend(card_blocks(paper, options))
    if footer:
        blocks.append(context(footer))
    return message(fallback, blocks)
