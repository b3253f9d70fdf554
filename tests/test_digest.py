"""Fetch, digest, alerts and the schedule, against loopback stand-ins for both APIs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts import send_follow_alerts
from bot.commands import Commands
from bot.config import Settings
from bot.daily import daily_job, digest_trigger
from bot.daily.workspaces import DueDigests, OneWorkspace, start_digest_scheduler
from bot.digest import choose_papers, run_digest
from bot.digest_settings import due_digests, operator_digests
from bot.ingest.fetch import fetch
from bot.ingest.freshen import freshen
from bot.library import load_sample_papers
from bot.models import Paper
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.sources.hf_client import HFClient
from bot.summarize import tldr
from tests.conftest import run_papers_bot
from tests.fakes.hf import HFStandIn
from tests.slack.standin import TestSlack

CHANNEL = "C0PAPERS"
FRIDAY = date(2026, 7, 31)


@pytest.fixture
def slack() -> Iterator[TestSlack]:
    standin = TestSlack().start()
    yield standin
    standin.stop()
    assert standin.violations == []


@pytest.fixture
def settings(tmp_path: Path, hf: HFStandIn, slack: TestSlack, database_url: str | None) -> Settings:
    """Every digest test runs on each backend (`database_url`)."""
    return Settings(
        database_url=database_url,
        slack_bot_token=slack.bot_token,
        slack_signing_secret="s",
        slack_api_url=slack.api_url,
        hf_api_url=hf.url,
        data_dir=tmp_path / "data",
        sample_data=False,
        channels=[CHANNEL],
    )


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return Runtime.open(settings)


@pytest.fixture
def slackbot(runtime: Runtime, settings: Settings) -> SlackBot:
    return SlackBot(runtime, make_client(settings))


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of a child process working on the same library (files or database)."""
    return {**os.environ} | (
        {"DATABASE_URL": settings.database_url} if settings.database_url else {}
    )


def quick_client(hf: HFStandIn) -> HFClient:
    return HFClient(hf.url, timeout=2, sleep=lambda s: None)


def thread_posts(slack: TestSlack) -> list[dict]:
    return [m for m in slack.messages.get(CHANNEL, []) if m.get("thread_ts")]


def test_fetch_then_digest_posts_the_days_best_papers_once(
    runtime: Runtime, slackbot: SlackBot, slack: TestSlack, hf: HFStandIn
) -> None:
    report = fetch(runtime.library, [FRIDAY], quick_client(hf))
    assert len(report.added) == 30 and report.error is None
    result = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    assert result.posted == ["2607.28618", "2607.28227", "2607.28568", "2607.27919", "2607.28595"]
    header, *cards = slack.messages[CHANNEL]
    assert "Trending papers · Fri 31 Jul 2026" in header["text"]
    assert "huggingface.co/papers?date=2026-07-31" in json.dumps(header["blocks"])
    assert all(c["thread_ts"] == header["ts"] for c in cards) and len(cards) == 5
    assert "react with :bookmark: to save" in json.dumps(cards[0]["blocks"])
    # Reactions on digest cards find their paper.
    assert runtime.library.messages.paper_for(CHANNEL, cards[0]["ts"]) == "2607.28618"
    again = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    assert again.posted == [] and again.note == "already posted"
    assert len(slack.messages[CHANNEL]) == 6


def test_next_digest_never_repeats_a_paper_and_monday_covers_the_weekend(
    runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack
) -> None:
    fetch(
        runtime.library,
        [FRIDAY, date(2026, 8, 1), date(2026, 8, 2), date(2026, 8, 3)],
        quick_client(hf),
    )
    run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    monday = run_digest(
        runtime.library, slackbot, CHANNEL, date(2026, 8, 3), 5, ["bookmark"], pace=0
    )
    assert set(monday.posted) == {"2607.28229", "2607.26654", "2607.27851"}
    # Nothing new on Tuesday: nothing is posted at all.
    before = len(slack.messages[CHANNEL])
    tuesday = run_digest(
        runtime.library, slackbot, CHANNEL, date(2026, 8, 4), 5, ["bookmark"], pace=0
    )
    assert tuesday.posted == [] and len(slack.messages[CHANNEL]) == before
    posted = [m for m in slack.messages[CHANNEL] if m.get("thread_ts")]
    ids = [runtime.library.messages.paper_for(CHANNEL, m["ts"]) for m in posted]
    assert len(ids) == len(set(ids)) == 8


def test_paced_about_one_message_per_second(runtime: Runtime, slackbot: SlackBot, hf) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    waits: list[float] = []
    run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], sleep=waits.append)
    assert waits == [1.0] * 5


