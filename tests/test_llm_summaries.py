"""The optional LLM summariser, against a loopback OpenAI-compatible server, on both backends.

The digest's cards and a search's later showings get one grounded sentence per paper; a
hallucinated number, a timeout, a 429 and a non-English language are each handled as the
README says; the daily budget and the cache hold across runs and processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.commands import Commands
from bot.config import Settings, load_settings
from bot.daily import daily_job
from bot.ingest.fetch import fetch
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.sources.hf_client import HFClient
from bot.sources.llm_client import LLMClient
from bot.summarize import tldr, tldr_note
from bot.summarize.llm import LLMSummaries, ungrounded
from tests.fakes.hf import HFStandIn
from tests.fakes.llm import LLMStandIn
from tests.slack.standin import TestSlack

CHANNEL = "C0PAPERS"
FRIDAY = date(2026, 7, 31)
TOP = "2607.28618"  # the Friday digest's first paper


@pytest.fixture
def llm() -> Iterator[LLMStandIn]:
    standin = LLMStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def slack() -> Iterator[TestSlack]:
    standin = TestSlack().start()
    yield standin
    standin.stop()


@pytest.fixture
def settings(
    tmp_path: Path, hf: HFStandIn, slack: TestSlack, llm: LLMStandIn, database_url: str | None
) -> Settings:
    return Settings(
        database_url=database_url,
        slack_bot_token=slack.bot_token,
        slack_signing_secret="s",
        slack_api_url=slack.api_url,
        hf_api_url=hf.url,
        data_dir=tmp_path / "data",
        sample_data=False,
        channels=[CHANNEL],
        llm_url=llm.url,
        llm_model="tiny-model",
        llm_api_key="sk-test",
    )


def fetched_runtime(settings: Settings, hf: HFStandIn) -> Runtime:
    runtime = Runtime.open(settings)
    fetch(runtime.library, [FRIDAY], HFClient(hf.url, timeout=2, sleep=lambda s: None))
    return runtime


def digest_cards(runtime: Runtime, slack: TestSlack) -> dict[str, str]:
    """Paper id -> its posted card's blocks, as JSON text."""
    return {
        str(runtime.library.messages.paper_for(CHANNEL, m["ts"])): json.dumps(
            m["blocks"], ensure_ascii=False
        )
        for m in slack.messages.get(CHANNEL, [])
        if m.get("thread_ts")
    }


def title_of(runtime: Runtime, paper_id: str) -> str:
    paper = runtime.library.get(paper_id)
    assert paper is not None
    return paper.title


def test_settings_go_together_and_fall_back_to_openai_api_key() -> None:
    half = load_settings({"PAPERS_LLM_URL": "http://127.0.0.1:1/v1"})
    assert any("PAPERS_LLM_MODEL go together" in p for p in half.problems)
    whole = load_settings(
        {"PAPERS_LLM_URL": "http://x/v1", "PAPERS_LLM_MODEL": "m", "OPENAI_API_KEY": "sk-o"}
    )
    assert whole.llm and whole.llm_api_key == "sk-o" and whole.llm_daily_limit == 200
    assert whole.llm_language == "English" and "sk-o" in whole.secrets()
    assert any(
        "PAPERS_LLM_DAILY_LIMIT" in p
        for p in load_settings({"PAPERS_LLM_DAILY_LIMIT": "lots"}).problems
    )
    assert not load_settings({}).llm  # off by default


def test_digest_cards_show_grounded_llm_tldrs_and_say_which(
    settings: Settings, hf: HFStandIn, llm: LLMStandIn, slack: TestSlack
) -> None:
    runtime = fetched_runtime(settings, hf)
    liar = "2607.28227"
    llm.answers[title_of(runtime, liar)] = (
        "It cuts the cost of inference by 97% on every benchmark."
    )
    daily_job(settings, runtime, SlackBot(runtime, make_client(settings)), day=FRIDAY)
    cards = digest_cards(runtime, slack)
    assert len(cards) == 5
    top = runtime.library.get(TOP)
    assert top is not None and top.llm_summary and top.llm_summary in cards[TOP]
    assert "AI summary · tiny-model" in cards[TOP]
    # The invented 97% is in no abstract: rejected, the extractive TL;DR shown and said so.
    assert "97%" not in cards[liar] and "TL;DR from the abstract" in cards[liar]
    assert runtime.library.get(liar).llm_summary is None  # type: ignore[union-attr]
    [request] = [r for r in llm.requests if top.title in json.dumps(r["body"])]
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert "papers-bot/" in request["headers"]["User-Agent"]
    body = request["body"]
    assert body["model"] == "tiny-model" and body["temperature"] == 0
    system, user = body["messages"]
    assert "one sentence" in system["content"] and "English" in system["content"]
    # The title and the abstract only: no authors, no keywords, nothing else of the paper.
    assert user["content"] == f"Title: {top.title}\n\nAbstract: {top.abstract}"
    assert len(llm.requests) == 5  # the digest's five papers, nothing else
    # At temperature 0 the liar would lie again: its paper is not asked for twice.
    assert runtime.summaries is not None
    runtime.summaries.summarise(runtime.library.get_many([liar]), time_box=5)
    assert len(llm.requests) == 5


