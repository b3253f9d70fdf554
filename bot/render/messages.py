"""The product's messages: /papers answers, shared cards, the digest, follow alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.models import Paper
from bot.render.blocks import (
    context,
    divider,
    esc,
    esc_short,
    fit_blocks,
    header,
    link,
    message,
    text_section,
)
from bot.render.cards import (
    HIDE,
    MORE,
    SAVE,
    CardOptions,
    card_blocks,
    emoji_names,
    paper_fallback,
    papers_message,
    title_of,
)
from bot.render.search_text import message_text, note_text, notes_text
from bot.render.team import TEAM_WEEK, team_line
from bot.search import Note, SearchResponse, SearchResult
from bot.summarize import shorten
from bot.team import TeamCounts
from bot.text import plural

HELP_EXAMPLES = [
    ("/papers kan", "search the library (acronyms, typos, half-remembered titles)"),
    ('/papers "sparse attention" since:2026-06', "a quoted phrase, newer than a date"),
    ("/papers author:goldstein distillation", "by an author"),
    ("/papers diffusion cat:cs.CV", "in an arXiv category"),
    ("/papers 2408.08338", "one paper by arXiv id or URL, in full"),
    ("/papers ask 2408.08338 what basis functions do they use?", "answers quoted from the paper"),
    ("/papers trending", "the latest Daily Papers list, by upvotes"),
    ("/papers saved", "your reading list (also in the bot's Home tab)"),
    ("/papers saved bibtex", "your reading list as BibTeX"),
    ("/papers follow speculative decoding", "get a DM when new papers match"),
    ("/papers following", "your follows (/papers unfollow TOPIC to stop)"),
    (
        "/papers digest here weekly monday 09:00 topic cat:cs.CV",
        "this channel's digest: daily or weekly, on a topic (/papers digest list, off)",
    ),
    ("/papers kan sort:cited has:code", "most cited first, only papers with code"),
    ("/papers citations on", "a Monday DM of new papers citing what you saved"),
    ("/papers foryou", "papers picked for you from what you saved (only you see them)"),
    ("/papers picks on", "your top new papers in a DM each morning (/papers picks off)"),
    ("/papers team", "what the team shared and saved most this week (counts only)"),
    ("/papers forget me", "delete your saves, follows, marks, picks and shares"),
]


def help_message(save_emoji: Sequence[str], note: str | None = None) -> dict[str, Any]:
    lines = [f"`{esc(cmd)}`  {esc(what)}" for cmd, what in HELP_EXAMPLES]
    emoji = emoji_names(save_emoji)
    blocks = []
    if note:
        blocks.append(text_section(esc(note)))
    blocks += [
        text_section(
            "*papers-bot* finds ML papers in the team's library and keeps your reading list."
        ),
        text_section("\n".join(lines)),
        context(
            f"React with {emoji} on any paper the bot posted, or on a message with an arXiv or "
            "Hugging Face link, to save it to your list."
        ),
    ]
    return message("papers-bot: " + "; ".join(cmd for cmd, _ in HELP_EXAMPLES), blocks)


def search_results_message(
    response: SearchResponse, team: Mapping[str, TeamCounts] | None = None
) -> dict[str, Any]:
    """The answer to `/papers QUERY`; `team`: the week's counts of the papers shown."""
    query = esc_short(response.query, 200)
    notes = esc(notes_text(response.notes))
    if not response.results:
        text = esc(message_text(response)) or note_text(Note("none"))
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
        f"*{shown} of {plural(response.total, 'paper')}* for _{query}_"
        if response.total > 1
        else (f"The paper for _{query}_")
    )
    if notes:
        heading += f"\n{notes}"
    full = response.paper_id is not None
    items = [
        (
            r.paper,
            CardOptions(
                matched=[] if full else r.matched,
                full=full,
                team=team_line((team or {}).get(r.paper.id)),
            ),
        )
        for r in response.results
    ]
    fallback = f"{plural(shown, 'paper')} for {query}: " + "; ".join(
        esc_short(title_of(r.paper), 120) for r in response.results
    )
    return papers_message(heading, fallback, items)


def with_hugging_face(local: dict[str, Any], papers: Sequence[Paper]) -> dict[str, Any]:
    """The answer `local`, then what Hugging Face's paper search found that it lacked (now
    in the library, so the next search finds them here)."""
    heading = f"*From Hugging Face*: {plural(len(papers), 'more paper')}, now added to the library"
    extra = papers_message(heading, "", [(p, CardOptions()) for p in papers])
    titles = "; ".join(esc_short(title_of(p), 120) for p in papers)
    text = f"{local['text']} · From Hugging Face: {titles}"
    return message(text, fit_blocks([*local["blocks"], divider(), *extra["blocks"]]))


