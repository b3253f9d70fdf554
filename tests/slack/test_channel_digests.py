"""Channel digests over the real Bolt app and the loopback Slack, on both backends: set, shown,
listed and stopped from Slack (token mode and installs), each channel's topic and cadence at
its own time (a test clock driving the minute tick, and one real minute), the weekly team's
week, a channel Slack refuses switched off with one DM, and never a paper twice in a channel,
also with two replicas at once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings
from bot.daily.workspaces import DueDigests, OneWorkspace, start_digest_scheduler
from bot.digest_settings import due_digests
from bot.library import load_sample_papers
from bot.models import Paper
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from tests.fakes.hf import HFStandIn
from tests.slack.conftest import CHANNEL, USER, Bot, all_text, running_bot
from tests.slack.standin import TestSlack

VISION, KANS, GONE = "C0VISION", "C0KANS", "C0GONE"
BOB = "U0BOB"
MONDAY = date(2026, 11, 30)
KAN, KAN_ATTENTION = "2408.08338", "2503.10632"


def paper(paper_id: str, title: str, category: str, day: date, upvotes: int) -> Paper:
    return Paper(
        paper_id,
        title,
        abstract=f"{title}. We study this problem and report results on standard benchmarks.",
        authors=["Ada Lovelace"],
        published=day.isoformat(),
        listed=day.isoformat(),
        upvotes=upvotes,
        categories=[category],
    )


def the_week() -> list[Paper]:
    """A week of listings: vision papers, language papers, and the two KAN papers."""
    sample = {p.id: p for p in load_sample_papers()}
    saturday, sunday = MONDAY - timedelta(days=2), MONDAY - timedelta(days=1)
    return [
        paper("2611.10001", "Video generation with diffusion transformers", "cs.CV", MONDAY, 40),
        paper("2611.10002", "Segmenting every object in long videos", "cs.CV", sunday, 30),
        paper("2611.10003", "Large language models as careful reasoners", "cs.CL", MONDAY, 50),
        paper("2611.10004", "Protein structure from sequence alone", "q-bio.BM", saturday, 60),
        replace(
            sample[KAN],
            listed=(MONDAY - timedelta(days=5)).isoformat(),
            upvotes=20,
            categories=["cs.LG"],
        ),
        replace(sample[KAN_ATTENTION], listed=MONDAY.isoformat(), upvotes=10, categories=["cs.LG"]),
    ]


@pytest.fixture
def channels(standin: TestSlack) -> TestSlack:
    standin.channels |= {
        VISION: {"name": "vision", "is_private": False, "is_member": False},
        KANS: {"name": "kan-reading", "is_private": False, "is_member": False},
        GONE: {"name": "old-project", "is_private": False, "is_member": False},
    }
    return standin


@pytest.fixture
def team_bot(settings: Settings, channels: TestSlack, hf: HFStandIn) -> Any:
    """Token mode, PAPERS_CHANNEL=C0PAPERS at 09:00 UTC (the operator's default digest)."""
    with running_bot(replace(settings, hf_api_url=hf.url), channels) as running:
        running.runtime.library.upsert_many(the_week())
        running.runtime.search.refresh()
        yield running


def reply(bot: Bot, text: str, channel: str = CHANNEL, user: str = USER) -> str:
    _, url = bot.command(text, user=user, channel=channel)
    return str(bot.responses(url)[0]["text"])


def ticker(bot: Bot, workspaces: Any = None) -> DueDigests:
    """The bot's minute tick, driven by a test clock; no second between posts."""
    settings, runtime = bot.runtime.settings, bot.runtime
    served = workspaces or OneWorkspace(SlackBot(runtime, make_client(settings)))
    return DueDigests(settings, runtime, served, pace=0)


def card_ids(slack: TestSlack, channel: str) -> list[str]:
    ids = []
    for message in slack.messages.get(channel, []):
        if not message.get("thread_ts"):
            continue
        found = {
            b["block_id"].split(":", 1)[1]
            for b in message.get("blocks") or []
            if str(b.get("block_id", "")).startswith("paper:")
        }
        ids += sorted(found)
    return ids


def headers(slack: TestSlack, channel: str) -> list[str]:
    return [all_text(m) for m in slack.messages.get(channel, []) if not m.get("thread_ts")]


# -- setting, showing, listing, stopping ------------------------------------------------------


def test_a_channel_sets_shows_lists_and_stops_its_digest_in_token_mode(team_bot: Bot) -> None:
    slack, bot = team_bot.standin, team_bot
    said = reply(bot, "digest here weekly monday 08:30 Europe/Berlin topic cat:cs.CV", VISION)
    assert "Done" in said and "weekly, Monday 08:30 Europe/Berlin, topic cat:cs.CV" in said
    # Everyone in the channel sees who changed it; the bot joined the channel to post there.
    [line] = slack.messages[VISION]
    assert f"<@{USER}> set this channel's digest: weekly, Monday 08:30 Europe/Berlin" in all_text(
        line
    )
    assert slack.channels[VISION]["is_member"] is True

    assert "weekly, Monday 08:30 Europe/Berlin, topic cat:cs.CV" in reply(bot, "digest", VISION)
    listed = reply(bot, "digest list", "D0ALICE")  # the list works anywhere, a DM too
    assert f"<#{VISION}>: weekly, Monday 08:30" in listed
    assert f"<#{CHANNEL}>: daily, 09:00 UTC (the operator's default)" in listed

    # What is not said stays; `topic off` drops the topic; a new zone is kept.
    said = reply(bot, "digest here 07:15 topic off", VISION)
    assert "weekly, Monday 07:15 Europe/Berlin." in said
    said = reply(bot, 'digest here daily topic "video generation" --quiet-days off', VISION)
    assert 'daily, 07:15 Europe/Berlin, topic "video generation" (a line on days' in said

    assert reply(bot, "digest off", VISION) == "This channel's digest is off."
    assert f"<@{USER}> switched this channel's digest off." in all_text(slack.messages[VISION][-1])
    assert "This channel had no digest to stop." in reply(bot, "digest off", VISION)
    assert f"<#{VISION}>: switched off by <@{USER}>" in reply(bot, "digest list")
    every_hour = [datetime.now(UTC) + timedelta(hours=h) for h in range(24)]
    due = [d for t in every_hour for d in due_digests(bot.runtime.settings, bot.runtime.library, t)]
    assert VISION not in {d.channel for d in due}


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("digest here weekly", "Weekly on which day?"),
        ("digest here weekly someday", "Weekly on which day?"),
        ("digest here 25:00", "'25:00' is not a cadence"),
        ("digest here Mars/Olympus", "is not a cadence"),
        ("digest here topic", "I didn't understand that."),
        ("digest here topic the of and", "would never match a paper: Those words are too common"),
        ("digest here topic 2408.08338", "arXiv 2408.08338 is one paper"),
        ("digest here topic since:2026", "A date alone is not a topic"),
        ("digest sometimes", "I didn't understand that."),
    ],
)
def test_a_setting_that_cannot_work_is_refused_and_changes_nothing(
    team_bot: Bot, typed: str, said: str
) -> None:
    assert said in reply(team_bot, typed, VISION)
    assert team_bot.runtime.library.channel_digests.all() == []
    assert VISION not in team_bot.standin.messages  # nothing announced