def test_a_429_from_slack_is_ridden_out(runtime: Runtime, slackbot, hf, slack) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    result = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 2, ["bookmark"], pace=0)
    assert len(result.posted) == 2 and len(slack.messages[CHANNEL]) == 3


KILLABLE = """
import os, sys
from datetime import date
from bot.config import Settings
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.digest import run_digest
settings = Settings(slack_bot_token=sys.argv[2], slack_api_url=sys.argv[1],
                    data_dir=sys.argv[3], sample_data=False,
                    database_url=os.environ.get("DATABASE_URL"))
runtime = Runtime.open(settings)
run_digest(runtime.library, SlackBot(runtime, make_client(settings)), "C0PAPERS",
           date(2026, 7, 31), 5, ["bookmark"], pace=0.4)
"""


def test_killed_between_two_posts_then_rerun_posts_nothing_twice(
    runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack, settings: Settings
) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    child = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, slack.api_url, slack.bot_token, str(settings.data_dir)],
        env=child_env(settings),
    )
    slack.wait_for("chat.postMessage", 3, timeout=30)  # the header and two cards
    child.send_signal(signal.SIGKILL)
    child.wait()
    partial = len(slack.messages[CHANNEL])
    assert 3 <= partial < 6
    result = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    messages = slack.messages[CHANNEL]
    headers = [m for m in messages if not m.get("thread_ts")]
    assert len(headers) == 1
    # Every card names its paper in its button values; no paper was posted twice.
    posted = [c["blocks"][-1]["elements"][0]["value"] for c in thread_posts(slack)]
    assert len(posted) == len(set(posted)) == len(messages) - 1
    top5 = {"2607.28618", "2607.28227", "2607.28568", "2607.27919", "2607.28595"}
    assert set(posted) <= top5 and len(posted) >= 4  # at most the one in flight is lost
    assert len(result.posted) == len(messages) - partial
    rerun = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    assert rerun.posted == []


def test_malformed_rows_and_hostile_text_are_ingested_and_posted_safely(
    runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack
) -> None:
    day = "2026-08-05"
    good = json.loads(json.dumps(hf.listings["2026-08-03"][0]))
    hostile = json.loads(json.dumps(good))
    hostile["paper"] |= {
        "id": "2608.00001v2",
        "upvotes": 999,
        "title": "<!channel> Free GPUs <@U123> <https://evil.example|arxiv.org>",
        "summary": "We propose <!here> a method <#C123> <!subteam^S1> `x` *y*. It is 10% better.",
        "submittedOnDailyAt": f"{day}T00:00:00.000Z",
        "authors": [{"name": "<!everyone>"}],
    }
    hf.listings[day] = [
        hostile,
        good,
        good,  # a duplicate row
        {"paper": {"id": "2608.00002", "title": None}},
        {"paper": {"id": "2608.00003", "title": "Typed wrong", "upvotes": "lots"}},
        {"paper": {"title": "No id"}},
        ["not", "a", "row"],
    ]
    report = fetch(runtime.library, [date(2026, 8, 5)], quick_client(hf))
    [day_report] = report.days
    assert day_report.rows == 7 and len(day_report.skipped) == 4
    assert runtime.library.get("2608.00001").upvotes == 999
    run_digest(runtime.library, slackbot, CHANNEL, date(2026, 8, 5), 5, ["bookmark"], pace=0)
    payload = json.dumps([c.args for c in slack.calls_to("chat.postMessage")])
    for live in [
        "<!channel>",
        "<@U123>",
        "<https://evil.example",
        "<!here>",
        "<#C123>",
        "<!subteam",
        "<!everyone>",
    ]:
        assert live not in payload
    assert "&lt;!channel&gt;" in payload


def test_a_failure_halfway_keeps_the_days_before_it(runtime: Runtime, hf: HFStandIn) -> None:
    hf.fail("/daily_papers", status=503, count=10)
    c = HFClient(hf.url, timeout=2, sleep=lambda s: None, max_attempts=2)
    hf.faults[0].count = 0
    first = fetch(runtime.library, [date(2026, 6, 12)], c)
    assert len(first.added) == 30
    hf.faults[0].count = 10
    report = fetch(runtime.library, [FRIDAY, date(2026, 8, 3)], c)
    assert report.error and "2026-07-31" in report.error
    assert len(runtime.library) == 30