def test_tldrs_are_kept_so_no_process_asks_twice_and_the_budget_holds(
    settings: Settings, hf: HFStandIn, llm: LLMStandIn
) -> None:
    runtime = fetched_runtime(replace(settings, llm_daily_limit=3), hf)
    papers = runtime.library.listed_between("2026-07-30", "2026-07-31")[:6]
    assert runtime.summaries is not None
    made = runtime.summaries.summarise(papers, time_box=20)
    assert sum(p.llm_summary is not None for p in made) == 3  # the budget: 3 calls a day
    assert len(llm.requests) == 3
    # Another process (a replica, a restart) on the same library: the budget is spent there too,
    # and what was made is kept: nothing is asked again.
    other = Runtime.open(replace(settings, llm_daily_limit=3))
    again = other.library.get_many(p.id for p in papers)
    assert other.summaries is not None
    assert sum(p.llm_summary is not None for p in other.summaries.summarise(again, 20)) == 3
    assert len(llm.requests) == 3
    tomorrow = LLMSummaries(
        other.library,
        LLMClient(llm.url, "tiny-model", timeout=5).complete,
        "tiny-model",
        daily_limit=3,
        today=lambda: "2026-08-01",
    )
    later = tomorrow.summarise(other.library.get_many(p.id for p in papers), 20)
    assert all(p.llm_summary for p in later) and len(llm.requests) == 6


def test_a_timeout_leaves_the_extractive_tldr_and_a_429_is_retried_after_its_wait(
    settings: Settings, hf: HFStandIn, llm: LLMStandIn
) -> None:
    runtime = fetched_runtime(settings, hf)
    [paper] = runtime.library.get_many([TOP])
    quick = LLMClient(llm.url, "tiny-model", timeout=0.5, max_attempts=1)
    summaries = LLMSummaries(runtime.library, quick.complete, "tiny-model")
    llm.fail("stall")
    started = time.monotonic()
    [shown] = summaries.summarise([paper], time_box=10)
    assert time.monotonic() - started < llm.stall_seconds
    assert shown.llm_summary is None and tldr_note(shown) == "TL;DR from the abstract"
    assert tldr(shown) == tldr(paper)  # the extractive one
    waits: list[float] = []
    patient = LLMClient(llm.url, "tiny-model", timeout=5, sleep=waits.append)
    retried = LLMSummaries(runtime.library, patient.complete, "tiny-model")
    llm.fail("429", retry_after="7")
    [shown] = retried.summarise([paper], time_box=10)
    assert waits == [7.0] and shown.llm_summary  # waited what it was told, then got one


def test_a_tldr_in_another_language_is_asked_for_and_kept(
    settings: Settings, hf: HFStandIn, llm: LLMStandIn, slack: TestSlack
) -> None:
    runtime = fetched_runtime(replace(settings, llm_language="German"), hf)
    paper = runtime.library.get(TOP)
    assert paper is not None
    german = "Die Arbeit stellt eine Methode vor, die Modelle deutlich schneller macht."
    llm.answers[paper.title] = german
    daily_job(settings, runtime, SlackBot(runtime, make_client(settings)), day=FRIDAY)
    assert "in German" in llm.requests[0]["body"]["messages"][0]["content"]
    assert german in digest_cards(runtime, slack)[TOP]


def test_a_search_answers_at_once_and_its_top_five_get_tldrs_for_the_next_showing(
    settings: Settings, hf: HFStandIn, llm: LLMStandIn
) -> None:
    runtime = fetched_runtime(settings, hf)
    commands = Commands(runtime)
    first = commands.reply("U1", "agents")
    assert first.shown and not llm.requests  # the answer never waited for the LLM
    assert "AI summary · tiny-model" not in json.dumps(first.message, ensure_ascii=False)
    commands.answers.after_answer(first)
    deadline = time.monotonic() + 10
    while len(llm.requests) < min(5, len(first.shown)) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the last answer is written to the catalog
    again = commands.reply("U1", "agents")
    assert "AI summary · tiny-model" in json.dumps(again.message, ensure_ascii=False)
    assert len(llm.requests) == min(5, len(first.shown))


def test_grounding_rejects_invented_numbers_and_names() -> None:
    from bot.models import Paper

    paper = Paper("1", "S-KAN: Selectable KANs", "S-KAN fits 7 tasks and beats MLPs by 12%.")
    assert ungrounded("S-KAN fits 7 tasks, beating MLPs by 12%.", paper) == []
    assert ungrounded("S-KAN beats MLPs by 15% on 7 tasks.", paper) == ["15"]
    assert ungrounded("S-KAN beats GPT-4o on 7 tasks.", paper) == ["4", "GPT-4o"]
    assert ungrounded("S-KAN beats MLPs by 12.5%.", paper) == ["12.5"]  # not the 12%
    in_german = Paper("2", "T", "Accuracy rises to 97.5% on 1,000 prompts.")
    assert ungrounded("Die Genauigkeit steigt auf 97,5 % bei 1000 Prompts.", in_german) == []
