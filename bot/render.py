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
from collections.abc import Callable, Iterable, Sequence
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
    budget = limit
    escaped = esc(shorten(cleaned, budget))
    while len(escaped) > limit and budget > 1:
        budget -= max(1, len(escaped) - limit)
        escaped = esc(shorten(cleaned, budget))
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
    """The title as people read it; never empty (a blank title shows the arXiv id)."""
    return clean(latex_to_unicode(paper.title)) or f"arXiv {paper.id}"


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
    summary = esc_short(tldr(paper), 600)
    abstract = esc_short(latex_to_unicode(paper.abstract), 2400) if options.full else ""
    if abstract:
        body = f"*TL;DR* {summary}\n\n{abstract}" if summary else abstract
        blocks.append({"type": "section", "text": _mrkdwn(body[: _limit(SECTION_TEXT)])})
    elif summary:
        blocks.append({"type": "section", "text": _mrkdwn(summary)})
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


# -- BibTeX --------------------------------------------------------------------------------------


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


# -- the messages of /papers -----------------------------------------------------------------

HELP_EXAMPLES = [
    ("/papers kan", "search the library (acronyms, typos, half-remembered titles)"),
    ('/papers "sparse attention" since:2026-06', "a quoted phrase, newer than a date"),
    ("/papers author:goldstein distillation", "by an author"),
    ("/papers 2408.08338", "one paper by arXiv id or URL, in full"),
    ("/papers trending", "the latest Daily Papers list, by upvotes"),
    ("/papers saved", "your reading list (also in the bot's Home tab)"),
    ("/papers saved bibtex", "your reading list as BibTeX"),
    ("/papers follow speculative decoding", "get a DM when new papers match"),
    ("/papers following", "your follows (/papers unfollow TOPIC to stop)"),
]


def help_message(
    save_emoji: Sequence[str] = ("bookmark",), note: str | None = None
) -> dict[str, Any]:
    lines = [f"`{esc(cmd)}`  {esc(what)}" for cmd, what in HELP_EXAMPLES]
    emoji = " or ".join(f":{esc(e)}:" for e in save_emoji)
    blocks = []
    if note:
        blocks.append(text_section(esc(note)))
    blocks += [
        text_section(
            "*papers-bot* finds ML papers in the team's library and keeps your reading list."
        ),
        text_section("\n".join(lines)),
        context(f"React with {emoji} on any paper the bot posted to save it to your list."),
    ]
    return message("papers-bot: " + "; ".join(cmd for cmd, _ in HELP_EXAMPLES), blocks)


def search_results_message(response, save_buttons: bool = True) -> dict[str, Any]:  # noqa: ANN001
    """The answer to `/papers QUERY` (a SearchResponse)."""
    query = esc_short(response.query, 200)
    notes = " ".join(esc(n) for n in response.notes)
    if not response.results:
        text = esc(response.message) or "No papers match that query."
        if response.suggestions:
            text += (
                "\nDid you mean: " + ", ".join(f"`{esc(s)}`" for s in response.suggestions) + "?"
            )
        blocks = [text_section(f"{text}\n{notes}".strip())]
        if response.query.strip():
            blocks.insert(0, context(f"You searched for: {query}"))
        return message(f"No papers for {query}", blocks)
    shown = len(response.results)
    heading = (
        f"*{shown} of {response.total}* papers for _{query}_"
        if response.total > 1
        else (f"The paper for _{query}_")
    )
    if notes:
        heading += f"\n{notes}"
    full = response.paper_id is not None
    items = [
        (r.paper, CardOptions(matched=[] if full else r.matched, full=full))
        for r in response.results
    ]
    fallback = f"{shown} papers for {query}: " + "; ".join(
        esc_short(title_of(r.paper), 120) for r in response.results
    )
    return papers_message(heading, fallback, items)


def paper_card_message(
    paper: Paper, heading: str | None = None, full: bool = True
) -> dict[str, Any]:
    items = [(paper, CardOptions(full=full))]
    return papers_message(heading or f"arXiv {esc(paper.id)}", paper_fallback(paper), items)


def shared_card_message(paper: Paper, shared_by: str, save_emoji: Sequence[str]) -> dict[str, Any]:
    """A card posted into the channel: Save and More like this, and react-to-save."""
    emoji = " or ".join(f":{esc(e)}:" for e in save_emoji)
    options = CardOptions(
        buttons=(SAVE, MORE), note=f"Shared by <@{shared_by}> · react with {emoji} to save"
    )
    return message(paper_fallback(paper), card_blocks(paper, options))


def more_like_message(paper: Paper, results: Sequence[Any]) -> dict[str, Any]:
    heading = f"Papers like *{esc_short(title_of(paper), 200)}*"
    if not results:
        return message(
            "No similar papers", [text_section(heading + "\nNo similar papers in the library yet.")]
        )
    items = [(r.paper, CardOptions(matched=r.matched)) for r in results]
    fallback = "Papers like " + esc_short(title_of(paper), 150)
    return papers_message(heading, fallback, items)