def test_a_digest_is_set_in_a_channel_not_a_dm(team_bot: Bot) -> None:
    assert "not in a DM" in reply(team_bot, "digest here", "D0ALICE")
    assert team_bot.runtime.library.channel_digests.all() == []


def test_the_operators_default_channel_can_be_changed_and_stopped_from_slack(
    team_bot: Bot,
) -> None:
    bot = team_bot
    assert "daily, 09:00 UTC (the operator's default)" in reply(bot, "digest")
    reply(bot, "digest off")
    at_nine = datetime.combine(MONDAY, datetime.min.time(), UTC) + timedelta(hours=9, minutes=5)
    assert [
        d.channel for d in due_digests(bot.runtime.settings, bot.runtime.library, at_nine)
    ] == []
    said = reply(bot, "digest here weekly fri 16:00")
    assert "weekly, Friday 16:00 UTC." in said  # the operator's zone is the workspace's


# -- posting at their times ------------------------------------------------------------------


def test_two_channels_get_their_topics_at_their_times(team_bot: Bot) -> None:
    slack, bot = team_bot.standin, team_bot
    reply(bot, "digest here daily 09:00 Europe/Berlin topic cat:cs.CV", VISION)
    reply(bot, "digest here weekly monday 10:00 UTC topic kan OR kolmogorov", KANS)
    job = ticker(bot)
    monday = datetime.combine(MONDAY, datetime.min.time(), UTC)

    # 07:59 UTC: nothing is due yet (Berlin's 09:00 is 08:00 UTC in winter).
    assert job.tick(monday + timedelta(hours=7, minutes=59)) == []
    # 08:01 UTC: only the vision channel; its cs.CV papers, most upvoted first.
    done = job.tick(monday + timedelta(hours=8, minutes=1))
    assert [(d.channel, outcome) for d, outcome in done] == [(VISION, "posted 2")]
    assert card_ids(slack, VISION) == ["2611.10001", "2611.10002"]
    assert "on _cat:cs.CV_" in headers(slack, VISION)[-1]
    # 10:01 UTC: the operator's channel (09:00 UTC) and the KAN channel's week.
    done = job.tick(monday + timedelta(hours=10, minutes=1))
    assert sorted(d.channel for d, _ in done) == sorted([CHANNEL, KANS])
    assert card_ids(slack, KANS) == [KAN, KAN_ATTENTION]  # Wednesday's paper too: a week
    assert "The week in papers" in headers(slack, KANS)[-1]
    # The operator's digest has no topic: three days, every subject, a paper may go to
    # several channels.
    assert card_ids(slack, CHANNEL) == [
        "2611.10004",
        "2611.10003",
        "2611.10001",
        "2611.10002",
        KAN_ATTENTION,
    ]
    before = len(slack.calls_to("chat.postMessage"))
    assert job.tick(monday + timedelta(hours=10, minutes=2)) == []  # done days stay done
    # Tuesday: nothing new on cs.CV, and the channel did not ask to hear it: no post.
    tuesday = monday + timedelta(days=1, hours=8, minutes=1)
    assert [o for _, o in job.tick(tuesday)] == [
        "posted 0 nothing on cat:cs.CV since the last digest"
    ]
    assert len(slack.calls_to("chat.postMessage")) == before
    # A new cs.CV paper listed later that Tuesday comes after the next fetch, not before.
    bot.runtime.library.upsert_many(
        [paper("2611.10005", "Depth from a single video", "cs.CV", MONDAY + timedelta(days=1), 5)]
    )
    bot.runtime.search.refresh()
    assert job.tick(tuesday + timedelta(minutes=1)) == []  # still the same fetch
    done = job.tick(tuesday + timedelta(minutes=31))
    assert [o for _, o in done] == ["posted 1"]
    assert card_ids(slack, VISION)[-1] == "2611.10005"
    # Never twice in a channel: each card once per channel, ever.
    for channel in (VISION, KANS, CHANNEL):
        assert max(Counter(card_ids(slack, channel)).values()) == 1