def paper_card_message(
    paper: Paper, heading: str | None = None, full: bool = True
) -> dict[str, Any]:
    items = [(paper, CardOptions(full=full))]
    return papers_message(heading or f"arXiv {esc(paper.id)}", paper_fallback(paper), items)


def shared_card_message(paper: Paper, shared_by: str, save_emoji: Sequence[str]) -> dict[str, Any]:
    """A card posted into the channel: Save and More like this, and react-to-save."""
    emoji = emoji_names(save_emoji)
    options = CardOptions(
        buttons=(SAVE, MORE, HIDE), note=f"Shared by <@{shared_by}> · react with {emoji} to save"
    )
    return message(paper_fallback(paper), card_blocks(paper, options))


def more_like_message(paper: Paper, results: Sequence[SearchResult]) -> dict[str, Any]:
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
    heading = (
        f"*Trending on Hugging Face Daily Papers · {esc(day)}* ({plural(len(papers), 'paper')})"
    )
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


# -- the daily digest ----------------------------------------------------------------------------


def digest_header_message(
    day: date,
    papers: Sequence[Paper],
    weekly: bool = False,
    topic: str = "",
    team_week: Sequence[tuple[Paper, TeamCounts]] = (),
) -> dict[str, Any]:
    """The digest's header (its cards go in its thread): `weekly` names the week, `topic` the
    channel's topic, `team_week` the papers the workspace shared and saved most (counts
    only, never who)."""
    label = f"{day:%a} {day.day} {day:%b %Y}"
    url = f"https://huggingface.co/papers?date={day.isoformat()}"
    count = len(papers)
    on = f" on _{esc_short(topic, 200)}_" if topic else ""
    papers_words = f"papers of the week{on}" if weekly else f"new papers{on}"
    which = (
        f"The most upvoted {papers_words.replace('papers', 'paper', 1)} on Hugging Face Daily "
        "Papers, in this thread."
        if count == 1
        else f"The {count} most upvoted {papers_words} on Hugging Face Daily Papers, one per "
        "reply in this thread."
    )
    body = f"{which} {link(url, 'See the whole list')}"
    title = f"{'The week in papers' if weekly else 'Trending papers'} · {label}"
    blocks = [header(title), text_section(body)]
    if team_week:
        lines = [
            f"• {link(p.url, esc_short(title_of(p), 150))}: {esc(team_line(c) or '')}"
            for p, c in team_week
        ]
        blocks.append(text_section(f"*{TEAM_WEEK}*\n" + "\n".join(lines)))
    return message(f"{title}: {plural(count, 'paper')}", blocks)


def digest_card_message(
    paper: Paper, rank: int, save_emoji: Sequence[str], team: TeamCounts | None = None
) -> dict[str, Any]:
    emoji = emoji_names(save_emoji)
    options = CardOptions(
        buttons=(SAVE, MORE, HIDE),
        note=f"#{rank} · react with {emoji} to save",
        team=team_line(team),
    )
    return message(paper_fallback(paper), card_blocks(paper, options))


def alert_message(topics: Sequence[tuple[str, Sequence[Paper]]]) -> dict[str, Any]:
    """One DM for one user: the new papers of every topic they follow that matched."""
    blocks: list[dict[str, Any]] = [text_section("*New papers for topics you follow*")]
    total = 0
    for query, papers in topics:
        blocks.append(context(f"Following: *{esc_short(query, 200)}*"))
        for paper in papers[:5]:
            blocks.append(divider())
            blocks.extend(card_blocks(paper, CardOptions(buttons=(SAVE, MORE, HIDE))))
            total += 1
    blocks.append(
        context("Stop a topic with `/papers unfollow TOPIC`; list them with `/papers following`.")
    )
    fallback = f"{plural(total, 'new paper')} for topics you follow: " + "; ".join(
        esc_short(q, 60) for q, _ in topics
    )
    return message(fallback, blocks)


def damage_warning(missing: Sequence[str]) -> str:
    return (
        f":warning: Part of the library is damaged and was set aside ({esc(', '.join(missing))}): "
        "some papers may be missing here. The operator's log says how to restore it."
    )


def looking_up_message(paper_id: str) -> dict[str, Any]:
    text = f"arXiv {paper_id} is not in the library yet: looking it up on Hugging Face…"
    return message(text, [text_section(esc(text))])


INTERNAL_ERROR = (
    "Sorry, something went wrong on my side (it is logged for the operator). Try again in a minute."
)
