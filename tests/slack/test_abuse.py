"""Forged and odd requests, a failing disk, secrets at DEBUG, and 50 concurrent /papers."""

from __future__ import annotations

import errno
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.library import storage
from bot.logs import SecretFilter
from tests.postgres_server import refuse_connections, refuse_writes
from tests.slack.conftest import SECRET, TOKEN, USER, Bot, all_text


def test_malformed_bodies_with_valid_signatures_do_not_crash(bot: Bot) -> None:
    for body, content_type in [
        ("{not json", "application/json"),
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ("", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback"}', "application/json"),
    ]:
        response = bot.post(body, content_type)
        assert response.status_code in (200, 400, 404), (body, response.status_code)
    assert bot.http.get(f"{bot.url}/healthz").status_code == 200


def test_missing_fields_are_answered_without_crashing(bot: Bot) -> None:
    response_url = bot.standin.response_url("bare")
    body = f"command=%2Fpapers&response_url={response_url}"
    assert bot.post(body, "application/x-www-form-urlencoded").status_code == 200
    [answer] = bot.responses(response_url)
    assert "papers-bot" in all_text(answer)  # no text: the help
    assert bot.event({"type": "reaction_added", "reaction": "bookmark"}).status_code == 200
    assert bot.event({"type": "app_home_opened", "tab": "home"}).status_code == 200
    bot.command("help")
    bot.standin.wait_for("response_url", 2)
    assert bot.standin.calls_to("views.publish") == []


def test_a_full_disk_tells_the_user_and_the_operator_and_search_goes_on(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Files: the disk fills up. PostgreSQL: the database stops taking writes (a failover to
    a read-only standby)."""
    database = bot.runtime.settings.database_url

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if database:
        refuse_writes(database)
    else:
        monkeypatch.setattr(storage.os, "fsync", full)
    with caplog.at_level(logging.ERROR):
        _, url = bot.click("papers_save", "2408.08338")
        [reply] = bot.responses(url)
    assert "couldn't save" in reply["text"] and "Try again" in reply["text"]
    said = "read-only transaction" if database else "the disk is full"
    assert any(said in r.getMessage() for r in caplog.records)
    _, url = bot.command("kan")
    assert "2408.08338" in all_text(bot.responses(url)[0])
    if database:
        refuse_writes(database, refuse=False)
    else:
        monkeypatch.undo()
    _, url = bot.click("papers_save", "2408.08338")
    assert "Saved" in bot.responses(url)[0]["text"]


def test_no_secret_in_any_log_line_or_message_at_debug(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(SecretFilter([TOKEN, SECRET]))  # as `papers-bot` installs it
    unfiltered: list[str] = []

    class Raw(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            unfiltered.append(record.getMessage())

    raw = Raw(level=logging.DEBUG)
    logging.getLogger().addHandler(raw)
    try:
        with caplog.at_level(logging.DEBUG):
            _, url = bot.command("kan")
            bot.responses(url)
            _, share_url = bot.click("papers_share", "2408.08338")
            bot.responses(share_url)  # "Shared": the post is recorded by now
            ts = bot.standin.messages["C0PAPERS"][-1]["ts"]
            bot.reaction("reaction_added", ts)
            bot.standin.wait_for("chat.postEphemeral")
            bot.event({"type": "app_home_opened", "user": USER, "tab": "home", "event_ts": "1"})
            bot.standin.wait_for("views.publish", 2)
            bot.post("command=%2Fpapers", "application/x-www-form-urlencoded", secret="wrong")
    finally:
        logging.getLogger().removeHandler(raw)
    lines = [caplog.handler.format(r) for r in caplog.records]
    assert len(unfiltered) > 20  # DEBUG really was on
    for secret in (TOKEN, SECRET):
        assert not any(secret in line for line in lines)
        assert not any(secret in line for line in unfiltered), "slack_sdk or Bolt logged it"
        sent = json.dumps([c.args for c in bot.standin.calls], default=str)
        assert secret not in sent


def test_secret_filter_redacts_tokens_in_messages_and_tracebacks() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "token %s and xoxb-1-abc", ("xapp-1-zzz",), None
    )
    SecretFilter(["super-secret-value"]).filter(record)
    assert record.getMessage() == "token [redacted] and [redacted]"


def test_fifty_concurrent_papers_commands_are_all_acknowledged_and_answered(bot: Bot) -> None:
    queries = ["kan", "speculative decoding", "agents memory", "2408.08338", "author:goldstein"]

    def one(n: int) -> tuple[int, float, str]:
        started = time.monotonic()
        response, url = bot.command(queries[n % len(queries)], user=f"U{n:03d}")
        return response.status_code, time.monotonic() - started, url

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert all(status == 200 for status, _, _ in results)
    slowest = max(elapsed for _, elapsed, _ in results)
    assert slowest < 3.0, f"an acknowledgement took {slowest:.2f}s"
    for _, _, url in results:
        assert bot.responses(url, timeout=30)


@pytest.mark.files_only
def test_a_catalog_damaged_while_the_bot_runs_is_set_aside_and_every_answer_says_so(
    bot: Bot,
) -> None:
    library = bot.runtime.library
    library.catalog.close()  # the bot reopens it on the next request, as after a restart
    path = library.catalog.path
    path.write_bytes(b"garbage " * 512)  # overwritten under the running bot
    Path(f"{path}-wal").unlink(missing_ok=True)
    response, url = bot.command("kan")
    assert response.status_code == 200
    [answer] = bot.responses(url)
    assert "damaged" in all_text(answer) and "paper catalog" in all_text(answer)
    _, save_url = bot.click("papers_save", "2408.08338")
    [saved] = bot.responses(save_url or "")
    assert "not in the library" in saved["text"]  # a reply, never silence
    assert list(path.parent.glob(f"{path.name}.damaged-*"))


@pytest.mark.files_only
def test_an_internal_error_still_gets_a_reply(bot: Bot) -> None:
    """state.json replaced by garbage under the running bot: Save, a reaction and a command
    each get an apology where the user acted, and the log has the traceback."""
    (bot.runtime.library.data_dir / "state.json").write_text("garbage")
    _, save_url = bot.click("papers_save", "2408.08338")
    [saved] = bot.responses(save_url or "")
    assert "went wrong" in saved["text"]
    _, url = bot.command("saved")
    [listing] = bot.responses(url)
    assert "went wrong" in listing["text"]


def test_signed_bodies_of_odd_shapes_get_400_or_200_never_500(bot: Bot) -> None:
    page_with_a_dict = {
        "type": "block_actions",
        "user": {"id": USER},
        "actions": [{"action_id": "papers_page", "value": {"page": 2}}],
        "response_url": bot.standin.response_url("odd"),
    }
    cases = [
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        (
            json.dumps({"type": "event_callback", "event": None, "event_id": "Ev1"}),
            "application/json",
        ),
        (
            "payload=" + json.dumps({"type": "block_actions", "actions": []}),
            "application/x-www-form-urlencoded",
        ),
        ("payload=" + json.dumps(page_with_a_dict), "application/x-www-form-urlencoded"),
        ("payload=[1]", "application/x-www-form-urlencoded"),
    ]
    for body, content_type in cases:
        response = bot.post(body, content_type)
        assert response.status_code in (200, 400), (body, response.status_code)


def test_a_database_that_goes_away_under_the_bot_gets_every_user_a_reply(bot: Bot) -> None:
    """PostgreSQL stops taking connections (a restart, a network cut): a search, a save and
    the reading list each get a reply saying so, and all works again once it is back. On
    files, the same requests simply work."""
    database = bot.runtime.settings.database_url
    if database:
        refuse_connections(database)
    _, url = bot.command("kan")
    [answer] = bot.responses(url)
    _, save_url = bot.click("papers_save", "2408.08338")
    [saved] = bot.responses(save_url or "")
    _, list_url = bot.command("saved")
    [listing] = bot.responses(list_url)
    if database:
        assert "went wrong" in all_text(answer) or "database" in all_text(answer)
        assert "Try again" in saved["text"]  # an apology where the user clicked
        assert "went wrong" in all_text(listing)
        refuse_connections(database, refuse=False)
        _, save_url = bot.click("papers_save", "2408.08338")
        [saved] = bot.responses(save_url or "")
    assert "Saved" in saved["text"]
    _, url = bot.command("kan")
    assert "2408.08338" in all_text(bot.responses(url)[0])