def test_a_quiet_topic_day_posts_one_line_when_the_channel_asks(team_bot: Bot) -> None:
    slack, bot = team_bot.standin, team_bot
    reply(bot, 'digest here daily 09:00 UTC topic "graph neural" --quiet-days off', VISION)
    job = ticker(bot)
    nine = datetime.combine(MONDAY, datetime.min.time(), UTC) + timedelta(hours=9, minutes=1)
    job.tick(nine)
    assert 'Nothing on "graph neural" today (Mon 30 Nov)' in all_text(slack.messages[VISION][-1])
    assert len(slack.messages[VISION]) == 2  # the change line, then that one line
    job.tick(nine + timedelta(minutes=40))
    assert len(slack.messages[VISION]) == 2  # said once


def test_a_weekly_digest_carries_the_teams_week_counts_never_names(team_bot: Bot) -> None:
    slack, bot = team_bot.standin, team_bot
    reply(bot, "digest here weekly monday 10:00 UTC topic cat:cs.CV", VISION)
    for user in ("U0ALICE", "U0CAROL", "U0DAVE"):
        bot.click("papers_save", "2611.10004", user=user)
    bot.click("papers_save", "2611.10003", user="U0CAROL")
    bot.runtime.library.shares.record(VISION, "1.1", "U0ERIN", ["2611.10003"], private=False)
    deadline = time.monotonic() + 10
    while len(bot.runtime.library.saves.since("2000")) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    job = ticker(bot)
    job.tick(datetime.combine(MONDAY, datetime.min.time(), UTC) + timedelta(hours=10, minutes=1))
    header = headers(slack, VISION)[-1]
    assert "The team's week" in header
    week = header[header.index("The team's week") :]
    assert "Protein structure from sequence alone" in week and "saved by 3 this week" in week
    assert "Large language models as careful reasoners" in week
    assert "shared once · saved by 1 this week" in week
    for person in ("U0ALICE", "U0CAROL", "U0DAVE", "U0ERIN"):
        assert person not in header
    # The week's cards are the topic's; the team's week is the workspace's.
    assert card_ids(slack, VISION) == ["2611.10001", "2611.10002"]


