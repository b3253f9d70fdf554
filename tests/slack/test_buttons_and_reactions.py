"""Save, Share, More like this, Remove; saving by reaction; App Home; retried events."""

from __future__ import annotations

import time

from tests.slack.conftest import CHANNEL, USER, Bot, all_text


def share(bot: Bot, paper_id: str = "2408.08338") -> str:
    response, url = bot.click("papers_share", paper_id)
    assert response.status_code == 200
    [posted] = bot.standin.wait_for("chat.postMessage")
    [reply] = bot.responses(url)
    assert "Shared" in reply["text"]
    return bot.standin.messages[CHANNEL][-1]["ts"]


def test_save_button_saves_for_the_clicker_and_tells_only_them(bot: Bot) -> None:
    response, url = bot.click("papers_save", "2408.08338")
    assert response.status_code == 200
    [reply] = bot.responses(url)
    assert "Saved" in reply["text"] and reply["response_type"] == "ephemeral"
    assert reply["replace_original"] is False
    assert [p for p, _ in bot.runtime.library.saves.of_user(USER)] == ["2408.08338"]
    [home] = bot.standin.wait_for("views.publish")
    assert home.args["user_id"] == USER and "2408.08338" in all_text(home.args["view"])
    # Pressing it again changes nothing and says so.
    _, url = bot.click("papers_save", "2408.08338")
    [again] = bot.responses(url)
    assert "already" in again["text"]
    assert len(bot.runtime.library.saves.of_user(USER)) == 1


def test_share_posts_the_card_as_the_bot_and_records_it(bot: Bot) -> None:
    ts = share(bot)
    [post] = bot.standin.calls_to("chat.postMessage")
    assert post.args["channel"] == CHANNEL and post.args["unfurl_links"] is False
    assert "react with :bookmark: to save" in all_text(post.args)
    assert bot.runtime.library.messages.paper_for(CHANNEL, ts) == "2408.08338"


