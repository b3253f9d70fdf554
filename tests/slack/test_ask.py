"""Asking a paper through the real Bolt app: `/papers ask ID QUESTION` (Reading…, then quotes
linked to their sections, Share), `/papers ask QUESTION` (the library), `@papers-bot` in the
thread of a message carrying papers; against a loopback arXiv HTML and an OpenAI-compatible
LLM. Every payload is held to Block Kit's limits by the stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.models import Paper
from tests.fakes.arxiv_html import ArxivHtmlStandIn
from tests.fakes.llm import LLMStandIn
from tests.slack.conftest import CHANNEL, USER, Bot, all_text, running_bot
from tests.slack.standin import TestSlack

ASK = Path(__file__).parent.parent / "data" / "ask"
SPLINES, READING_ORDER, NO_HTML = "2601.00001", "2601.00002", "2601.00404"
PAPERS = [
    Paper(SPLINES, "Spline Bases for Small Networks", abstract="We study spline networks."),
    Paper(
        READING_ORDER,
        "Reading Order in Long Documents",
        abstract="We predict the reading order of text blocks in scanned reports.",
    ),
    Paper(
        NO_HTML,
        "Sparse Mixtures of Tiny Experts",
        abstract="We route each token to two of 64 tiny experts. Routing uses a learned gate.",
    ),
]


@pytest.fixture
def html() -> Iterator[ArxivHtmlStandIn]:
    standin = ArxivHtmlStandIn(ASK, min_interval=0.9).start()
    yield standin
    standin.stop()


@pytest.fixture
def llm() -> Iterator[LLMStandIn]:
    standin = LLMStandIn().start()
    yield standin
    standin.stop()


def started(settings: Settings, standin: TestSlack, **changes: Any) -> Any:
    running = running_bot(replace(settings, **changes), standin)
    bot = running.__enter__()
    bot.runtime.library.upsert_many(PAPERS)
    bot.runtime.search.refresh()
    return running, bot


@pytest.fixture
def asking(settings: Settings, standin: TestSlack, html: ArxivHtmlStandIn) -> Iterator[Bot]:
    running, bot = started(settings, standin, arxiv_html_url=html.url)
    try:
        yield bot
    finally:
        running.__exit__(None, None, None)


def shown_text(node: Any) -> list[str]:
    """Every text Slack renders in blocks (a button's value is data, never shown)."""
    if isinstance(node, list):
        return [t for item in node for t in shown_text(item)]
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [t for k, v in node.items() if k != "value" for t in shown_text(v)]
    return []


def ask(bot: Bot, text: str, count: int = 2, **where: str) -> list[dict[str, Any]]:
    response, url = bot.command(f"ask {text}", **where)
    assert response.status_code == 200
    return bot.responses(url, count, timeout=15)


def test_asking_one_paper_reads_it_quotes_it_and_shares_the_answer(
    asking: Bot, html: ArxivHtmlStandIn
) -> None:
    reading, answer = ask(asking, f"{SPLINES} what basis functions do they use?")
    assert "Reading" in all_text(reading) and reading["response_type"] == "ephemeral"
    assert answer["replace_original"] is True
    text = all_text(answer)
    assert "Each edge function is a sum of cubic B-splines" in text
    assert f"<https://arxiv.org/html/{SPLINES}#S2.SS1|§2.1 ¶1>" in text
    [share] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert share["action_id"] == "papers_ask_share"
    # Share: the question and the answer, for the channel; nothing fetched again.
    response, url = asking.click("papers_ask_share", share["value"])
    [posted] = asking.standin.wait_for("chat.postMessage")
    assert posted.args["channel"] == CHANNEL
    assert f"<@{USER}> asked" in all_text(posted.args) and "cubic B-splines" in all_text(
        posted.args
    )
    assert "Shared the question" in asking.responses(url)[0]["text"]
    assert [r.paper for r in html.requests] == [SPLINES]


def test_a_question_the_paper_cannot_answer_says_so_with_the_closest_sections(
    asking: Bot,
) -> None:
    _, answer = ask(asking, f"https://arxiv.org/abs/{SPLINES}v2 what BLEU score on WMT14?")
    text = all_text(answer)
    assert "I could not find that in the paper." in text
    assert text.count(f"https://arxiv.org/html/{SPLINES}") == 3


def test_a_paper_without_html_is_answered_from_its_abstract(asking: Bot) -> None:
    _, answer = ask(asking, f"{NO_HTML} how many experts is each token routed to?")
    text = all_text(answer)
    assert "no HTML full text" in text and "two of 64 tiny experts" in text


def test_a_stalled_fetch_gets_a_reply_that_says_so(asking: Bot, html: ArxivHtmlStandIn) -> None:
    html.stall_seconds = 5
    html.fail("stall", count=2)
    _, answer = ask(asking, f"{SPLINES} what do they study?")
    text = all_text(answer)
    assert "could not be read just now" in text and "We study spline networks" in text


def test_usage_and_unknown_papers(asking: Bot) -> None:
    response, url = asking.command("ask")
    assert "Ask a paper" in asking.responses(url)[0]["text"]
    response, url = asking.command(f"ask {SPLINES}")
    assert "Ask a paper" in asking.responses(url)[0]["text"]
    # Not in the library, and neither Hugging Face nor arXiv is reachable here.
    _, answer = ask(asking, "2601.09999 what is this?")
    assert "not in the library" in answer["text"]


def test_asking_the_library_quotes_the_best_papers(asking: Bot) -> None:
    ask(asking, f"{READING_ORDER} how many pages were annotated?")  # its text is now kept
    response, url = asking.command("ask reading order scanned reports annotated pages")
    [answer] = asking.responses(url)
    text = all_text(answer)
    assert "We annotated 3,200 pages" in text and "Reading Order in Long Documents" in text


def test_a_mention_in_a_papers_thread_is_answered_in_the_thread(asking: Bot) -> None:
    ts = "1767300000.000555"
    asking.runtime.library.shares.record(CHANNEL, ts, "U0BOB", [SPLINES], False)
    mention = {
        "type": "app_mention",
        "user": USER,
        "text": "<@UBOT> which optimizer do they train with?",
        "ts": "1767300001.000001",
        "thread_ts": ts,
        "channel": CHANNEL,
        "event_ts": "1767300001.000001",
    }
    assert asking.event(mention, "Ev-mention").status_code == 200
    [reading] = asking.standin.wait_for("chat.postMessage")
    assert reading.args["thread_ts"] == ts and "Reading" in all_text(reading.args)
    [update] = asking.standin.wait_for("chat.update", timeout=15)
    assert "LBFGS optimizer" in all_text(update.args)
    # Slack retries the event: nothing twice.
    asking.event(mention, "Ev-mention", {"X-Slack-Retry-Num": "1"})
    time.sleep(0.5)
    assert len(asking.standin.calls_to("chat.postMessage")) == 1


def test_a_thread_of_two_papers_gets_an_answer_for_each(asking: Bot) -> None:
    ts = "1767300000.000777"
    asking.runtime.library.shares.record(CHANNEL, ts, "U0BOB", [SPLINES, READING_ORDER], False)
    asking.event(
        {
            "type": "app_mention",
            "user": USER,
            "text": "<@UBOT> what learning rate do they use?",
            "ts": "1767300002.000001",
            "thread_ts": ts,
            "channel": CHANNEL,
        }
    )
    [update] = asking.standin.wait_for("chat.update", timeout=20)
    text = all_text(update.args)
    assert "Spline Bases for Small Networks" in text and "learning rate of 0.0003" in text


def test_hostile_questions_and_paper_text_cannot_ping_or_link(asking: Bot) -> None:
    _, answer = ask(
        asking, f"{SPLINES} <!channel> what did a reviewer write in a comment <@U0ADMIN>?"
    )
    raw = " ".join(shown_text(answer["blocks"])) + answer["text"]  # what Slack renders
    for bad in ("<!channel>", "<@U0ADMIN>", "<https://evil.example|arxiv.org>"):
        assert bad not in raw
    assert "&lt;!channel&gt;" in raw  # shown as text, quoted from the paper and the question


def test_the_llm_may_only_cite_quotes_it_was_given(
    settings: Settings, standin: TestSlack, html: ArxivHtmlStandIn, llm: LLMStandIn
) -> None:
    llm.answers["Question: which optimizer"] = (
        "They train with LBFGS for 200 steps [1]. It won the Turing award [7]. Training is fast."
    )
    running, bot = started(
        settings, standin, arxiv_html_url=html.url, llm_url=llm.url, llm_model="stand-in-model"
    )
    try:
        _, answer = ask(bot, f"{SPLINES} which optimizer do they train with?")
        text = all_text(answer)
        assert "They train with LBFGS for 200 steps [1]." in text
        assert "Turing" not in text and "Training is fast" not in text
        assert "We train with the LBFGS optimizer" in text  # the quotes stay under it
        prompt = json.dumps(llm.requests[-1]["body"]["messages"])
        assert "[1] We train with the LBFGS optimizer" in prompt
        _, again = ask(bot, f"{SPLINES} which optimizer do they train with?")
        assert len([r for r in llm.requests if r["path"].endswith("completions")]) == 1  # cached
    finally:
        running.__exit__(None, None, None)