def trending_message(day: str | None, papers: Sequence[Paper], cards: int = 5) -> dict[str, Any]:
    if not day or not papers:
        return message(
            "No Daily Papers listings yet",
            [text_section("The library has no Daily Papers listing yet. Run `papers-bot fetch`.")],
        )
    heading = f"*Trending on Hugging Face Daily Papers · {esc(day)}* ({len(papers)} papers)"
    items = [(p, CardOptions()) for p in papers[:cards]]
    rest = papers[cards:]
    footer = None
    if rest:
        footer = "Also listed: " + " · ".join(
            f"{link(p.url, shorten(title_of(p), 60))} ▲{p.upvotes}" for p in rest[:15]
        )
    fallback = f"Trending papers {day}: " + "; ".join(
        esc_short(title_of(p), 80) for p in papers[:cards]
    )
    return papers_message(heading, fallback, items, footer)


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
        blocks.append(
            {
                "type": "section",
                "text": _mrkdwn(row),
                "accessory": _action_button(REMOVE, paper.id),
            }
        )
    navigation = []
    if page > 1:
        navigation.append(_button("◀ Newer", PAGE, f"saved:{page - 1}"))
    if page < pages:
        navigation.append(_button("Older ▶", PAGE, f"saved:{page + 1}"))
    if navigation:
        blocks.append({"type": "actions", "block_id": f"saved-nav:{page}", "elements": navigation})
    if pages > 1:
        blocks.append(context(f"Page {page} of {pages} · {len(papers)} papers"))
    return blocks


def saved_list_message(papers: Sequence[Paper], page: int = 1) -> dict[str, Any]:
    if not papers:
        return message(
            "Your reading list is empty",
            [
                text_section(
                    "Your reading list is empty. Press *Save* on a paper, or react with "
                    ":bookmark: on one the bot posted."
                )
            ],
        )
    heading = text_section(f"*Your reading list* ({len(papers)} papers, newest first)")
    fallback = f"Your reading list: {len(papers)} papers"
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
        f"BibTeX for {len(papers)} papers",
        [text_section("```" + "\n".join(lines) + "```")],
    )


def home_view(
    saved: Sequence[Paper], digest_day: str | None, digest: Sequence[Paper], max_saved: int = 30
) -> dict[str, Any]:
    """The App Home tab: your reading list with Remove buttons, then the latest digest."""
    blocks: list[dict[str, Any]] = [header("Your reading list")]
    if saved:
        blocks += saved_list_blocks(saved[:max_saved], 1, page_size=max_saved)
        if len(saved) > max_saved:
            blocks.append(context(f"…and {len(saved) - max_saved} more: type `/papers saved`."))
    else:
        blocks.append(
            text_section(
                "Nothing saved yet. Press *Save* on a paper, or react with "
                ":bookmark: on one the bot posted."
            )
        )
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
                    "text": _mrkdwn(row),
                    "accessory": _action_button(SAVE, paper.id),
                }
            )
    else:
        blocks.append(text_section("No digest yet."))
    blocks.append(context("Search with `/papers QUERY` · help: `/papers help`"))
    return {"type": "home", "blocks": fit_blocks(blocks, MAX_HOME_BLOCKS)}


# -- the daily digest ----------------------------------------------------------------------------


def digest_header_message(day, papers: Sequence[Paper]) -> dict[str, Any]:  # noqa: ANN001 - date
    label = f"{day:%a} {day.day} {day:%b %Y}"
    url = f"https://huggingface.co/papers?date={day.isoformat()}"
    count = len(papers)
    body = (
        f"The {count} most upvoted new papers on Hugging Face Daily Papers, one per reply in "
        f"this thread. {link(url, 'See the whole list')}"
    )
    blocks = [header(f"Trending papers · {label}"), text_section(body)]
    return message(f"Trending papers · {label}: {count} papers", blocks)


def digest_card_message(paper: Paper, rank: int, save_emoji: Sequence[str]) -> dict[str, Any]:
    emoji = " or ".join(f":{esc(e)}:" for e in save_emoji)
    options = CardOptions(buttons=(SAVE, MORE), note=f"#{rank} · react with {emoji} to save")
    return message(paper_fallback(paper), card_blocks(paper, options))


def alert_message(topics: Sequence[tuple[str, Sequence[Paper]]]) -> dict[str, Any]:
    """One DM for one user: the new papers of every topic they follow that matched."""
    blocks: list[dict[str, Any]] = [text_section("*New papers for topics you follow*")]
    total = 0
    for query, papers in topics:
        blocks.append(context(f"Following: *{esc_short(query, 200)}*"))
        for paper in papers[:5]:
            blocks.append(divider())
            blocks.extend(card_blocks(paper, CardOptions(buttons=(SAVE, MORE))))
            total += 1
    blocks.append(
        context("Stop a topic with `/papers unfollow TOPIC`; list them with `/papers following`.")
    )
    fallback = f"{total} new papers for topics you follow: " + "; ".join(
        esc_short(q, 60) for q, _ in topics
    )
    return message(fallback, blocks)
