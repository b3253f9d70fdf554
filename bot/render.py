"""Papers -> Block Kit messages and -> plain text, for every surface (Slack, console, CLI).

Two rules hold for everything built here (DESIGN, "Rules that hold everywhere"):

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
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import Paper, arxiv_url, hf_url
from bot.summarize import keywords, latex_to_unicode, shorten, tldr

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

SAVE, SHARE, MORE, REMOVE = "papers_save", "papers_share", "papers_more", "papers_remove"
PAGE = "papers_page"


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
    escaped = esc(shorten(cleaned, limit))
    while len(escaped) > limit and limit > 1:
        limit -= max(1, len(escaped) - limit)
        escaped = esc(shorten(cleaned, limit))
    return escaped


def _limit(n: int) -> int:
    return int(n * SPARE)


def link(url: str, label: str) -> str:
    """A mrkdwn link; `url` is ours (built from a canonical id), `label` is escaped here."""
    return f"<{url}|{esc(label)}>"


# -- paper pieces --------------------------------------------------------------------------------


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
    return clean(latex_to_unicode(paper.title))


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(clean(text), limit) or " ", "emoji": True}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(text, _limit(BUTTON_TEXT)),
        "action_id": action_id,
        "value": value[:BUTTON_VALUE],
    }
    if style:
        button["style"] = style
    return button


@dataclass
class CardOptions:
    matched: Sequence[str] = ()
    buttons: Sequence[str] = (SAVE, SHARE, MORE)
    full: bool = False  # the full card: whole abstract, links to code and project
    note: str | None = None  # a line of our own under the card ("react with :bookmark: ...")


def card_blocks(paper: Paper, options: CardOptions | None = None) -> list[dict[str, Any]]:
    """One paper as Block Kit: title + byline, TL;DR, keywords and match hint, buttons."""
    options = options or CardOptions()
    title = link(paper.url, shorten(title_of(paper), 250))
    head = f"*{title}*\n{esc_short(byline(paper), 400)}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(head)}]
    summary = tldr(paper)
    if options.full and paper.abstract:
        body = f"*TL;DR* {esc(summary)}\n\n{esc_short(latex_to_unicode(paper.abstract), 2400)}"
        blocks.append({"type": "section", "text": _mrkdwn(body[: _limit(SECTION_TEXT)])})
    elif summary:
        blocks.append({"type": "section", "text": _mrkdwn(esc_short(summary, 600))})
    blocks.extend(_context_blocks(paper, options))
    actions = [_action_button(kind, paper.id) for kind in options.buttons]
    if actions:
        blocks.append({"type": "actions", "block_id": f"paper:{paper.id}", "elements": actions})
    return blocks


def _context_blocks(paper: Paper, options: CardOptions) -> list[dict[str, Any]]:
    elements = []
    words = keywords(paper)
    if words:
        elements.append(_mrkdwn(esc_short("🏷 " + ", ".join(words), 600)))
    if options.matched:
        elements.append(_mrkdwn(esc_short("matched: " + ", ".join(options.matched), 300)))
    links = [link(paper.url, "arXiv"), link(paper.hf_url, "Hugging Face")]
    if options.full and paper.github_repo and paper.github_repo.startswith("https://github.com/"):
        stars = f" ★{paper.github_stars}" if paper.github_stars else ""
        links.append(link(_safe_url(paper.github_repo), f"code{stars}"))
    if options.full and paper.project_page:
        links.append(link(_safe_url(paper.project_page), "project page"))
    elements.append(_mrkdwn(" · ".join(links)))
    if options.note:
        elements.append(_mrkdwn(options.note))
    return [{"type": "context", "elements": elements[:10]}]


def _safe_url(url: str) -> str:
    """A URL from outside, made safe inside <url|label>: no spaces, `|`, `<` or `>`."""
    return re.sub(r"[\s|<>]", "", url)[:2000]


def _action_button(kind: str, paper_id: str) -> dict[str, Any]:
    labels = {SAVE: "Save", SHARE: "Share", MORE: "More like this", REMOVE: "Remove"}
    styles = {SAVE: "primary", REMOVE: "danger"}
    return _button(labels[kind], kind, paper_id, styles.get(kind))


def paper_fallback(paper: Paper) -> str:
    return esc_short(f"{title_of(paper)} ({paper.id}) · {byline(paper)}", 600)


# -- messages ------------------------------------------------------------------------------------


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
        kept.append({"type": "context", "elements": [_mrkdwn("…more than fits in one message.")]})
    return kept


def _size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def text_section(text_mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text_mrkdwn[: _limit(SECTION_TEXT)])}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": _plain(text, _limit(HEADER_TEXT))}


def context(text_mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text_mrkdwn[: _limit(CONTEXT_TEXT)])]}


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


# -- plain text (console, CLI) -----------------------------------------------------------------

_LINK_RE = re.compile(r"<([^|<>]+)\|([^<>]*)>")


def mrkdwn_to_text(text: str) -> str:
    """What a person would read: links as `label (url)`, entities unescaped."""
    text = _LINK_RE.sub(
        lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) not in m.group(1) else m.group(1),
        text,
    )
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_to_text(blocks: list[dict[str, Any]], numbering: dict[int, int] | None = None) -> str:
    """Render blocks as readable text; buttons become `[n] Label` so a console can press them."""
    lines: list[str] = []
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "section":
            lines.append(mrkdwn_to_text(block["text"]["text"]))
        elif kind == "header":
            lines.append(block["text"]["text"].upper())
        elif kind == "context":
            lines.append(
                "  " + " | ".join(mrkdwn_to_text(e.get("text", "")) for e in block["elements"])
            )
        elif kind == "divider":
            lines.append("-" * 60)
        elif kind == "actions":
            number = (numbering or {}).get(index)
            labels = " ".join(f"[{e['text']['text']}]" for e in block["elements"])
            lines.append(f"  {labels}" + (f"   (buttons #{number})" if number else ""))
        elif kind == "rich_text" or kind == "section_fields":
            lines.append(json.dumps(block))
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


# -- BibTeX --------------------------------------------------------------------------------------


def _bibtex_escape(text: str) -> str:
    text = clean(text)
    for ch in "\\{}":
        text = text.replace(ch, "")
    for ch in "&%$#_":
        text = text.replace(ch, "\\" + ch)
    return text


def bibtex_key(paper: Paper) -> str:
    surname = (paper.authors[0].split()[-1] if paper.authors else "anon").lower()
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