def test_follow_alerts_one_dm_per_user_each_paper_once(
    runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack
) -> None:
    follows = runtime.library.follows
    follows.add("U0ALICE", "speculative decoding")
    follows.add("U0ALICE", "gui agents")
    follows.add("U0BOB", "kanban boards")
    report = fetch(runtime.library, [FRIDAY], quick_client(hf))
    sent = send_follow_alerts(runtime, slackbot, report.added)
    assert set(sent) == {"U0ALICE"}
    assert "2607.26627" in sent["U0ALICE"] and "2607.28227" in sent["U0ALICE"]
    [dm] = slack.calls_to("chat.postMessage")
    assert dm.args["channel"] == "DU0ALICE"
    assert send_follow_alerts(runtime, slackbot, report.added) == {}


LATER = {
    "ai_summary": "S-KAN picks each neuron's activation from a set of candidates while training.",
    "ai_keywords": ["Selectable KAN", "activation functions"],
}


def test_the_digest_looks_up_ai_summaries_that_appeared_since_the_listing(
    runtime: Runtime, slackbot: SlackBot, slack: TestSlack, hf: HFStandIn
) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    assert runtime.library.get("2607.28618").ai_summary is None  # the morning listing has none
    hf.added_later["2607.28618"] = LATER
    hf.added_later["2607.28568"] = LATER | {"ai_summary": "Too late to be shown."}
    hf.fail("/papers/2607.28568", "stall")  # answers after the time box
    hf.fail("/papers/2607.27919", status=500, count=5)  # fails: the card keeps our TL;DR
    client = quick_client(hf)

    took: list[float] = []

    def look_up(papers: list[Paper]) -> list[Paper]:
        started = time.monotonic()
        try:
            return freshen(runtime.library, papers, client.paper, time_box=1.5)
        finally:
            took.append(time.monotonic() - started)

    result = run_digest(
        runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0, freshen=look_up
    )
    assert took[0] < hf.stall_seconds  # the slow lookup was not waited for
    assert len(result.posted) == 5
    looked_up = {path for path, _ in hf.requests if path.startswith("/papers/")}
    assert looked_up == {f"/papers/{p}" for p in result.posted}  # the chosen five, no others
    cards = {
        runtime.library.messages.paper_for(CHANNEL, m["ts"]): json.dumps(m["blocks"])
        for m in thread_posts(slack)
    }
    assert "S-KAN picks each neuron" in cards["2607.28618"]
    assert "Selectable KAN" in cards["2607.28618"]
    assert "Too late" not in cards["2607.28568"]
    ours = tldr(runtime.library.get("2607.27919"))
    assert ours and ours[:60] in cards["2607.27919"]
    assert runtime.library.get("2607.28618").ai_summary == LATER["ai_summary"]  # kept
    assert slack.calls_to("chat.update") == []  # cards posted earlier are never edited


def test_the_daily_job_freshens_summaries_before_its_digest(
    settings: Settings, runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack
) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    hf.added_later["2607.28227"] = LATER
    daily_job(settings, runtime, slackbot, day=FRIDAY)
    [card] = [
        m
        for m in thread_posts(slack)
        if runtime.library.messages.paper_for(CHANNEL, m["ts"]) == "2607.28227"
    ]
    assert "S-KAN picks each neuron" in json.dumps(card["blocks"])


def test_the_daily_job_fetches_alerts_and_posts(settings, runtime, slackbot, hf, slack) -> None:
    daily_job(settings, runtime, slackbot, day=FRIDAY)  # fetches today's days: none listed
    assert not slack.messages.get(CHANNEL)
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    daily_job(settings, runtime, slackbot, day=FRIDAY)
    assert len(slack.messages[CHANNEL]) == 6
    daily_job(settings, runtime, slackbot, day=FRIDAY)  # fired twice: no second post
    assert len(slack.messages[CHANNEL]) == 6


def test_schedule_keeps_local_time_across_dst_in_los_angeles() -> None:
    settings = Settings(digest_time="09:00", timezone="America/Los_Angeles")
    trigger = digest_trigger(settings)
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 6, 12, tzinfo=UTC))
    fires = []
    for _ in range(4):
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire.replace(microsecond=1))
    assert [f.hour for f in fires] == [9, 9, 9, 9]
    assert [f.astimezone(UTC).hour for f in fires] == [17, 17, 16, 16]  # DST began 8 March
    autumn = trigger.get_next_fire_time(None, datetime(2026, 10, 30, 20, tzinfo=UTC))
    after = trigger.get_next_fire_time(autumn, autumn.replace(microsecond=1))
    assert (autumn.astimezone(UTC).hour, after.astimezone(UTC).hour) == (16, 17)


