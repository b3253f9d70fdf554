"""Paper links pasted in Slack: one `chat.unfurl` with a card per link (a posted message and
the composer's preview), papers the library lacks fetched from Hugging Face then arXiv, save
by reaction on the person's message, and the team's week (`/papers team`, counts on cards),
where a share in a DM or a private channel never counts anywhere else."""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from tests.fakes.arxiv import ArxivStandIn
from tests.fakes.hf import HFStandIn
from tests.slack.conftest import CHANNEL, USER, Bot, all_text, running_bot
from tests.slack.standin import TestSlack

KAN, LONG_VIDEO = "2408.08338", "2503.10632"  # in the sample library
ONLY_ON_HF = "2501.07777"  # the stand-in's copy of a recorded row under a new id
ONLY_ON_ARXIV = "1605.08386"  # Hugging Face answers 404; arXiv has the recorded entry
NOWHERE = "2501.99999"
BOB, CAROL = "U0BOB", "U0CAROL"


@pytest.fixture
def arxiv(fixtures: Path) -> Iterator[ArxivStandIn]:
    standin = ArxivStandIn(fixtures, min_interval=0).start()
    yield standin
    standin.stop()


@pytest.fixture
def linked(
    settings: Settings, standin: TestSlack, hf: HFStandIn, arxiv: ArxivStandIn
) -> Iterator[Bot]:
    row = copy.deepcopy(next(iter(hf.listings.values()))[0])
    row["paper"]["id"] = ONLY_ON_HF
    row["paper"]["title"] = "A paper only Hugging Face knows"
    hf.listings["2025-01-10"].append(row)
    standin.channels |= {
        "C0VISION": {"name": "vision", "is_private": False, "is_member": True},
        "G0SECRET": {"name": "secret", "is_private": True, "is_member": True},
    }
    with running_bot(replace(settings, hf_api_url=hf.url, arxiv_api_url=arxiv.url), standin) as b:
        yield b


