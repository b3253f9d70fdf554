"""For you through the real app: `/papers foryou` and More, Not interested (button and
reaction), the App Home section, `/papers picks on|off`, `/papers forget me`, and the morning
DMs (once a person, across a kill -9 and a rerun). Every behaviour on both backends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bot.config import Settings
from bot.for_you import send_morning_picks
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.taste.picks import PICK_FLOOR
from tests.slack.conftest import CHANNEL, USER, Bot, all_text
from tests.slack.standin import TestSlack

KAN = ("2408.08338", "2503.10632")  # the two KAN papers of the sample library
OTHER = "2312.00852"  # a paper of the sample library about something else
DAY = date(2026, 7, 31)


def answer(bot: Bot, text: str, user: str = USER) -> dict:
    response, url = bot.command(text, user=user)
    assert response.status_code == 200
    [reply] = bot.responses(url)
    return reply


def pick_ids(reply: dict) -> list[str]:
    """The papers a For you answer shows (each card's actions block is `paper:ID`)."""
    return [
        b["block_id"].removeprefix("paper:")
        for b in reply.get("blocks", [])
        if b.get("type") == "actions" and str(b.get("block_id", "")).startswith("paper:")
    ]


def test_for_you_says_it_learns_from_saves_then_picks_never_a_saved_paper(bot: Bot) -> None:
    first = answer(bot, "foryou")
    assert "learns from what you save" in first["text"] and first["response_type"] == "ephemeral"
    for paper_id in KAN:
        bot.click("papers_save", paper_id)
    bot.standin.wait_for("views.publish", 2)
    reply = answer(bot, "foryou")
    shown = pick_ids(reply)
    assert len(shown) == 5 and not set(shown) & set(KAN)
    text = all_text(reply)
    assert "Because you saved" in text and "Not interested" in text and "papers_hide" in text
    assert "Only you see your picks" in text
    # More: the next five, none shown before, none saved.
    more = next(b for b in reply["blocks"] if b.get("type") == "actions" and "block_id" not in b)
    offset = more["elements"][0]["value"]
    _, url = bot.click("papers_for_you_more", offset)
    [page] = bot.responses(url)
    assert page["replace_original"] is True
    second = pick_ids(page)
    assert second and not set(second) & set(shown) and not set(second) & set(KAN)


def test_not_interested_never_comes_back_and_teaches_the_model(bot: Bot) -> None:
    for paper_id in KAN:
        bot.runtime.library.saves.add(USER, paper_id)
    shown = pick_ids(answer(bot, "foryou"))
    _, url = bot.click("papers_hide", shown[0])
    [told] = bot.responses(url)
    assert "won't come up in your picks" in told["text"] and told["response_type"] == "ephemeral"
    assert bot.runtime.library.tastes.hidden_of(USER) == [shown[0]]
    assert shown[0] not in pick_ids(answer(bot, "foryou"))
    # Another person's picks are their own: the mark is not theirs.
    bot.runtime.library.saves.add("U0BOB", KAN[0])
    assert bot.runtime.library.tastes.hidden_of("U0BOB") == []


def test_the_hide_reaction_marks_not_interested_and_its_removal_undoes_it(bot: Bot) -> None:
    _, url = bot.click("papers_share", OTHER)
    [shared] = bot.responses(url)
    assert "Shared" in shared["text"], shared
    ts = bot.standin.messages[CHANNEL][-1]["ts"]
    bot.reaction("reaction_added", ts, emoji="no_entry_sign", event_id="Ev-hide")
    [told] = bot.standin.wait_for("chat.postEphemeral")
    assert "won't come up in your picks" in told.args["text"]
    assert bot.runtime.library.tastes.hidden_of(USER) == [OTHER]
    assert not bot.runtime.library.saves.contains(USER, OTHER)  # not a save
    bot.reaction("reaction_removed", ts, emoji="no_entry_sign", event_id="Ev-unhide")
    deadline = time.monotonic() + 10
    while bot.runtime.library.tastes.hidden_of(USER) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bot.runtime.library.tastes.hidden_of(USER) == []


def test_app_home_shows_for_you_above_the_reading_list(bot: Bot) -> None:
    bot.click("papers_save", KAN[0])
    [home] = bot.standin.wait_for("views.publish")
    text = all_text(home.args["view"])
    assert text.index("For you") < text.index("Your reading list")
    assert "Because you saved" in text and "papers_hide" in text
    assert text.count("foryou:") == 5


def test_picks_on_and_off_and_forget_me_with_its_confirmation(bot: Bot) -> None:
    library = bot.runtime.library
    assert "Morning picks on" in answer(bot, "picks ON")["text"]
    assert library.tastes.picks_on(USER)
    assert "Usage" in answer(bot, "picks maybe")["text"]
    library.saves.add(USER, KAN[0])
    library.follows.add(USER, "kan")
    library.follows.mark_alerted(USER, [KAN[1]])
    library.tastes.hide(USER, OTHER)
    confirm = answer(bot, "forget me")
    assert "Forget me?" in confirm["text"] and "papers_forget_me" in all_text(confirm)
    assert library.saves.of_user(USER)  # nothing deleted before the click
    _, url = bot.click("papers_forget_me", "confirm")
    [done] = bot.responses(url)
    assert "I forgot your 1 saved papers, 1 follows" in done["text"]
    assert library.saves.of_user(USER) == [] and library.follows.of_user(USER) == []
    assert not library.follows.already_alerted(USER, KAN[1])
    assert library.tastes.hidden_of(USER) == [] and not library.tastes.picks_on(USER)
    assert "learns from what you save" in answer(bot, "foryou")["text"]


def test_morning_picks_go_to_those_who_asked_once_a_day_never_repeating(bot: Bot) -> None:
    library = bot.runtime.library
    for user in ("U0ANN", "U0BEN", "U0CAT"):
        library.tastes.set_picks(user, True)
    library.saves.add("U0ANN", KAN[0])
    library.saves.add("U0CAT", KAN[1])  # U0BEN saved nothing: no DM for them
    slackbot = SlackBot(bot.runtime, make_client(bot.runtime.settings))
    new = [p.id for p in list(library.papers().values())]
    shown = [OTHER]  # in the channel digest: never in a DM too
    sent = send_morning_picks(bot.runtime, slackbot, DAY, new, shown, pace=0)
    assert set(sent) == {"U0ANN", "U0CAT"}
    for user, papers in sent.items():
        assert 1 <= len(papers) <= 3 and not set(papers) & set(shown)
        assert not set(papers) & {p for p, _ in library.saves.of_user(user)}
    dms = bot.standin.calls_to("chat.postMessage")
    assert len(dms) == 2 and all("Your picks of Fri 31 Jul 2026" in c.args["text"] for c in dms)
    assert send_morning_picks(bot.runtime, slackbot, DAY, new, shown, pace=0) == {}
    tomorrow = send_morning_picks(bot.runtime, slackbot, date(2026, 8, 1), new, shown, pace=0)
    for user, papers in tomorrow.items():
        assert not set(papers) & set(sent[user])  # never the same paper twice


CHILD = """
import sys
from datetime import date
from bot.config import load_settings
from bot.for_you import send_morning_picks
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.taste.picks import PICK_FLOOR

settings = load_settings()
runtime = Runtime.open(settings)
papers = [p.id for p in runtime.library.papers().values()]
sent = send_morning_picks(
    runtime, SlackBot(runtime, make_client(settings)), date(2026, 7, 31), papers, [], pace=0.01
)
print(len(sent))
"""


def test_morning_dms_for_500_people_are_sent_once_across_a_kill_and_a_rerun(
    settings: Settings, standin: TestSlack, tmp_path: Path
) -> None:
    runtime = Runtime.open(settings)
    people = [f"U{n:05d}" for n in range(500)]
    paper_ids = sorted(runtime.library.papers())
    for n, user in enumerate(people):
        runtime.library.tastes.set_picks(user, True)
        runtime.library.saves.add(user, paper_ids[n % len(paper_ids)])
    runtime.for_you.features.current(wait=True)  # the features, built once for the children
    env = (
        os.environ
        | {
            "SLACK_BOT_TOKEN": settings.slack_bot_token or "",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": settings.slack_api_url,
            "PAPERS_DATA_DIR": str(settings.data_dir),
            "HF_API_URL": "http://127.0.0.1:9/api",
        }
        | ({"DATABASE_URL": settings.database_url} if settings.database_url else {})
    )
    standin.fail_next("chat.postMessage", status=429, retry_after=1, count=2)  # ridden out
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=tmp_path)
    standin.wait_for("chat.postMessage", 42, timeout=120)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_after = len(standin.calls_to("chat.postMessage"))
    rerun = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=tmp_path, timeout=600)
    assert rerun.returncode == 0
    dms = [
        c.args["channel"] for c in standin.calls_to("chat.postMessage") if "_fault" not in c.args
    ]
    assert len(dms) == len(set(dms))  # nobody messaged twice
    assert killed_after < len(dms)  # the rerun went on where the killed run stopped
    messaged = {channel.removeprefix("D") for channel in dms}
    claimed = {user for user in people if runtime.library.tastes.picked_before(user)}
    assert messaged <= claimed and len(claimed - messaged) <= 1  # at most the one in flight
    for user in set(people) - claimed:  # no DM: nothing new was close to what they saved
        assert runtime.for_you.picks(user, 3, pool=paper_ids, floor=PICK_FLOOR) == []
    assert standin.violations == []