def test_catch_up_after_a_restart_within_the_grace_only(settings, runtime, slackbot, hf) -> None:
    la = replace(settings, timezone="America/Los_Angeles", digest_time="09:00")
    [default] = operator_digests(la)
    down_at_nine = datetime(2026, 7, 31, 18, 30, tzinfo=UTC)  # 11:30 in Los Angeles
    assert default.last_run(down_at_nine).hour == 9
    assert [d.day for d in due_digests(la, runtime.library, down_at_nine)] == [FRIDAY]
    assert due_digests(la, runtime.library, datetime(2026, 7, 31, 21, 30, tzinfo=UTC)) == []
    assert due_digests(la, runtime.library, datetime(2026, 7, 31, 15, 0, tzinfo=UTC)) == []
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    assert due_digests(la, runtime.library, down_at_nine) == []  # posted: no second post


def test_scheduler_starts_and_catches_up(settings, runtime, slackbot, hf, slack) -> None:
    """The bot's scheduler in token mode: the minute tick runs at start, so a digest whose
    time passed less than the grace ago is posted at once."""
    now = datetime.now(UTC)
    an_hour_ago = now - timedelta(hours=1)
    utc = replace(settings, digest_time=f"{an_hour_ago:%H}:00", timezone="UTC")
    today = an_hour_ago.date().isoformat()  # the digest's day (at midnight: yesterday)
    sample = load_sample_papers()[:5]
    runtime.library.upsert_many(
        [replace(p, listed=today, upvotes=50 - i) for i, p in enumerate(sample)]
    )
    job = DueDigests(utc, runtime, OneWorkspace(slackbot), pace=0)
    job.last_fetch = now  # fetched just now: the tick does not ask Hugging Face again
    scheduler = start_digest_scheduler(utc, job)
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert jobs["daily-digest-fetch"].misfire_grace_time == 3 * 3600
        assert jobs["daily-digest-channels"].coalesce is True
        deadline = time.monotonic() + 20
        while len(slack.messages.get(CHANNEL, [])) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert len(slack.messages[CHANNEL]) == 6


def test_choose_papers_weekend_window(runtime, hf) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    assert choose_papers(runtime.library, CHANNEL, date(2026, 8, 2), 5)  # Sunday, first digest


def test_fetch_and_digest_commands_end_to_end(
    tmp_path: Path, hf: HFStandIn, slack: TestSlack
) -> None:
    env = {  # no SLACK_SIGNING_SECRET: posting a digest does not need one
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url,
        "HF_API_URL": hf.url,
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_SAMPLE_DATA": "0",
    }

    def papers_bot(*args: str) -> subprocess.CompletedProcess[str]:
        return run_papers_bot(tmp_path, *args, **env)

    hf.fail("/daily_papers", status=503)
    hf.fail("/daily_papers", status=429, retry_after="1")
    fetched = papers_bot("fetch", "--date", "2026-07-31")
    assert fetched.returncode == 0, fetched.stderr
    assert "2026-07-31: 30 rows; added 30, updated 0, skipped 0" in fetched.stdout
    dry = papers_bot("digest", "--channel", CHANNEL, "--date", "2026-07-31", "--dry-run")
    assert dry.returncode == 0 and "AskChem" in dry.stdout and not slack.messages
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    posted = papers_bot("digest", "--channel", CHANNEL, "--date", "2026-07-31")
    assert posted.returncode == 0, posted.stderr
    assert f"{CHANNEL}: posted 5 papers for 2026-07-31" in posted.stdout
    assert len(slack.messages[CHANNEL]) == 6
    again = papers_bot("digest", "--channel", CHANNEL, "--date", "2026-07-31")
    assert "posted 0 papers" in again.stdout and len(slack.messages[CHANNEL]) == 6
    week = papers_bot("fetch", "--date", "2026-08-03", "--days", "3")
    assert week.returncode == 0 and "2026-08-01: 0 rows" in week.stdout


DIES_AFTER_HEADER = """
import os, signal, sys
from datetime import date
from bot.config import Settings
from bot.digest import run_digest
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot

class DiesOnceSlackAcceptsTheHeader(SlackBot):
    def post(self, channel, message, thread_ts=None):
        ts = super().post(channel, message, thread_ts)
        if thread_ts is None:  # the header: killed before its ts reaches the ledger
            os.kill(os.getpid(), signal.SIGKILL)
        return ts

settings = Settings(slack_bot_token=sys.argv[2], slack_api_url=sys.argv[1],
                    data_dir=sys.argv[3], sample_data=False,
                    database_url=os.environ.get("DATABASE_URL"))
runtime = Runtime.open(settings)
run_digest(runtime.library, DiesOnceSlackAcceptsTheHeader(runtime, make_client(settings)),
           "C0PAPERS", date(2026, 7, 31), 5, ["bookmark"], pace=0)
"""


