"""Citations and code: Semantic Scholar's figures on every card, refreshed off the request path;
`sort:cited` and `has:code`; `papers-bot enrich`; the weekly citation alerts. Over the real
Bolt app, the loopback Slack and a loopback Graph API (tests/fakes/scholar.py), on both
backends."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.daily.workspaces import DueDigests, OneWorkspace
from bot.digest import run_digest
from bot.ingest.enrich import Enricher
from bot.library import load_sample_papers
from bot.models import Paper
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.sources.semantic_scholar import ScholarClient
from tests.conftest import run_papers_bot
from tests.fakes.scholar import ScholarStandIn, citing_paper
from tests.slack.conftest import USER, Bot, all_text, running_bot
from tests.slack.standin import TestSlack

KAN, KAN_ATTENTION, DPM = "2408.08338", "2503.10632", "2206.00927"
HIDDEN_REPO = "https://github.com/someone/kan-attention"


@pytest.fixture
def scholar() -> Iterator[ScholarStandIn]:
    standin = ScholarStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def cited_bot(settings: Settings, standin: TestSlack, scholar: ScholarStandIn) -> Iterator[Bot]:
    """The bot, its papers' code known (Hugging Face's repository for one, a URL in the
    abstract of another), Semantic Scholar's figures asked in the background."""
    settings = replace(settings, scholar_url=scholar.url)
    with running_bot(settings, standin) as running:
        library = running.runtime.library
        kan, attention = library.get(KAN), library.get(KAN_ATTENTION)
        assert kan and attention
        library.upsert_many(
            [
                replace(kan, github_repo="https://github.com/kan/skan", github_stars=2134),
                replace(attention, abstract=attention.abstract + f" Code: {HIDDEN_REPO}."),
            ]
        )
        running.runtime.search.refresh()
        running.runtime.enricher = Enricher(
            library, lambda: ScholarClient(scholar.url, "the-key", sleep=time.sleep)
        )
        yield running


def answer(bot: Bot, text: str) -> dict[str, Any]:
    _, url = bot.command(text)
    return bot.responses(url)[0]


def shown_ids(message: dict[str, Any]) -> list[str]:
    ids = []
    for block in message.get("blocks", []):
        block_id = str(block.get("block_id", ""))
        if block_id.startswith("paper:") and block_id[6:] not in ids:
            ids.append(block_id[6:])
    return ids


