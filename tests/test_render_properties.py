"""Whatever a paper contains, what reaches Slack carries no live mention or link it supplied,
and every message fits Block Kit's limits (checked by the stand-in's own validator)."""

from __future__ import annotations

import json
import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.models import Paper
from bot.search import Note, SearchResponse, SearchResult
from tests.slack.standin import block_violations

INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S1>",
    "<@U123>",
    "<#C123>",
    "<https://evil.example|arxiv.org>",
    "<mailto:x@evil.example|me>",
    "*bold*",
    "`code`",
    "```block```",
    "&lt;!channel&gt;",
    "\u200b",
    "\u202e",
    "\ud800",
    "\x00",
    "&",
    "<",
    ">",
    "$\\alpha$",
    "\\textbf{x}",
    "a" * 20_000,
]
texts = st.lists(st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=200)), max_size=6).map(
    "".join
)
papers = st.builds(
    Paper,
    id=st.sampled_from(["2408.08338", "2607.28582", "hep-th/9901001"]),
    title=texts,
    abstract=texts,
    authors=st.lists(texts, max_size=12),
    ai_keywords=st.lists(texts, max_size=8),
    ai_summary=st.one_of(st.none(), texts),
    upvotes=st.integers(0, 10**6),
    published=st.sampled_from([None, "2024-08-15"]),
    github_repo=st.sampled_from([None, "https://github.com/a/b", "https://github.com/a/b|<!here>"]),
    project_page=st.sampled_from([None, "https://x.example/p> <!channel>"]),
)

# Links and mentions that we put there ourselves: arXiv / Hugging Face links built from the
# canonical id, the Daily Papers link, and the shared-by user mention.
OURS = re.compile(
    r"<https://(?:arxiv\.org/abs|huggingface\.co/papers)/[\w./-]+\|[^<>]*>"
    r"|<https://huggingface\.co/papers\?date=\d{4}-\d{2}-\d{2}\|[^<>]*>"
    r"|<https://github\.com/[^\s|<>]*\|code[^<>]*>"
    r"|<https?://[^\s|<>]+\|project page>"
    r"|<@U0SHARER>"
)


def mrkdwn_strings(payload: object) -> list[str]:
    found: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in ("text",) and isinstance(value, str):
                found.append(value)
            else:
                found.extend(mrkdwn_strings(value))
    elif isinstance(payload, list):
        for item in payload:
            found.extend(mrkdwn_strings(item))
    return found


def assert_inert(message: dict, home: bool = False) -> None:
    blocks = message.get("blocks", [])
    assert block_violations(blocks, home=home) == []
    for text in mrkdwn_strings(message):
        leftover = OURS.sub("", text)
        assert "<" not in leftover and ">" not in leftover, leftover[:200]
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        assert "\u202e" not in text and "\u200b" not in text and "\x00" not in text
    json.dumps(message).encode("utf-8")


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(papers)
def test_a_card_is_inert_and_fits(paper: Paper) -> None:
    for options in (render.CardOptions(), render.CardOptions(full=True, matched=[paper.title])):
        assert_inert(render.message("x", render.card_blocks(paper, options)))
    assert_inert(render.paper_card_message(paper))
    assert_inert(render.shared_card_message(paper, "U0SHARER", ["bookmark"]))
    assert_inert(render.digest_card_message(paper, 1, ["bookmark"]))


@SETTINGS
@given(st.lists(papers, min_size=1, max_size=12), texts)
def test_lists_of_papers_are_inert_and_fit(items: list[Paper], query: str) -> None:
    response = SearchResponse(
        query=query, total=len(items), results=[SearchResult(p, 1.0, [query]) for p in items]
    )
    assert_inert(render.search_results_message(response))
    assert_inert(render.more_like_message(items[0], response.results))
    assert_inert(render.trending_message("2026-07-31", items))
    assert_inert(render.saved_list_message(items * 3, 2, ["bookmark"]))
    assert_inert(render.digest_header_message(date(2026, 7, 31), items))
    assert_inert(render.alert_message([(query, items)]))
    assert_inert(render.home_view(items * 4, "2026-07-31", items, ["bookmark"]), home=True)
    inline = render.bibtex_message(items[:2])
    if inline:
        assert_inert(inline)


@SETTINGS
@given(texts, st.lists(texts, max_size=5))
def test_no_results_messages_are_inert(query: str, suggestions: list[str]) -> None:
    # What the person typed comes back inside the notes (`cat:VALUE is not an arXiv category`).
    response = SearchResponse(
        query=query,
        message=[Note("not-a-category", query)],
        suggestions=suggestions,
        notes=[Note("not-a-date", query)],
    )
    assert_inert(render.search_results_message(response))
