"""The reading list: its pages with Remove buttons, the App Home tab, and BibTeX export."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from bot.models import Paper, arxiv_url
from bot.render.blocks import (
    MAX_HOME_BLOCKS,
    button,
    clean,
    context,
    divider,
    esc_short,
    fit_blocks,
    header,
    link,
    message,
    mrkdwn,
    text_section,
)
from bot.render.cards import (
    PAGE,
    REMOVE,
    SAVE,
    byline,
    citations_and_code,
    emoji_names,
    paper_button,
    title_of,
)
from bot.summarize import latex_to_unicode, shorten, tldr
from bot.text import plural


def _bibtex_escape(text: str) -> str:
    text = clean(text)
    for ch in "\\{}":
        text = text.replace(ch, "")
    for ch in "&%$#_":
        text = text.replace(ch, "\\" + ch)
    return text


def bibtex_key(paper: Paper) -> str:
    names = [n.split() for n in paper.authors if n.split()]
    surname = (names[0][-1] if names else "anon").lower()
    surname = re.sub(r"[^a-z]", "", unicodedata.normalize("NFKD", surname)) or "anon"
    year = (paper.date or "")[:4] or "nd"
    first_word = next((w for w in re.findall(r"[A-Za-z]+", paper.title) if len(w) > 3), "paper")
    return f"{surname}{year}{first_word.lower()}"


def bibtex(paper: Paper) -> str:
    """An arXiv-style @misc entry, as arXiv's own "Export BibTeX citation" gives."""
    fields = [
        ("title", "{" + _bibtex_escape(latex_to_unicode(paper.title)) + "}"),
        ("author", " and ".join(_bibtex_escape(a) for a in paper.authors) or "Unknown"),
        ("year", (paper.date or "")[:4] or "n.d."),
        ("eprint", paper.id),
        ("archivePrefix", "arXiv"),
        ("url", arxiv_url(paper.id)),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{bibtex_key(paper)},\n{body}\n}}"


SAVED_PAGE_SIZE = 10


def saved_list_blocks(
    papers: Sequence[Paper], page: int, page_size: int = SAVED_PAGE_SIZE
) -> list[dict[str, Any]]:
    """The reading list, one compact row per paper with a Remove button, and paging buttons."""
    pages = max(1, -(-len(papers) // page_size))
    page = min(max(1, page), pages)
    chunk = papers[(page - 1) * page_size : page * page_size]
    blocks: list[dict[str, Any]] = []
    for paper in chunk:
        row = f"*{link(paper.url, shorten(title_of(paper), 200))}*\n{esc_short(byline(paper), 300)}"
        figures = citations_and_code(paper)
        if figures:
            row += "\n" + " · ".join(figures)
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(row),
                "accessory": paper_button(REMOVE, paper.id),
            }
        )
    navigation = []
    if page > 1:
        navigation.append(button("◀ Newer", PAGE, f"saved:{page - 1}"))
    if page < pages:
        navigation.append(button("Older ▶", PAGE, f"saved:{page + 1}"))
    if navigation:
        blocks.append({"type": "actions", "block_id": f"saved-nav:{page}", "elements": navigation})
    if pages > 1:
        blocks.append(context(f"Page {page} of {pages} · {plural(len(papers), 'paper')}"))
    return blocks


def how_to_save(save_emoji: Sequence[str]) -> str:
    return (
        f"Press *Save* on a paper, or react with {emoji_names(save_emoji)} on one the bot posted."
    )


def saved_list_message(
    papers: Sequence[Paper], page: int, save_emoji: Sequence[str]
) -> dict[str, Any]:
    """`/papers saved`: one page of the reading list (the empty list says how to save)."""
    if not papers:
        return message(
            "Your reading list is empty",
            [text_section(f"Your reading list is empty. {how_to_save(save_emoji)}")],
        )
    heading = text_section(f"*Your reading list* ({plural(len(papers), 'paper')}, newest first)")
    fallback = f"Your reading list: {plural(len(papers), 'paper')}"
    return message(fallback, [heading, *saved_list_blocks(papers, page)])


BIBTEX_INLINE_LIMIT = 2800


def bibtex_text(papers: Sequence[Paper]) -> str:
    return "\n\n".join(bibtex(p) for p in papers)


def bibtex_message(papers: Sequence[Paper]) -> dict[str, Any] | None:
    """BibTeX in a code block, or None when it is too long for one (send it as a file)."""
    if not papers:
        return message("Your reading list is empty", [text_section("Your reading list is empty.")])
    text = bibtex_text(papers)
    if len(text) > BIBTEX_INLINE_LIMIT:
        return None
    # Field values were cleaned by bibtex(); only mrkdwn's three characters need escaping, and
    # the indentation of the entries is kept.
    lines = [
        line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for line in text.replace("```", "'''").splitlines()
    ]
    return message(
        f"BibTeX for {plural(len(papers), 'paper')}",
        [text_section("```" + "\n".join(lines) + "```")],
    )


def home_view(
    saved: Sequence[Paper],
    digest_day: str | None,
    digest: Sequence[Paper],
    save_emoji: Sequence[str],
    max_saved: int = 30,
    library: tuple[int, str | None, str | None] | None = None,
    for_you: Sequence[dict[str, Any]] = (),
    team: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The App Home tab: For you (`for_you`, its blocks), your reading list with Remove
    buttons, then the latest digest, the team's week (`team`, its blocks), and what the
    library holds (`library`: papers, first and
    last Daily Papers day)."""
    blocks: list[dict[str, Any]] = [*for_you, divider()] if for_you else []
    blocks.append(header("Your reading list"))
    if saved:
        blocks += saved_list_blocks(saved[:max_saved], 1, page_size=max_saved)
        if len(saved) > max_saved:
            blocks.append(context(f"…and {len(saved) - max_saved} more: type `/papers saved`."))
    else:
        blocks.append(text_section(f"Nothing saved yet. {how_to_save(save_emoji)}"))
    blocks += [
        divider(),
        header(f"Latest digest · {digest_day}" if digest_day else "Latest digest"),
    ]
    if digest:
        for paper in digest[:10]:
            title = link(paper.url, shorten(title_of(paper), 200))
            row = f"*{title}*  ▲{paper.upvotes}\n{esc_short(tldr(paper), 400)}"
            blocks.append(
                {
                    "type": "section",
                    "text": mrkdwn(row),
                    "accessory": paper_button(SAVE, paper.id),
                }
            )
    else:
        blocks.append(text_section("No digest yet."))
    if team:
        blocks += [divider(), *team]
    if library is not None:
        blocks.append(context(library_line(*library)))
    blocks.append(context("Search with `/papers QUERY` · help: `/papers help`"))
    return {"type": "home", "blocks": fit_blocks(blocks, MAX_HOME_BLOCKS)}


def library_line(papers: int, first_day: str | None, last_day: str | None) -> str:
    span = f", Daily Papers from {first_day} to {last_day}" if first_day and last_day else ""
    return f"The library: {papers:,} papers{span}."