def test_a_channel_slack_refuses_is_switched_off_with_one_dm(team_bot: Bot) -> None:
    slack, bot = team_bot.standin, team_bot
    reply(bot, "digest here daily 09:00 UTC", GONE, user=BOB)
    slack.channels[GONE]["is_archived"] = True
    job = ticker(bot)
    nine = datetime.combine(MONDAY, datetime.min.time(), UTC) + timedelta(hours=9, minutes=1)
    outcomes = dict((d.channel, o) for d, o in job.tick(nine))
    assert outcomes[GONE] == "switched off (is_archived)"
    dms = slack.messages.get(f"D{BOB}", [])
    assert len(dms) == 1 and f"<#{GONE}>" in all_text(dms[0]) and "archived" in all_text(dms[0])
    row = bot.runtime.library.channel_digests.get("", GONE) or {}
    assert (row["active"], row["off_reason"]) == (False, "is_archived")
    assert "switched off: it was archived" in reply(bot, "digest list")
    # The next days: not tried again, no second DM.
    attempts = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == GONE]
    job.tick(nine + timedelta(days=1))
    again = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == GONE]
    assert again == attempts and len(slack.messages.get(f"D{BOB}", [])) == 1
    # The other channels went on.
    assert card_ids(slack, CHANNEL)


def test_a_digest_in_a_private_channel_without_the_bot_says_how_to_let_it_in(
    team_bot: Bot,
) -> None:
    team_bot.standin.channels["G0SECRET"] = {
        "name": "secret",
        "is_private": True,
        "is_member": False,
    }
    _, url = team_bot.command("digest here", channel="G0SECRET")
    said = [r["text"] for r in team_bot.responses(url, count=2)]
    assert "Done" in said[0] and "/invite" in said[1]


# -- installs (OAuth) ------------------------------------------------------------------------


def test_installed_workspaces_set_list_and_stop_their_own_channels(
    oauth_settings: Settings, channels: TestSlack
) -> None:
    from tests.slack.test_workspaces import install

    oauth = oauth_settings
    token = channels.add_workspace("T0AAA", "code-a")
    with running_bot(oauth, channels) as app:
        install(app, "code-a")
        a = replace(app, team="T0AAA")
        app.runtime.library.upsert_many(the_week())
        app.runtime.search.refresh()
        assert "Done" in reply(
            a, "digest here weekly monday 10:00 UTC topic kan OR kolmogorov", KANS
        )
        assert "Done" in reply(a, "digest here 09:00 UTC", VISION)
        listed = reply(a, "digest list")
        assert f"<#{KANS}>: weekly, Monday 10:00 UTC, topic kan OR kolmogorov" in listed
        assert f"<#{VISION}>: daily, 09:00 UTC" in listed
        assert "operator" not in listed  # installs have no operator's default
        assert reply(a, "digest off", VISION) == "This channel's digest is off."
        from bot.slack.workspaces import InstalledWorkspaces

        workspaces = InstalledWorkspaces.open(SlackBot(app.runtime, make_client(oauth)))
        job = DueDigests(oauth, app.runtime, workspaces, pace=0)
        job.tick(
            datetime.combine(MONDAY, datetime.min.time(), UTC) + timedelta(hours=10, minutes=1)
        )
        assert card_ids(channels, KANS) == [KAN, KAN_ATTENTION]
        assert card_ids(channels, VISION) == []  # off
        posts = [c for c in channels.calls_to("chat.postMessage") if c.args.get("channel") == KANS]
        assert {c.token for c in posts} == {token}


# -- real time, and replicas -----------------------------------------------------------------