def links_event(
    bot: Bot,
    urls: list[str],
    user: str = USER,
    channel: str = CHANNEL,
    ts: str | None = None,
    composer: bool = False,
    event_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    """A `link_shared` event as Slack sends it; the message ts."""
    ts = ts or f"1767300000.{bot.next_id():06d}"
    event: dict[str, Any] = {
        "type": "link_shared",
        "channel": "COMPOSER" if composer else channel,
        "is_bot_user_member": True,
        "user": user,
        "message_ts": ts,
        "unfurl_id": f"{user}-{ts}-unfurl" if composer else f"{channel}.{ts}.abc",
        "source": "composer" if composer else "conversations_history",
        "links": [{"domain": url.split("/")[2].removeprefix("www."), "url": url} for url in urls],
        "event_ts": ts,
    }
    assert bot.event(event, event_id, headers).status_code == 200
    return ts


def unfurls(call: Any) -> dict[str, Any]:
    found = call.args["unfurls"]
    return json.loads(found) if isinstance(found, str) else found


def settle(bot: Bot, seconds: float = 0.6) -> None:
    """Let the listener threads finish what they were given (to prove something did not
    happen; anything that does happen is waited for by name)."""
    time.sleep(seconds)


def test_a_message_with_paper_links_gets_one_unfurl_with_a_card_per_link(linked: Bot) -> None:
    urls = [
        f"https://arxiv.org/abs/{KAN}v2",
        f"https://arxiv.org/pdf/{KAN}v1",
        f"https://huggingface.co/papers/{LONG_VIDEO}",
        "https://arxiv.org/list/cs.LG/recent",  # not a paper: Slack's own preview
    ]
    ts = links_event(linked, urls)
    [call] = linked.standin.wait_for("chat.unfurl")
    assert call.args["channel"] == CHANNEL and call.args["ts"] == ts
    assert "unfurl_id" not in call.args
    cards = unfurls(call)
    assert sorted(cards) == sorted(urls[:3])
    for url, card in cards.items():
        text = json.dumps(card["blocks"])
        paper = KAN if KAN in url else LONG_VIDEO
        title = linked.runtime.library.get(paper).title  # type: ignore[union-attr]
        assert title[:30] in text and '"papers_save"' in text
        assert "react with :bookmark: to save" in text
    assert linked.runtime.library.shares.papers_in(CHANNEL, ts) == [KAN, LONG_VIDEO]


def test_the_composer_preview_is_unfurled_by_its_id_and_is_not_a_share(linked: Bot) -> None:
    ts = links_event(linked, [f"https://www.alphaxiv.org/abs/{KAN}"], composer=True)
    [call] = linked.standin.wait_for("chat.unfurl")
    assert call.args["source"] == "composer" and call.args["unfurl_id"].endswith("-unfurl")
    assert "channel" not in call.args and "ts" not in call.args
    assert list(unfurls(call)) == [f"https://www.alphaxiv.org/abs/{KAN}"]
    assert linked.runtime.library.shares.papers_in("COMPOSER", ts) == []


def test_papers_the_library_lacks_come_from_hugging_face_then_arxiv(
    linked: Bot, hf: HFStandIn, arxiv: ArxivStandIn
) -> None:
    library = linked.runtime.library
    assert library.get(ONLY_ON_HF) is None and library.get(ONLY_ON_ARXIV) is None
    urls = [f"https://huggingface.co/papers/{ONLY_ON_HF}", f"https://arxiv.org/abs/{ONLY_ON_ARXIV}"]
    links_event(linked, urls)
    [call] = linked.standin.wait_for("chat.unfurl")
    cards = unfurls(call)
    assert "A paper only Hugging Face knows" in json.dumps(cards[urls[0]])
    from_arxiv = library.get(ONLY_ON_ARXIV)
    assert from_arxiv is not None and from_arxiv.title[:25] in json.dumps(cards[urls[1]])
    assert "slack-share" in library.get(ONLY_ON_HF).source  # type: ignore[union-attr]
    assert "slack-share" in from_arxiv.source
    assert [q.get("id_list") for q in arxiv.requests] == [ONLY_ON_ARXIV]  # HF had the first
    assert arxiv.user_agents[0].startswith("papers-bot/")


def test_an_id_found_nowhere_gets_no_unfurl(
    linked: Bot, hf: HFStandIn, arxiv: ArxivStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    links_event(linked, [f"https://arxiv.org/abs/{NOWHERE}"])
    deadline = time.monotonic() + 10
    while not arxiv.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (f"/papers/{NOWHERE}", {}) in hf.requests and arxiv.requests
    settle(linked)
    assert linked.standin.calls_to("chat.unfurl") == []
    assert linked.standin.calls_to("chat.postEphemeral") == []  # nobody is told anything
    assert any("neither Hugging Face nor arXiv" in r.getMessage() for r in caplog.records)


def test_failing_sources_mean_no_unfurl_and_one_log_line(
    linked: Bot, hf: HFStandIn, arxiv: ArxivStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    hf.fail(f"/papers/{ONLY_ON_ARXIV}", status=500)
    arxiv.min_interval = 60  # a request within a minute of the last is refused with a 429
    arxiv._last = time.monotonic()  # as if one had just been made
    links_event(linked, [f"https://arxiv.org/abs/{ONLY_ON_ARXIV}"])
    deadline = time.monotonic() + 15
    while arxiv.refused == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    settle(linked, 1.0)
    assert linked.standin.calls_to("chat.unfurl") == []
    assert linked.standin.calls_to("chat.postEphemeral") == []
    said = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    [line] = [m for m in said if ONLY_ON_ARXIV in m]  # one line, with both reasons
    assert "HTTP 500" in line and "429" in line


def test_the_bots_own_links_and_retried_events_are_unfurled_once_at_most(linked: Bot) -> None:
    links_event(linked, [f"https://arxiv.org/abs/{KAN}"], user=linked.standin.bot_user_id)
    card_ts = linked.runtime.library.messages
    card_ts.record(CHANNEL, "1767300000.999999", KAN, "share")  # a card the bot posted
    links_event(linked, [f"https://arxiv.org/abs/{KAN}"], ts="1767300000.999999")
    ts = links_event(linked, [f"https://arxiv.org/abs/{LONG_VIDEO}"], event_id="Ev-link")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    links_event(linked, [f"https://arxiv.org/abs/{LONG_VIDEO}"], ts=ts, event_id="Ev-link",
                headers=retry)  # fmt: skip
    [call] = linked.standin.wait_for("chat.unfurl")
    settle(linked)
    assert len(linked.standin.calls_to("chat.unfurl")) == 1 and call.args["ts"] == ts
    assert linked.runtime.library.shares.papers_in(CHANNEL, ts) == [LONG_VIDEO]


def test_a_reaction_on_the_shared_message_saves_each_paper_and_removal_unsaves(
    linked: Bot,
) -> None:
    ts = links_event(
        linked,
        [f"https://arxiv.org/abs/{KAN}", f"https://huggingface.co/papers/{LONG_VIDEO}"],
        user=BOB,
    )
    linked.standin.wait_for("chat.unfurl")
    linked.reaction("reaction_added", ts, user=USER, event_id="Ev-save-both")
    [told] = linked.standin.wait_for("chat.postEphemeral")
    library = linked.runtime.library
    assert told.args["user"] == USER
    for paper in (KAN, LONG_VIDEO):
        assert library.saves.contains(USER, paper)
        assert library.get(paper).title[:20] in told.args["text"]  # type: ignore[union-attr]
    assert not library.saves.contains(BOB, KAN)  # saved for whoever reacted
    linked.reaction("reaction_removed", ts, user=USER, event_id="Ev-unsave-both")
    linked.standin.wait_for("chat.postEphemeral", 2)
    assert library.saves.of_user(USER) == []


def test_the_team_week_counts_shares_and_saves_and_keeps_private_ones_inside(
    linked: Bot,
) -> None:
    kan = f"https://arxiv.org/abs/{KAN}"
    links_event(linked, [kan], user=USER, channel=CHANNEL)
    links_event(linked, [kan], user=BOB, channel="C0VISION")
    links_event(linked, [kan, f"https://arxiv.org/abs/{LONG_VIDEO}"], user=CAROL, channel="D0CAROL")
    links_event(linked, [f"https://arxiv.org/abs/{LONG_VIDEO}"], user=CAROL, channel="G0SECRET")
    linked.standin.wait_for("chat.unfurl", 4)
    library = linked.runtime.library
    library.saves.add(BOB, KAN)
    library.saves.add(CAROL, KAN)

    _, url = linked.command("team")
    [answer] = linked.responses(url)
    text = all_text(answer)
    assert "shared 2 times in 2 channels · saved by 2 this week" in text
    assert "<#C0PAPERS>" in text and "<#C0VISION>" in text
    assert LONG_VIDEO not in text and "D0CAROL" not in text and "G0SECRET" not in text
    assert BOB not in text and CAROL not in text  # never who saved (or who shared)

    _, url = linked.command("team", user=CAROL, channel="G0SECRET")
    inside = all_text(linked.responses(url)[0])
    assert LONG_VIDEO in inside and "shared once this week" in inside

    _, url = linked.command("kolmogorov arnold")  # search cards carry the same counts
    assert "shared 2 times in 2 channels · saved by 2 this week" in all_text(
        linked.responses(url)[0]
    )


def test_forget_me_deletes_the_persons_shares(linked: Bot) -> None:
    links_event(linked, [f"https://arxiv.org/abs/{KAN}"], user=BOB)
    linked.standin.wait_for("chat.unfurl")
    assert len(linked.runtime.library.shares.since("2000-01-01")) == 1
    _, url = linked.click("papers_forget_me", "confirm", user=BOB)
    linked.responses(url)
    assert linked.runtime.library.shares.since("2000-01-01") == []
    _, url = linked.command("team")
    assert "Nothing shared or saved" in all_text(linked.responses(url)[0])


def test_unfurl_and_team_signals_can_be_switched_off(
    settings: Settings, standin: TestSlack
) -> None:
    off = replace(settings, unfurl=False, team_signals=False)
    with running_bot(off, standin) as bot:
        bot.runtime.library.saves.add(BOB, KAN)
        links_event(bot, [f"https://arxiv.org/abs/{KAN}"], event_id="Ev-off")
        _, url = bot.command("team")
        assert "off" in all_text(bot.responses(url)[0])
        _, url = bot.command("kolmogorov arnold")
        assert "saved by" not in all_text(bot.responses(url)[0])
        settle(bot)
        assert standin.calls_to("chat.unfurl") == []
        assert not bot.runtime.library.events.seen("Ev-off")


def test_digest_cards_and_the_home_tab_show_the_teams_week(linked: Bot) -> None:
    from bot.digest import run_digest
    from bot.slack.client import make_client
    from bot.slack.slackbot import SlackBot

    library = linked.runtime.library
    day, listed = library.latest_listing()
    assert day is not None and listed
    top = listed[0].id
    links_event(linked, [f"https://arxiv.org/abs/{top}"], user=BOB, channel="C0VISION")
    links_event(linked, [f"https://arxiv.org/abs/{top}"], user=CAROL, channel="G0SECRET")
    linked.standin.wait_for("chat.unfurl", 2)
    library.saves.add(CAROL, top)

    messenger = SlackBot(linked.runtime, make_client(linked.runtime.settings))
    result = run_digest(library, messenger, CHANNEL, date.fromisoformat(day), 3, ["bookmark"], 0)
    assert top in result.posted
    [card] = [m for m in linked.standin.messages[CHANNEL] if top in json.dumps(m["blocks"])]
    # In #papers the private channel's share is not counted: once, in #vision, and one save.
    assert "shared once · saved by 1 this week" in all_text(card)

    linked.event({"type": "app_home_opened", "user": USER, "tab": "home", "event_ts": "1"})
    [home] = linked.standin.wait_for("views.publish")
    view = all_text(home.args["view"])
    assert "Your team this week" in view and "shared once · saved by 1 this week" in view
    assert "<#C0VISION>" in view and "G0SECRET" not in view
