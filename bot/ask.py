"""Asking a paper, as people do it (`/papers ask`, a mention in a paper's thread): the paper's
full text read (kept, fetched, or its abstract: `bot.ingest.fulltext`), its sentences ranked
(`bot.search.passages`), and, with an LLM configured, a short answer written from the quotes
alone, cached and counted against PAPERS_LLM_DAILY_LIMIT. No Bolt here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.ingest.fulltext import Reading, read_paper, stored_reading
from bot.library import Library
from bot.models import Paper
from bot.runtime import Runtime
from bot.search.passages import Answer, Embed, answer_from
from bot.sources.arxiv_html import abstract_only
from bot.sources.llm_client import LLMClient, LLMError
from bot.summarize.quoted_answer import with_llm_summary

log = logging.getLogger(__name__)

LIBRARY_PAPERS = 5  # `/papers ask QUESTION` with no paper: quotes from at most this many
QUOTES_PER_PAPER = 2
# (library, papers, question, model) -> the LLM's answer
_llm_answers: dict[tuple[str, str, str, str], str] = {}
_LLM_CACHE = 1_000


def ask_paper(runtime: Runtime, paper: Paper, question: str) -> Answer:
    """The answer to `question` from `paper`'s full text (fetched and kept when needed), with
    the LLM's grounded sentences when one is configured."""
    reading = read_paper(runtime.settings, runtime.library, paper)
    answer = answer_from(reading.full, question, paper, embed=meaning_of(runtime))
    answer.problem = reading.problem
    return with_llm_summary(answer, _llm_for(runtime, [paper.id], question))


def ask_library(runtime: Runtime, question: str) -> list[tuple[Paper, Answer]]:
    """`/papers ask QUESTION` without a paper: the best papers for it (the search, hybrid when
    on), each answered from what the library keeps (a full text read before, else the
    abstract; nothing is fetched for five papers while someone waits); papers that answer
    nothing are left out."""
    found = runtime.search.search(question, limit=LIBRARY_PAPERS).results
    answered = []
    for result in found:
        paper = result.paper
        reading = stored_reading(runtime.library, paper) or Reading(
            abstract_only(paper.id, paper.abstract)
        )
        answer = answer_from(reading.full, question, paper, embed=meaning_of(runtime))
        answer.quotes = answer.quotes[:QUOTES_PER_PAPER]
        if answer.quotes:
            answered.append((paper, answer))
    return answered


def meaning_of(runtime: Runtime) -> Embed | None:
    """The embedding model, when search by meaning is on and its parts work; else None (the
    quotes are ranked by words alone)."""
    semantic = runtime.search.semantic
    if semantic is None:
        return None
    try:
        embedder = semantic.embedder()
    except Exception as error:  # ModelMissing, a native part: words alone, said once a call
        log.warning("quotes ranked by words alone: %s", error)
        return None
    return lambda texts: embedder.embed(texts).tolist()


def papers_of_message(library: Library, channel: str, ts: str) -> list[Paper]:
    """The papers a message carries, as the bot knows them: its own card, a person's message
    whose links it unfurled, or a digest's header (whose thread holds the cards)."""
    carried = library.papers_carried_by(channel, ts)
    return carried or library.get_many(library.ledger.papers_under(channel, ts))


def _llm_for(
    runtime: Runtime, paper_ids: list[str], question: str
) -> Callable[[list[dict[str, str]]], str] | None:
    """The LLM's `complete`, cached per papers, question and model and counted against
    PAPERS_LLM_DAILY_LIMIT; None without an LLM or once the day's budget is spent."""
    settings = runtime.settings
    if not settings.llm:
        return None
    key = (
        runtime.library.catalog.identity(),  # one process may serve two libraries (tests do)
        ",".join(paper_ids),
        " ".join(question.lower().split()),
        str(settings.llm_model),
    )

    def complete(messages: list[dict[str, str]]) -> str:
        if key in _llm_answers:
            return _llm_answers[key]
        today = datetime.now(UTC).date().isoformat()
        if not runtime.library.catalog.take_llm_call(today, settings.llm_daily_limit):
            raise LLMError("the LLM's daily budget is spent")
        client = LLMClient.for_settings(settings, timeout=8.0, max_attempts=1)
        try:
            written = client.complete(messages, max_tokens=220)
        finally:
            client.close()
        if len(_llm_answers) >= _LLM_CACHE:
            _llm_answers.pop(next(iter(_llm_answers)))
        _llm_answers[key] = written
        return written

    return complete
