"""TL;DRs by an LLM, optional, grounded, budgeted, never in anyone's way.

On when PAPERS_LLM_URL and PAPERS_LLM_MODEL are set. A paper without Hugging Face's
`ai_summary` gets one sentence of at most 280 characters from its title and abstract only
(`temperature=0`, in PAPERS_LLM_LANGUAGE). The sentence is kept only when it is grounded: every
number and every coined name it writes (S-KAN, GPT-4o, 25%) occurs in the title or abstract;
otherwise the extractive TL;DR stays. Kept in the catalog's paper record with the model and
prompt version that made it, so a replica, a restart or another workspace never asks again, and
a new model or prompt makes a new one. A daily budget (PAPERS_LLM_DAILY_LIMIT calls, counted in
the catalog across every process) caps the cost.

Only what is about to be shown is summarised: a digest's papers before it posts (within a time
box: late answers are kept for the next showing, never waited for), and a search's top five
after its first answer has been sent (in the background). Any failure leaves the extractive
TL;DR: the card says which one it shows.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, datetime

from bot.library import Library, StoreError
from bot.models import Paper
from bot.summarize.latex import latex_to_unicode
from bot.summarize.tldr import TLDR_LIMIT

log = logging.getLogger(__name__)
PROMPT_VERSION = 1
DIGEST_TIME_BOX = 30.0  # seconds a digest waits for its TL;DRs, all together
ASK_AGAIN_AFTER = 3600.0  # seconds before a paper whose request failed is asked for again
NEVER = float("inf")  # an unusable or ungrounded answer: not asked again by this process
AT_ONCE = 2  # requests in flight: local servers (Ollama, llama.cpp) serve one or two at a time

Complete = Callable[[list[dict[str, str]]], str]  # chat messages -> the model's answer

_SYSTEM = (
    "You write the TL;DR of a research paper for a Slack digest. Answer with exactly one "
    "sentence of at most {limit} characters, in {language}, stating what the paper contributes "
    "and its headline result. Use only facts from the title and abstract; copy names and "
    "numbers exactly as written there. No preamble, no quotes, no markdown."
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # whole: 97% is not the abstract's 97.5%
# A coined name: inner capitals, or letters with digits (S-KAN, DPM-Solver, GPT-4o, Qwen2).
_NAME = re.compile(r"\b(?=[\w-]*[A-Z][\w-]*[A-Z0-9]|[\w-]*[a-z][\w-]*[A-Z])[A-Za-z][\w-]*\w\b")
_PREAMBLE = re.compile(r"^(?:tl;?dr|summary|résumé|zusammenfassung)\s*[:：-]\s*", re.IGNORECASE)


def messages_for(paper: Paper, language: str) -> list[dict[str, str]]:
    """The prompt: the title and abstract, nothing else of the paper (PROMPT_VERSION)."""
    title, abstract = latex_to_unicode(paper.title), latex_to_unicode(paper.abstract)
    return [
        {"role": "system", "content": _SYSTEM.format(limit=TLDR_LIMIT, language=language)},
        {"role": "user", "content": f"Title: {title}\n\nAbstract: {abstract}"},
    ]


def cleaned(answer: str) -> str | None:
    """The answer as one line without quotes or a "TL;DR:" preamble; None when it is no
    usable sentence (empty, or over the limit: cutting a model's sentence is not ours to do)."""
    text = " ".join(answer.split()).strip().strip("\"'“”‘’`*").strip()
    text = _PREAMBLE.sub("", text).strip()
    if len(text) < 20 or len(text) > TLDR_LIMIT:
        return None
    return text


def ungrounded(summary: str, paper: Paper) -> list[str]:
    """The numbers and coined names of `summary` that the title and abstract never write."""
    source = latex_to_unicode(f"{paper.title}\n{paper.abstract}")
    numbers = {_number(n) for n in _NUMBER.findall(source)}
    missing = [n for n in _NUMBER.findall(summary) if _number(n) not in numbers]
    missing += [name for name in _NAME.findall(summary) if name not in source]
    return missing


def _number(text: str) -> str:
    """1,000 and 1000 are one number; 97,5 (a decimal comma) is 97.5."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text):
        return text.replace(",", "")
    return text.replace(",", ".")


class LLMSummaries:
    """Makes, checks and keeps LLM TL;DRs for papers about to be shown."""

    def __init__(
        self,
        library: Library,
        complete: Complete,
        model: str,
        language: str = "English",
        daily_limit: int = 200,
        today: Callable[[], str] = lambda: datetime.now(UTC).date().isoformat(),
    ):
        self.library = library
        self.complete = complete
        self.made_by = f"{model} prompt-{PROMPT_VERSION} {language}"
        self.language = language
        self.daily_limit = daily_limit
        self.today = today
        self._pool = ThreadPoolExecutor(max_workers=AT_ONCE, thread_name_prefix="llm-tldr")
        self._asked: dict[str, float] = {}  # paper -> when: in flight, or failed a while ago

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wanted(self, papers: Sequence[Paper]) -> list[Paper]:
        """The papers a TL;DR of ours would be shown for: no HF summary, none of this model."""
        return [
            p
            for p in papers
            if not p.ai_summary
            and p.abstract
            and p.llm_summary_by != self.made_by
            and time.monotonic() - self._asked.get(p.id, -ASK_AGAIN_AFTER) >= ASK_AGAIN_AFTER
        ]

    def summarise(self, papers: Sequence[Paper], time_box: float = DIGEST_TIME_BOX) -> list[Paper]:
        """`papers` with the TL;DRs made within `time_box` (the rest go on in the background
        and are kept for the next showing)."""
        asked = {self._submit(p): p for p in self.wanted(papers)}
        if not asked:
            return list(papers)
        done, late = wait(asked, timeout=time_box)
        if late:
            log.info(
                "%d of %d LLM TL;DRs ran out of time; kept when they come", len(late), len(asked)
            )
        made = {p.id: p for f in done if (p := _result(f)) is not None}
        return [made.get(p.id, p) for p in papers]

    def summarise_later(self, papers: Sequence[Paper]) -> None:
        """Ask in the background (a search's top five, after its answer was sent)."""
        for paper in self.wanted(papers):
            self._submit(paper).add_done_callback(_result)

    def _submit(self, paper: Paper) -> Future[Paper | None]:
        self._asked[paper.id] = time.monotonic()  # not asked twice while in flight
        return self._pool.submit(self._one, paper)

    def _one(self, paper: Paper) -> Paper | None:
        if not self.library.catalog.take_llm_call(self.today(), self.daily_limit):
            log.info(
                "the LLM's daily budget (%d calls) is spent; extractive TL;DRs until tomorrow",
                self.daily_limit,
            )
            return None
        answer = self.complete(messages_for(paper, self.language))
        summary = cleaned(answer)
        if summary is None:
            log.info("the LLM's TL;DR of %s was not one sentence within the limit", paper.id)
            self._asked[paper.id] = NEVER  # at temperature 0 it would answer the same again
            return None
        missing = ungrounded(summary, paper)
        if missing:
            log.info(
                "the LLM's TL;DR of %s is not grounded (%s); not shown",
                paper.id,
                ", ".join(missing[:5]),
            )
            self._asked[paper.id] = NEVER
            return None
        try:  # only the new fields: what else the catalog learned meanwhile stays
            self.library.upsert_many(
                [Paper(paper.id, paper.title, llm_summary=summary, llm_summary_by=self.made_by)]
            )
        except StoreError:
            log.exception("could not keep the LLM's TL;DR of %s", paper.id)
        self._asked.pop(paper.id, None)
        return replace(paper, llm_summary=summary, llm_summary_by=self.made_by)


def _result(future: Future[Paper | None]) -> Paper | None:
    try:
        return future.result()
    except Exception as error:  # the LLM's trouble of any kind: the extractive TL;DR stays
        log.info("an LLM TL;DR failed: %s", error)
        return None
