"""The LLM's answer to a question about a paper, written from numbered quotes alone (`/papers
ask`, with PAPERS_LLM_URL and PAPERS_LLM_MODEL): its prompt, and the check that keeps only the
sentences ending with the numbers of quotes it was shown."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from bot.search.passages import Answer, Quote
from bot.text import split_sentences

log = logging.getLogger(__name__)

_CITED = re.compile(r"((?:\s*\[\d+\])+)\s*[.!?]?\s*$")


def llm_messages(question: str, quotes: Sequence[Quote]) -> list[dict[str, str]]:
    numbered = "\n".join(f"[{n}] {q.text}" for n, q in enumerate(quotes, start=1))
    return [
        {
            "role": "system",
            "content": (
                "You answer questions about a research paper using only the numbered quotes "
                "from it. Write one to three short sentences. End every sentence with the "
                "numbers of the quotes it relies on, like [1] or [1][2]. Never add facts that "
                "are not in the quotes. If the quotes do not answer the question, reply exactly: "
                "cannot answer"
            ),
        },
        {"role": "user", "content": f"Quotes:\n{numbered}\n\nQuestion: {question}"},
    ]


def grounded_sentences(answer: str, quotes: int) -> list[str]:
    """The LLM's sentences that each end citing only quotes it was shown; [] for "cannot
    answer" or when none does."""
    if "cannot answer" in answer.lower():
        return []
    kept = []
    for sentence in split_sentences(answer):
        cited = _CITED.search(sentence)
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", cited.group(1))] if cited else []
        if numbers and all(1 <= n <= quotes for n in numbers):
            kept.append(sentence)
        else:
            log.info("an LLM sentence citing %s was dropped (quotes 1-%d)", numbers, quotes)
    return kept[:3]


def with_llm_summary(
    answer: Answer, complete: Callable[[list[dict[str, str]]], str] | None
) -> Answer:
    """`answer` with the LLM's grounded sentences, when an LLM is at hand (`complete`) and the
    answer has quotes; the quotes are always kept."""
    if complete is None or not answer.quotes:
        return answer
    try:
        written = complete(llm_messages(answer.question, answer.quotes))
    except Exception as error:  # the quotes are the answer; the LLM is a bonus
        log.warning("the LLM could not summarise the quotes: %s", error)
        return answer
    answer.summary = grounded_sentences(written, len(answer.quotes))
    return answer