def wait_for(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert check()


def test_figures_are_fetched_after_the_answer_and_shown_on_the_next(
    cited_bot: Bot, scholar: ScholarStandIn
) -> None:
    scholar.know(KAN, 1234, 56, venue="ICLR", year=2025)
    scholar.know(KAN_ATTENTION, 7)
    scholar.delay = 3.0  # a slow API: the answer must not wait for it
    started = time.monotonic()
    first = answer(cited_bot, "kolmogorov arnold")
    answered = time.monotonic()
    assert answered - started < scholar.delay  # the answer did not wait for Semantic Scholar
    assert "cited by" not in all_text(first)
    assert "code ★ 2.1k" in all_text(first)  # Hugging Face's repository and stars, linked
    assert "<https://github.com/kan/skan|code ★ 2.1k>" in all_text(first)
    assert f"<{HIDDEN_REPO}|code>" in all_text(first)  # from the abstract, no stars
    wait_for(lambda: (cited_bot.runtime.library.get(KAN) or Paper("", "")).citations == 1234)
    [batch] = scholar.calls("/paper/batch")
    assert batch.at >= answered - 0.05  # asked after the answer left
    assert batch.headers.get("x-api-key") == "the-key"
    assert batch.headers.get("User-Agent", "").startswith("papers-bot/")
    assert batch.query["fields"] == [
        "externalIds,citationCount,influentialCitationCount,venue,year"
    ]
    assert KAN in json.dumps(batch.body) and "arXiv:" in json.dumps(batch.body)

    again = answer(cited_bot, "kolmogorov arnold")
    text = all_text(again)
    assert f"<https://www.semanticscholar.org/arxiv/{KAN}|cited by 1,234>" in text
    assert "cited by 7" in text
    # Shown again within the week: not asked again, known or unknown.
    ids_asked = {i for r in scholar.calls("/paper/batch") for i in r.body["ids"]}
    wait_for(
        lambda: all(
            cited_bot.runtime.library.get(i.removeprefix("arXiv:")).scholar_checked
            for i in ids_asked
        )
    )  # type: ignore[union-attr]
    answer(cited_bot, "kolmogorov arnold")
    time.sleep(Enricher.WAIT_FOR_MORE + 0.5)
    assert len(scholar.calls("/paper/batch")) == 1
    # The same figures on the reading list and on a digest card.
    cited_bot.click("papers_save", KAN)
    wait_for(lambda: cited_bot.runtime.library.saves.contains(USER, KAN))
    assert "cited by 1,234" in all_text(answer(cited_bot, "saved"))
    library = cited_bot.runtime.library
    today = date.today().isoformat()
    library.upsert_many([replace(library.get(KAN), listed=today)])  # type: ignore[type-var]
    slackbot = SlackBot(cited_bot.runtime, make_client(cited_bot.runtime.settings))
    run_digest(library, slackbot, "C0PAPERS", date.today(), 5, ["bookmark"], pace=0)
    cards = [m for m in cited_bot.standin.messages["C0PAPERS"] if m.get("thread_ts")]
    assert any("cited by 1,234" in all_text(m) and "code ★ 2.1k" in all_text(m) for m in cards)
    unknown = [i for i in ids_asked if i.removeprefix("arXiv:") not in scholar.papers]
    for paper_id in unknown:
        paper = cited_bot.runtime.library.get(paper_id.removeprefix("arXiv:"))
        assert paper and paper.scholar_known is False and paper.citations is None


def test_stale_figures_are_refreshed_and_malformed_rows_change_nothing(
    cited_bot: Bot, scholar: ScholarStandIn
) -> None:
    library = cited_bot.runtime.library
    kan = library.get(KAN)
    assert kan
    eight_days_ago = (datetime.now(UTC) - timedelta(days=8)).isoformat(timespec="seconds")
    library.upsert_many(
        [replace(kan, citations=10, scholar_checked=eight_days_ago, scholar_known=True)]
    )
    scholar.know(KAN, 12)
    scholar.papers[KAN_ATTENTION] = {"paperId": "x", "citationCount": "many"}  # malformed
    scholar.fail(429, "1")  # the first answer: wait a second
    answer(cited_bot, "kolmogorov arnold")
    wait_for(lambda: (library.get(KAN) or kan).citations == 12)
    calls = scholar.calls("/paper/batch")
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.99  # Retry-After honoured
    attention = library.get(KAN_ATTENTION)
    assert attention and attention.citations is None and attention.scholar_known is False


def test_sort_cited_and_has_code_order_and_filter_with_other_filters(
    cited_bot: Bot,
) -> None:
    library = cited_bot.runtime.library
    figures = {KAN: 50, KAN_ATTENTION: 900, "2411.03884": 300}
    library.upsert_many(
        [
            replace(p, citations=figures[p.id], scholar_known=True)
            for p in library.get_many(list(figures))
        ]
    )
    cited_bot.runtime.search.refresh()
    plain = shown_ids(answer(cited_bot, "kolmogorov arnold"))
    by_citations = shown_ids(answer(cited_bot, "kolmogorov arnold sort:cited"))
    assert set(by_citations) == set(plain)
    assert by_citations[:2] == [KAN_ATTENTION, KAN]  # 900, 50, then the uncounted
    coded = answer(cited_bot, "kolmogorov arnold has:code")
    with_code = shown_ids(coded)
    assert with_code == [p for p in plain if p in (KAN, KAN_ATTENTION)]
    assert "2 of 2 papers" in all_text(coded)  # the total counts papers with code only
    mixed = library.get_many(shown_ids(answer(cited_bot, "has:code sort:cited since:2024")))
    assert mixed[0].id == KAN_ATTENTION and KAN in [p.id for p in mixed]
    assert all(p.code_url and (p.date or "") >= "2024" for p in mixed)
    counts = [p.citations or 0 for p in mixed]
    assert counts == sorted(counts, reverse=True)
    refused = answer(cited_bot, "kan sort:newest")
    assert "`sort:newest` is not an order I know; write sort:cited." in all_text(refused)
    assert "has:code" in all_text(answer(cited_bot, "help"))


def test_enrich_fills_the_library_in_batches_a_second_apart_and_resumes(
    tmp_path: Path, scholar: ScholarStandIn, settings: Settings
) -> None:
    sample = load_sample_papers()
    extra = [
        Paper(f"2611.{n:05d}", f"Paper number {n}", published="2026-11-20") for n in range(1100)
    ]
    records = tmp_path / "papers.jsonl"
    records.write_text("\n".join(json.dumps(p.to_record()) for p in [*sample, *extra]) + "\n")
    for paper in extra[:700]:
        scholar.know(paper.id, 3)
    scholar.fail(429, "2")
    env = {
        "PAPERS_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "SEMANTIC_SCHOLAR_API_URL": scholar.url,
        "PAPERS_SAMPLE_DATA": "0",
    }
    imported = run_papers_bot(tmp_path, "import", str(records), **env)
    assert imported.returncode == 0, imported.stderr
    first = run_papers_bot(tmp_path, "enrich", "--since", "2026-11-01", **env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "1,100 papers to ask Semantic Scholar about (since 2026-11-01)" in first.stdout
    assert "found 700, unknown to Semantic Scholar 400, failed 0" in first.stdout
    calls = scholar.calls("/paper/batch")
    sizes = [len(c.body["ids"]) for c in calls if c.body]
    assert sizes == [500, 500, 500, 100]  # the 429'd first batch asked again
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert min(gaps) >= 0.99 and gaps[0] >= 1.99  # a second apart; Retry-After: 2 kept
    again = run_papers_bot(tmp_path, "enrich", "--since", "2026-11-01", **env)
    assert "\n0 papers to ask" in "\n" + again.stdout  # fresh: resumed, not redone
    assert len(scholar.calls("/paper/batch")) == 4
    everything = run_papers_bot(tmp_path, "enrich", **env)  # the rest of the library
    assert f"{len(sample)} papers to ask Semantic Scholar about\n" in everything.stdout


# -- citation alerts ----------------------------------------------------------------------------


def monday_at(week: int, hour: int = 9, minute: int = 5) -> datetime:
    return datetime(2026, 11, 30, hour, minute, tzinfo=UTC) + timedelta(weeks=week)


def dms(slack: TestSlack, user: str = USER) -> list[dict[str, Any]]:
    return slack.messages.get(f"D{user}", [])


def test_a_weekly_citation_alert_with_a_new_citing_paper_then_none_the_next_week(
    cited_bot: Bot, scholar: ScholarStandIn
) -> None:
    slack, bot, library = cited_bot.standin, cited_bot, cited_bot.runtime.library
    bot.click("papers_save", KAN)
    bot.click("papers_save", DPM, user="U0BOB")
    wait_for(lambda: library.saves.contains(USER, KAN) and library.saves.contains("U0BOB", DPM))
    assert "Citation alerts on" in all_text(answer(bot, "citations on"))
    assert "already on" in all_text(answer(bot, "citations on"))
    scholar.citing[KAN] = [
        citing_paper(1, "2025-01-10"),  # old: the starting point
        citing_paper(2, "2026-11-27", arxiv_id="2611.99001", title="KANs for <!channel> physics"),
        {"citingPaper": {"paperId": "bad|id", "title": "junk"}},  # malformed: skipped
    ]
    scholar.citing[DPM] = [citing_paper(3, "2026-11-28")]  # Bob did not ask: never sent
    job = DueDigests(
        bot.runtime.settings,
        bot.runtime,
        OneWorkspace(SlackBot(bot.runtime, make_client(bot.runtime.settings))),
        pace=0,
    )
    assert job.tick(monday_at(0, 8, 59)) == [] and dms(slack) == []  # not yet Monday 09:00
    job.tick(monday_at(0))
    [first] = dms(slack)
    text = all_text(first)
    assert "New papers citing what you saved" in text and "Activation Space Selectable" in text
    assert "KANs for &lt;!channel&gt; physics" in text  # hostile title, escaped
    assert "number 1" not in text  # dated before this week: the starting point
    assert '"value": "2611.99001"' in json.dumps(first["blocks"])  # Save
    assert dms(slack, "U0BOB") == []
    job.tick(monday_at(0, 9, 30))  # the same week again: claimed, nothing more
    assert len(dms(slack)) == 1

    # Next week: a citing paper Semantic Scholar only now lists, with an old date: sent.
    scholar.citing[KAN].append(citing_paper(4, "2024-03-01", title="Late to the index"))
    job.tick(monday_at(1))
    assert len(dms(slack)) == 2 and "Late to the index" in all_text(dms(slack)[-1])
    assert "physics" not in all_text(dms(slack)[-1])  # never twice
    # A paper saved since: what already cited it is its starting point, not news.
    bot.click("papers_save", DPM)
    wait_for(lambda: library.saves.contains(USER, DPM))
    job.tick(monday_at(2))  # nothing new: no DM
    assert len(dms(slack)) == 2
    assert len(library.citation_alerts.seen(USER)) == 4  # 1 start, 2 sent, DPM's start
    # Save on a citing paper saves it: it is in the library now.
    bot.click("papers_save", "2611.99001")
    wait_for(lambda: library.saves.contains(USER, "2611.99001"))
    # Citing requests a second apart, each saved paper asked once a week.
    asked = scholar.calls("/citations")
    assert min(b.at - a.at for a, b in zip(asked, asked[1:], strict=False)) >= 0.99
    assert all(r.query["fields"] == ["title,externalIds,publicationDate,authors"] for r in asked)


def test_forget_me_deletes_the_subscription_and_what_was_sent(
    cited_bot: Bot, scholar: ScholarStandIn
) -> None:
    bot, library = cited_bot, cited_bot.runtime.library
    answer(bot, "citations on")
    library.citation_alerts.claim(USER, [("abc", KAN)], sent=True)
    bot.click("papers_forget_me", "confirm")
    alerts = library.citation_alerts
    wait_for(lambda: not alerts.is_on(USER) and alerts.seen(USER) == set())
    bot.standin.wait_for("response_url", 2)  # "forgotten", said once it was all done
    assert "Citation alerts were not on." in all_text(answer(bot, "citations off"))


def test_citations_now_runs_the_check_at_once_from_the_command_line(
    tmp_path: Path, scholar: ScholarStandIn, settings: Settings, standin: TestSlack
) -> None:
    with running_bot(replace(settings, scholar_url=scholar.url), standin) as bot:
        bot.click("papers_save", KAN)
        wait_for(lambda: bot.runtime.library.saves.contains(USER, KAN))
        answer(bot, "citations on")
    today = date.today().isoformat()
    scholar.citing[KAN] = [citing_paper(5, today, title="Fresh today")]
    env = {
        "PAPERS_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "SEMANTIC_SCHOLAR_API_URL": scholar.url,
        "SLACK_BOT_TOKEN": standin.bot_token,
        "SLACK_API_URL": standin.api_url,
    }
    done = run_papers_bot(tmp_path, "citations", "--now", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "this workspace: sent 1 to 1" in done.stdout
    assert "Fresh today" in all_text(dms(standin)[-1])
    again = run_papers_bot(tmp_path, "citations", "--now", **env)
    assert "this workspace: sent 0 to 0" in again.stdout
    usage = run_papers_bot(tmp_path, "citations", **env)
    assert usage.returncode == 2 and "--now" in usage.stderr