def test_reaction_on_a_shared_card_saves_once_and_removal_unsaves(bot: Bot) -> None:
    ts = share(bot)
    assert bot.reaction("reaction_added", ts, event_id="Ev-save").status_code == 200
    [told] = bot.standin.wait_for("chat.postEphemeral")
    assert told.args["user"] == USER and "Saved" in told.args["text"]
    assert bot.runtime.library.saves.contains(USER, "2408.08338")
    # Slack retries the same event: answered 200, nothing happens twice.
    retry = bot.reaction(
        "reaction_added",
        ts,
        event_id="Ev-save",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry.status_code == 200
    # A second reaction of the same emoji kind by the same user (another event) saves nothing new.
    bot.reaction("reaction_added", ts, emoji="bookmark::skin-tone-2", event_id="Ev-save-2")
    # Bolt runs event listeners on a thread pool: let that no-op save finish before the removal
    # (Slack does not promise the order of two events either; this test is about each one).
    deadline = time.monotonic() + 10
    while not bot.runtime.library.events.seen("Ev-save-2") and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # from the event's record to its (idempotent) save: microseconds
    bot.reaction("reaction_removed", ts, event_id="Ev-unsave")
    told = bot.standin.wait_for("chat.postEphemeral", 2)
    assert "Removed" in told[1].args["text"]
    assert len(bot.standin.calls_to("chat.postEphemeral")) == 2
    assert not bot.runtime.library.saves.contains(USER, "2408.08338")
    _, url = bot.command("saved")
    assert "empty" in bot.responses(url)[0]["text"]


def test_reactions_elsewhere_are_ignored(bot: Bot) -> None:
    ts = share(bot)
    bot.reaction("reaction_added", "1111.2222", event_id="Ev-other-message")
    bot.reaction("reaction_added", ts, emoji="tada", event_id="Ev-other-emoji")
    bot.reaction("reaction_added", ts, channel="C0ELSEWHERE", event_id="Ev-other-channel")
    bot.event(
        {
            "type": "reaction_added",
            "user": USER,
            "reaction": "bookmark",
            "item": {"type": "file", "file": "F1"},
            "event_ts": "1",
        },
        "Ev-file",
    )
    bot.command("help")  # a marker: by the time its answer arrives, events were handled
    bot.standin.wait_for("response_url", 2)
    assert bot.standin.calls_to("chat.postEphemeral") == []
    assert bot.runtime.library.saves.of_user(USER) == []


def test_more_like_this_shows_five_similar_papers(bot: Bot) -> None:
    _, url = bot.click("papers_more", "2606.12243")
    [reply] = bot.responses(url)
    text = all_text(reply)
    assert "Papers like" in text and "2607.26627" in text
    assert text.count('"papers_save"') == 5


def test_remove_from_the_list_updates_it_in_place(bot: Bot) -> None:
    bot.runtime.library.saves.add(USER, "2408.08338")
    bot.runtime.library.saves.add(USER, "2503.10632")
    _, url = bot.click("papers_remove", "2408.08338")
    [reply] = bot.responses(url)
    assert reply["replace_original"] is True
    assert "2503.10632" in all_text(reply) and "2408.08338" not in all_text(reply)
    assert [p for p, _ in bot.runtime.library.saves.of_user(USER)] == ["2503.10632"]


def test_remove_from_app_home_republishes_home(bot: Bot) -> None:
    bot.runtime.library.saves.add(USER, "2408.08338")
    bot.click(
        "papers_remove", "2408.08338", channel=None, container={"type": "view", "view_id": "V1"}
    )
    [home] = bot.standin.wait_for("views.publish")
    assert "Nothing saved yet" in all_text(home.args["view"])


def test_tampered_button_values_save_nothing(bot: Bot) -> None:
    for value in ["9999.99999", "<!channel>", "x" * 3000, ""]:
        response, url = bot.click("papers_save", value)
        assert response.status_code == 200
        [reply] = bot.responses(url)
        assert "not in the library" in reply["text"]
    assert bot.runtime.library.saves.of_user(USER) == []


def test_app_home_shows_the_reading_list_and_the_latest_digest(bot: Bot) -> None:
    bot.runtime.library.saves.add(USER, "2503.10632")
    assert (
        bot.event(
            {
                "type": "app_home_opened",
                "user": USER,
                "channel": "D1",
                "tab": "home",
                "event_ts": "1",
            }
        ).status_code
        == 200
    )
    [home] = bot.standin.wait_for("views.publish")
    view = home.args["view"]
    assert view["type"] == "home"
    text = all_text(view)
    assert "2503.10632" in text and "papers_remove" in text and "Latest digest" in text
    first, last = bot.runtime.library.catalog.listing_span()
    size = len(bot.runtime.library)
    assert f"The library: {size:,} papers, Daily Papers from {first} to {last}." in text
    bot.event(
        {
            "type": "app_home_opened",
            "user": USER,
            "channel": "D1",
            "tab": "messages",
            "event_ts": "2",
        }
    )
    bot.command("help")
    bot.standin.wait_for("response_url")
    assert len(bot.standin.calls_to("views.publish")) == 1


def test_rate_limited_share_is_retried_after_retry_after(bot: Bot) -> None:
    bot.standin.fail_next("chat.postMessage", status=429, retry_after=1)
    share(bot)
    calls = bot.standin.calls_to("chat.postMessage")
    assert len(calls) == 2 and calls[0].args.get("_fault") == 429
    assert calls[1].at - calls[0].at >= 0.9


def test_share_in_a_private_channel_without_the_bot_says_what_to_do(bot: Bot) -> None:
    bot.standin.channels["G0SECRET"] = {"name": "secret", "is_private": True, "is_member": False}
    _, url = bot.click("papers_share", "2408.08338", channel="G0SECRET")
    [reply] = bot.responses(url)
    assert "/invite @papers-bot" in reply["text"]


def test_events_the_bot_does_not_act_on_are_not_written_down(bot: Bot) -> None:
    """300 unrelated reactions used to mean 300 fsynced rewrites of state.json."""
    ts = share(bot)
    library = bot.runtime.library
    state = library.data_dir / "state.json"
    before = None if library.database_url else state.read_bytes()
    for n in range(300):
        response = bot.reaction("reaction_added", ts, emoji="tada", event_id=f"Ev-tada-{n}")
        assert response.status_code == 200
    bot.reaction("reaction_added", "9999.0001", event_id="Ev-elsewhere")  # not our message
    assert not any(library.events.seen(f"Ev-tada-{n}") for n in range(300))
    assert not library.events.seen("Ev-elsewhere")
    if before is not None:
        assert state.read_bytes() == before  # not even rewritten