def test_killed_right_after_the_header_then_rerun_never_posts_a_second_header(
    runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack, settings: Settings
) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            DIES_AFTER_HEADER,
            slack.api_url,
            slack.bot_token,
            str(settings.data_dir),
        ],
        check=False,
        env=child_env(settings),
    )
    assert child.returncode == -signal.SIGKILL
    assert len(slack.messages[CHANNEL]) == 1  # the header reached Slack, then the kill
    rerun = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    headers = [m for m in slack.messages[CHANNEL] if not m.get("thread_ts")]
    assert len(headers) == 1 and rerun.posted == []
    assert "in flight" in rerun.note
    again = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    assert again.note == "already posted" and len(slack.messages[CHANNEL]) == 1


def test_two_digest_commands_at_once_post_each_paper_once(
    tmp_path: Path, hf: HFStandIn, slack: TestSlack, database_url: str | None
) -> None:
    """A cron digest overlapping another (or the bot's own job, or another replica's): one
    posts, the other steps aside. Six rounds (three days, each twice), two processes started
    together each time; on PostgreSQL they share nothing but the database."""
    env = {
        **os.environ,
        **({"DATABASE_URL": database_url} if database_url else {}),
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": slack.api_url,
        "HF_API_URL": hf.url,
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_SAMPLE_DATA": "0",
    }
    days = ["2026-06-12", "2026-07-31", "2026-08-03"]
    fetched = run_papers_bot(tmp_path, "fetch", "--date", "2026-08-03", "--days", "60", **env)
    assert fetched.returncode == 0, fetched.stderr
    for day in [d for d in days for _ in range(2)]:  # six rounds, each day twice
        command = [sys.executable, "-m", "bot", "digest", "--channel", CHANNEL, "--date", day]
        runs = [
            subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert all(run.returncode == 0 for run in runs), outputs
        assert sum("another digest" in out for out in outputs) <= 1, outputs
    messages = slack.messages[CHANNEL]
    headers = [m for m in messages if not m.get("thread_ts")]
    cards = [c["blocks"][-1]["elements"][0]["value"] for c in thread_posts(slack)]
    assert len(headers) == len({h["text"] for h in headers}) == len(days)
    assert len(cards) == len(set(cards)) and len(cards) >= len(days)


def test_a_card_slack_refuses_is_posted_by_the_next_run(
    runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack
) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    slack.fail_next("chat.postMessage", status=200, retry_after=None, error="msg_too_long")
    with pytest.raises(Exception, match="msg_too_long"):
        run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    assert CHANNEL not in slack.messages  # the header itself was refused
    first = run_digest(runtime.library, slackbot, CHANNEL, FRIDAY, 5, ["bookmark"], pace=0)
    assert len(first.posted) == 5 and len(slack.messages[CHANNEL]) == 6


def test_looking_up_one_paper_never_creates_or_changes_a_listing_day(
    runtime: Runtime, hf: HFStandIn
) -> None:
    fetch(runtime.library, [FRIDAY], quick_client(hf))
    reply = Commands(runtime).reply("U0ALICE", "2607.26654")  # listed on Monday 3 August
    assert "New to the library" in reply.message["text"] + json.dumps(reply.message["blocks"])
    assert runtime.library.get("2607.26654") is not None
    day, papers = runtime.library.latest_listing()
    assert day == "2026-07-31" and len(papers) == 30
    assert runtime.library.get("2607.26654").listed is None


def test_an_author_follow_alerts_each_new_paper_of_theirs(
    runtime: Runtime, slackbot: SlackBot, hf: HFStandIn, slack: TestSlack
) -> None:
    report = fetch(runtime.library, [FRIDAY], quick_client(hf))
    paper = runtime.library.get(report.added[0])
    first, *_, last = paper.authors[0].split()
    runtime.library.follows.add("U0ALICE", f'author:"{first} {last}"')
    runtime.library.follows.add("U0BOB", f"author:{last.lower()}")
    runtime.library.follows.add("U0CAROL", "author:nobodyofthatname")
    sent = send_follow_alerts(runtime, slackbot, report.added)
    assert set(sent) == {"U0ALICE", "U0BOB"}
    assert paper.id in sent["U0ALICE"] and paper.id in sent["U0BOB"]
    assert all(
        any(last.lower() in a.lower() for a in runtime.library.get(i).authors)
        for i in sent["U0BOB"]
    )
