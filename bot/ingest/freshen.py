"""Hugging Face's AI summary and keywords for papers about to be shown, looked up just in time.

Hugging Face adds `ai_summary` and `ai_keywords` to a paper hours after it is listed, so the
morning digest's papers often lack them. Before a digest posts, the chosen papers that still lack
either are looked up (`GET /api/papers/{id}`), a few at a time and within a time box: what comes
back in time is merged into the catalog (so every later card has it too); what does not, or
fails, leaves the card on our extractive TL;DR. The daily job's re-fetch of recent days fills in
the rest. Nothing here ever stops a digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace

from bot.config import Settings
from bot.library import Library, StoreError
from bot.models import Paper
from bot.sources.hf import RowError, parse_paper_object
from bot.sources.hf_client import client_for

log = logging.getLogger(__name__)
LOOKUPS_AT_ONCE = 4  # the Hub's rate limit is shared with the day's fetch: stay small
TIME_BOX = 8.0  # seconds a digest waits for all lookups together

LookUp = Callable[[str], object]  # a paper id -> its `GET /api/papers/{id}` object, or None


def lacking_ai_fields(papers: Sequence[Paper]) -> list[Paper]:
    return [p for p in papers if not p.ai_summary or not p.ai_keywords]


def freshen(
    library: Library,
    papers: Sequence[Paper],
    look_up: LookUp,
    time_box: float = TIME_BOX,
    at_once: int = LOOKUPS_AT_ONCE,
) -> list[Paper]:
    """`papers`, with Hugging Face's AI fields where they appeared since the listing."""
    missing = lacking_ai_fields(papers)
    if not missing:
        return list(papers)
    pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="hf-lookup")
    asked = {pool.submit(look_up, p.id): p for p in missing}
    done, late = wait(asked, timeout=time_box)
    pool.shutdown(wait=False, cancel_futures=True)  # the late ones finish on their own
    if late:
        log.info("%d of %d AI-summary lookups ran out of time", len(late), len(asked))
    found = [fresh for f in done if (fresh := _with_ai_fields(asked[f], f)) is not None]
    if not found:
        return list(papers)
    try:  # only the AI fields: what else the catalog learned meanwhile stays
        library.upsert_many(
            [
                Paper(p.id, p.title, ai_summary=p.ai_summary, ai_keywords=p.ai_keywords)
                for p in found
            ]
        )
    except StoreError:  # the cards still get them; the catalog learns on the next fetch
        log.exception("could not keep the AI summaries just looked up")
    by_id = {p.id: p for p in found}
    return [by_id.get(p.id, p) for p in papers]


def _with_ai_fields(paper: Paper, answer: Future[object]) -> Paper | None:
    try:
        found = answer.result()
        if found is None:
            return None
        fresh = parse_paper_object(found, "hf")
    except RowError as error:
        log.info("Hugging Face's answer for %s was unusable: %s", paper.id, error)
        return None
    except Exception as error:  # HTTP trouble of any kind: the card keeps our TL;DR
        log.info("looking up %s on Hugging Face failed: %s", paper.id, error)
        return None
    if fresh.id != paper.id or not (fresh.ai_summary or fresh.ai_keywords):
        return None
    return replace(
        paper,
        ai_summary=paper.ai_summary or fresh.ai_summary,
        ai_keywords=paper.ai_keywords or fresh.ai_keywords,
    )


def freshener(settings: Settings, library: Library) -> Callable[[list[Paper]], list[Paper]]:
    """What a digest calls on its chosen papers: one short-lived client per digest, quick to
    give up (two attempts, 5 s each), inside the time box."""

    def run(papers: list[Paper]) -> list[Paper]:
        with client_for(settings, timeout=5.0, connect_timeout=3.0, max_attempts=2) as client:
            return freshen(library, papers, client.paper)

    return run