def test_the_scheduler_posts_a_digest_set_a_minute_ahead_in_real_time(team_bot: Bot) -> None:
    """No test clock: the bot's own scheduler, a digest set for the next minute."""
    slack, bot = team_bot.standin, team_bot
    started, now = time.monotonic(), datetime.now(UTC)
    at = now + timedelta(minutes=1)
    bot.runtime.library.upsert_many(
        [paper("2611.20001", "Video diffusion made fast", "cs.CV", at.date(), 7)]
    )
    bot.runtime.search.refresh()
    reply(bot, f"digest here daily {at:%H:%M} UTC topic cat:cs.CV", VISION)
    settings = replace(bot.runtime.settings, takeover_seconds=2)
    slackbot = SlackBot(bot.runtime, make_client(settings))
    scheduler = start_digest_scheduler(
        settings, DueDigests(settings, bot.runtime, OneWorkspace(slackbot), pace=0)
    )
    try:
        deadline = time.monotonic() + 150
        while not card_ids(slack, VISION) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        scheduler.shutdown(wait=True)
    assert card_ids(slack, VISION) == ["2611.20001"]
    [card] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == VISION and c.args.get("thread_ts")
    ]
    due_in = (at.replace(second=0, microsecond=0) - now).total_seconds()
    assert card.at - started >= due_in - 1  # not before its minute


def test_two_replicas_at_the_same_minute_never_post_a_paper_twice(
    settings: Settings, channels: TestSlack, hf: HFStandIn, database_url: str | None
) -> None:
    """Two processes' worth of bots on one library (PostgreSQL, or one data dir), ticking at
    the same minute, and both posting the same due digests at once (a leader that lost its
    lock mid-minute): each (channel, paper) reaches Slack once."""
    settings = replace(settings, hf_api_url=hf.url)
    with running_bot(settings, channels) as first:
        first.runtime.library.upsert_many(the_week())
        first.runtime.search.refresh()
        reply(first, "digest here daily 09:00 UTC topic cat:cs.CV", VISION)
        reply(first, "digest here weekly monday 09:00 UTC topic kan OR kolmogorov", KANS)
        second = Runtime.open(settings)
        try:
            nine = datetime.combine(MONDAY, datetime.min.time(), UTC) + timedelta(
                hours=9, minutes=1
            )
            jobs = [
                ticker(first),
                DueDigests(
                    settings,
                    second,
                    OneWorkspace(SlackBot(second, make_client(settings))),
                    pace=0.01,
                ),
            ]
            due = due_digests(settings, first.runtime.library, nine)
            assert sorted(d.channel for d in due) == sorted([CHANNEL, VISION, KANS])
            for job in jobs:
                job.last_fetch = nine
            start = threading.Barrier(2)

            def race(job: DueDigests) -> None:
                start.wait()
                job.post_all(due)
                job.tick(nine)

            threads = [threading.Thread(target=race, args=(job,)) for job in jobs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            second.close()
    for channel in (CHANNEL, VISION, KANS):
        ids = card_ids(channels, channel)
        assert ids and max(Counter(ids).values()) == 1, (channel, ids)
        assert len(headers(channels, channel)) <= 2  # the change line and one header at most
    assert card_ids(channels, KANS) == [KAN, KAN_ATTENTION]
    assert json.dumps(channels.violations) == "[]"


def test_an_earlier_versions_workspace_digest_becomes_its_channels_daily_digest(
    team_bot: Bot,
) -> None:
    """A library written by a version with one digest per workspace (`workspace_digests`)."""
    bot, library = team_bot, team_bot.runtime.library
    old = {"team": "", "channel": VISION, "time": "07:30", "zone": "Asia/Tokyo"}
    library.channel_digests.rows_of["workspace_digests"].put(
        old | {"set_by": BOB, "set_at": "2026-01-01T00:00:00+00:00"}
    )
    assert f"<#{VISION}>: daily, 07:30 Asia/Tokyo (set by <@{BOB}>)" in reply(bot, "digest list")
    reply(bot, "digest here weekly tue topic cat:cs.CV", KANS)  # the workspace changes one
    assert library.channel_digests.rows_of["workspace_digests"].where() == []
    listed = reply(bot, "digest list")
    assert f"<#{VISION}>: daily, 07:30 Asia/Tokyo (set by <@{BOB}>)" in listed
    assert f"<#{KANS}>: weekly, Tuesday 09:00 Asia/Tokyo, topic cat:cs.CV" in listed
