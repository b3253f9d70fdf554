"""Asking a paper in words: the quotes, labelled and linked to their section, the abstention
with the closest sections, the LLM's cited sentences above the quotes, and Share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.models import Paper
from bot.render.blocks import (
    button,
    context,
    divider,
    esc,
    esc_short,
    link,
    message,
    text_section,
)
from bot.render.cards import title_of
from bot.search.passages import Answer
from bot.summarize import shorten

ASK_SHARE = "papers_ask_share"
QUESTION_LIMIT = 500  # characters of a question kept (and carried by the Share button)
ASK_USAGE = (
    "Ask a paper: `/papers ask 2408.08338 what basis functions do they use?` (an arXiv id or "
    "any paper URL, then the question), or `/papers ask QUESTION` to ask the whole library. "
    "In a thread of a paper the bot posted or unfurled, mention `@papers-bot` with your question."
)
NOT_FOUND = "I could not find that in the paper."


def unknown_paper(paper_id: str) -> str:
    return (
        f"arXiv {esc(paper_id)} is not in the library, and neither Hugging Face nor arXiv "
        "knows it (or they could not be reached)."
    )


def reading_message(paper: Paper | None) -> dict[str, Any]:
    what = f"*{esc_short(title_of(paper), 200)}*" if paper else "the paper"
    return message("Reading the paper…", [context(f"Reading {what}…")])


def share_value(paper_id: str, question: str) -> str:
    return json.dumps({"p": paper_id, "q": question[:QUESTION_LIMIT]}, ensure_ascii=False)


def read_share_value(value: str) -> tuple[str, str] | None:
    """(paper id, question) of a Share button; None for a tampered value."""
    try:
        found = json.loads(value)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    paper, question = found.get("p"), found.get("q")
    if not isinstance(paper, str) or not isinstance(question, str) or not question.strip():
        return None
    return paper, question[:QUESTION_LIMIT]


def _quote_blocks(answer: Answer, first: int = 1) -> list[dict[str, Any]]:
    blocks = []
    for n, quote in enumerate(answer.quotes, start=first):
        body = f"*[{n}]* “{esc_short(quote.text, 900)}”\n{link(quote.url, quote.label)}"
        blocks.append(text_section(body))
    return blocks


def _notes(answer: Answer) -> list[str]:
    notes = []
    if answer.problem:
        notes.append(
            f"arXiv's full text could not be read just now ({esc_short(answer.problem, 200)}): "
            "answering from the abstract."
        )
    elif answer.from_abstract:
        notes.append("arXiv has no HTML full text of this paper: answering from its abstract.")
    return notes


def answer_blocks(answer: Answer, paper: Paper) -> list[dict[str, Any]]:
    """The answer of one paper: the LLM's sentences (when any), the quotes, or the abstention."""
    blocks: list[dict[str, Any]] = []
    if answer.summary:
        said = " ".join(esc_short(s, 600) for s in answer.summary)
        blocks.append(text_section(said))
        blocks.append(context("Written by an LLM from the quotes below, and citing them."))
    if answer.quotes:
        blocks += _quote_blocks(answer)
    else:
        closest = " · ".join(link(url, label) for label, url in answer.closest)
        blocks.append(
            text_section(NOT_FOUND + (f"\nClosest sections: {closest}" if closest else ""))
        )
    blocks += [context(n) for n in _notes(answer)]
    return blocks


def _heading(question: str, paper: Paper | None, asked_by: str | None) -> str:
    who = f"<@{asked_by}> asked" if asked_by else "You asked"
    about = f" about *{link(paper.url, shorten(title_of(paper), 200))}*" if paper else ""
    return f"{who}{about}: _{esc_short(question, QUESTION_LIMIT)}_"


def answer_message(
    answer: Answer, paper: Paper, shareable: bool = True, asked_by: str | None = None
) -> dict[str, Any]:
    """`/papers ask ID QUESTION` (visible to the asker, with Share), or the shared answer."""
    blocks = [
        text_section(_heading(answer.question, paper, asked_by)),
        *answer_blocks(answer, paper),
    ]
    if shareable:
        share = button("Share", ASK_SHARE, share_value(paper.id, answer.question), "primary")
        blocks.append({"type": "actions", "elements": [share]})
    first = answer.quotes[0].text if answer.quotes else NOT_FOUND
    return message(esc_short(f"{answer.question}: {first}", 600), blocks)


def library_answer_message(
    question: str,
    answered: Sequence[tuple[Paper, Answer]],
    shareable: bool = True,
    asked_by: str | None = None,
) -> dict[str, Any]:
    """`/papers ask QUESTION`: the best quotes across the best papers, grouped by paper."""
    if not answered:
        text = f"{NOT_FOUND.replace('the paper', 'the library')} Try other words, or ask one paper."
        blocks = [text_section(_heading(question, None, asked_by)), text_section(text)]
        return message(text, blocks)
    blocks = [text_section(_heading(question, None, asked_by))]
    number = 1
    for paper, answer in answered:
        blocks.append(divider())
        blocks.append(text_section(f"*{link(paper.url, shorten(title_of(paper), 200))}*"))
        blocks += _quote_blocks(answer, number)
        blocks += [context(n) for n in _notes(answer) if not answer.from_abstract]
        number += len(answer.quotes)
    if shareable:
        blocks.append(
            {"type": "actions", "elements": [button("Share", ASK_SHARE, share_value("", question))]}
        )
    titles = "; ".join(esc_short(title_of(p), 80) for p, _ in answered)
    return message(esc_short(f"{question}: {titles}", 600), blocks)


def one_message(messages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The answers for each paper of a thread (at most 3), as one reply."""
    if len(messages) == 1:
        return messages[0]
    blocks = [b for m in messages for b in [divider(), *m["blocks"]]][1:]
    return message(" / ".join(m["text"] for m in messages)[:3000], blocks)


def several_papers_text(papers: Sequence[Paper]) -> str:
    """A mention in a thread of several papers: which one?"""
    names = "\n".join(f"• `{esc(p.id)}` {esc_short(title_of(p), 120)}" for p in papers[:10])
    return (
        "This thread has several papers. Start your question with the one you mean, like "
        f"`@papers-bot {esc(papers[0].id)} what data do they use?`:\n{names}"
    )
