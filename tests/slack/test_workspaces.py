"""Installed in many workspaces: Bolt's real OAuth flow against the loopback Slack, each
workspace's own bot token on its own calls, its own state and its own digest; uninstalling
stops the digest and keeps the saves. On both backends (files and PostgreSQL)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from bot.config import Settings, load_settings
from bot.daily.workspaces import DueDigests
from bot.library import load_sample_papers
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.slack.workspaces import BOT_SCOPES, InstalledWorkspaces
from tests.conftest import run_papers_bot
from tests.slack.conftest import Bot, all_text, running_bot
from tests.slack.standin import TestSlack

ALICE = "U0ALICE"  # the same user id in both workspaces: their state must still be apart
KAN, OTHER = "2408.08338", "2503.10632"


@pytest.fixture
def app(oauth_settings: Settings, standin: TestSlack) -> Iterator[Bot]:
    with running_bot(oauth_settings, standin) as running:
        yield running


def install(bot: Bot, code: str, finish_at: str | None = None) -> httpx.Response:
    """An admin's "Add to Slack": the install page, Slack's consent (the stand-in issues
    `code`), the redirect back with the state the page set in its cookie (to `finish_at`,
    another replica, if given)."""
    page = httpx.get(f"{bot.url}/slack/install", timeout=10)
    assert page.status_code == 200
    assert f"client_id={bot.standin.client_id}" in page.text
    assert "scope=commands,chat:write" in page.text
    state = re.search(r"state=([\w-]+)", page.text)
    assert state is not None, page.text
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    assert cookie.endswith(state.group(1))
    return httpx.get(
        f"{finish_at or bot.url}/slack/oauth_redirect",
        params={"code": code, "state": state.group(1)},
        headers={"Cookie": cookie},
        timeout=10,
    )


def tokens_of(standin: TestSlack, method: str, channel: str | None = None) -> list[str | None]:
    return [
        c.token
        for c in standin.calls_to(method)
        if channel is None or c.args.get("channel") == channel
    ]


def digest_time(zone: str, now: datetime) -> str:
    """A digest time five minutes ago in `zone`: due now, well within the grace."""
    return (now - timedelta(minutes=5)).astimezone(ZoneInfo(zone)).strftime("%H:%M")


def test_two_workspaces_install_and_each_uses_its_own_token_state_and_digest(
    app: Bot, oauth_settings: Settings
) -> None:
    slack = app.standin
    token_a, token_b = (
        slack.add_workspace("T0AAA", "code-a"),
        slack.add_workspace("T0BBB", "code-b"),
    )
    installed = install(app, "code-a")
    assert installed.status_code == 200
    assert "papers-bot is installed in Workspace T0AAA" in installed.text
    assert "/papers digest here" in installed.text
    assert install(app, "code-b").status_code == 200
    forged = install(app, "code-never-issued")
    assert forged.status_code != 200  # Slack refused the code: no installation
    a, b = replace(app, team="T0AAA"), replace(app, team="T0BBB", _n=1000)

    # Search answers through the response_url; a save refreshes the Home tab with the
    # token of the workspace it came from, and the two reading lists stay apart.
    response, answer_url = a.command("kan")
    assert response.status_code == 200
    assert KAN in all_text(a.responses(answer_url)[0])
    _, saved_url = a.click("papers_save", KAN)
    assert "Saved" in a.responses(saved_url or "")[0]["text"]
    assert tokens_of(slack, "views.publish") == [token_a]
    _, listing_url = b.command("saved")
    assert KAN not in all_text(b.responses(listing_url)[0])
    b.click("papers_save", OTHER)
    slack.wait_for("views.publish", 2)
    assert tokens_of(slack, "views.publish") == [token_a, token_b]
    library = app.runtime.library
    assert [p for p, _ in library.for_team("T0AAA").saves.of_user(ALICE)] == [KAN]
    assert [p for p, _ in library.for_team("T0BBB").saves.of_user(ALICE)] == [OTHER]
    assert library.saves.of_user(ALICE) == []  # nothing leaks into token mode's workspace

    # Each workspace sets its own digest, in its channel; the bot joins it with its token.
    now = datetime.now(UTC)
    _, url = a.command(f"digest here {digest_time('UTC', now)} utc", channel="C0AAA")
    assert "Done" in a.responses(url)[0]["text"]
    _, url = b.command(f"digest here {digest_time('Asia/Tokyo', now)} Asia/Tokyo", channel="C0BBB")
    assert "Asia/Tokyo" in b.responses(url)[0]["text"]
    assert tokens_of(slack, "conversations.join", "C0AAA") == [token_a]
    assert tokens_of(slack, "conversations.join", "C0BBB") == [token_b]
    _, url = a.command("digest list")
    assert "<#C0AAA>" in a.responses(url)[0]["text"]
    _, url = a.command("digest here 25:00")
    assert "is not a cadence" in a.responses(url)[0]["text"]

    # Their days' papers, then the minute tick: each digest in its channel, with its token.
    days = {"T0AAA": now.date(), "T0BBB": now.astimezone(ZoneInfo("Asia/Tokyo")).date()}
    sample = load_sample_papers()
    library.upsert_many(
        [
            replace(p, listed=days["T0AAA"].isoformat(), upvotes=90 - i)
            for i, p in enumerate(sample[:3])
        ]
        + [
            replace(p, listed=days["T0BBB"].isoformat(), upvotes=80 - i)
            for i, p in enumerate(sample[3:6])
        ]
    )
    workspaces = InstalledWorkspaces.open(SlackBot(app.runtime, make_client(oauth_settings)))
    assert workspaces.installed() == ["T0AAA", "T0BBB"]
    DueDigests(oauth_settings, app.runtime, workspaces, pace=0).tick(now)
    for team, channel, token in (("T0AAA", "C0AAA", token_a), ("T0BBB", "C0BBB", token_b)):
        posted = slack.messages.get(channel, [])
        assert len(posted) >= 2, (channel, posted)  # a header and its cards
        assert set(tokens_of(slack, "chat.postMessage", channel)) == {token}
        assert library.for_team(team).ledger.is_done(channel, days[team])
    before = len(slack.calls_to("chat.postMessage"))
    DueDigests(oauth_settings, app.runtime, workspaces, pace=0).tick(now + timedelta(minutes=1))
    assert len(slack.calls_to("chat.postMessage")) == before  # done days are never posted again


def test_uninstalling_stops_that_workspaces_digest_and_keeps_its_saves(
    app: Bot, oauth_settings: Settings
) -> None:
    slack = app.standin
    slack.add_workspace("T0AAA", "code-a")
    token_b = slack.add_workspace("T0BBB", "code-b")
    install(app, "code-a")
    install(app, "code-b")
    a, b = replace(app, team="T0AAA"), replace(app, team="T0BBB", _n=1000)
    a.click("papers_save", KAN)
    slack.wait_for("views.publish")
    now = datetime.now(UTC)
    for bot, channel in ((a, "C0AAA"), (b, "C0BBB")):
        _, url = bot.command(f"digest here {digest_time('UTC', now)}", channel=channel)
        assert "Done" in bot.responses(url)[0]["text"]

    slack.revoke("T0AAA")
    uninstalled = a.event({"type": "app_uninstalled"})
    assert uninstalled.status_code == 200
    library = app.runtime.library
    deadline = time.monotonic() + 10  # Bolt acknowledges first, then runs the listener
    while library.channel_digests.all("T0AAA") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert library.channel_digests.all("T0AAA") == []
    assert library.channel_digests.get("T0BBB", "C0BBB") is not None
    workspaces = InstalledWorkspaces.open(SlackBot(app.runtime, make_client(oauth_settings)))
    assert workspaces.installed() == ["T0BBB"]
    assert [p for p, _ in library.for_team("T0AAA").saves.of_user(ALICE)] == [KAN]  # kept

    # A command from the uninstalled workspace is told to install again; B is untouched.
    _, url = a.command("kan")
    assert "install" in a.responses(url)[0]["text"].lower()
    library.upsert_many([replace(load_sample_papers()[0], listed=now.date().isoformat())])
    announced = slack.messages["C0AAA"]  # the line saying who set the digest, no digest
    assert len(announced) == 1 and "set this channel's digest" in json.dumps(announced[0])
    DueDigests(oauth_settings, app.runtime, workspaces, pace=0).tick(now)
    assert slack.messages["C0AAA"] == announced
    assert set(tokens_of(slack, "chat.postMessage", "C0BBB")) == {token_b}


def test_a_cron_job_posts_every_due_workspace_digest_with_its_token(
    app: Bot, oauth_settings: Settings, tmp_path: Path
) -> None:
    """`papers-bot digest` with no bot token: what a Kubernetes CronJob runs instead of the
    replicas' tick; a second run finds nothing left to post."""
    slack = app.standin
    token_a = slack.add_workspace("T0AAA", "code-a")
    install(app, "code-a")
    a = replace(app, team="T0AAA")
    now = datetime.now(UTC)
    _, url = a.command(f"digest here {digest_time('UTC', now)}", channel="C0AAA")
    assert "Done" in a.responses(url)[0]["text"]
    day = now.date().isoformat()
    app.runtime.library.upsert_many(
        [replace(p, listed=day, upvotes=9 - i) for i, p in enumerate(load_sample_papers()[:3])]
    )
    env = {
        "SLACK_CLIENT_ID": oauth_settings.slack_client_id or "",
        "SLACK_CLIENT_SECRET": oauth_settings.slack_client_secret or "",
        "SLACK_API_URL": slack.api_url,
        "HF_API_URL": oauth_settings.hf_api_url,
        "PAPERS_DATA_DIR": str(oauth_settings.data_dir),
        "DATABASE_URL": oauth_settings.database_url or "",
    }
    first = run_papers_bot(tmp_path, "digest", **env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "T0AAA C0AAA: posted 3" in first.stdout
    assert set(tokens_of(slack, "chat.postMessage", "C0AAA")) == {token_a}
    again = run_papers_bot(tmp_path, "digest", **env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "no digest is due now" in again.stdout


def test_many_workspace_settings_say_what_they_need() -> None:
    needs = load_settings({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"})
    assert needs.many_workspaces
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        needs.require_slack()
    both = load_settings(
        {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"}
    )
    assert not both.many_workspaces  # the bot token wins: one workspace, as before
    socket = load_settings(
        {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"}
    )
    with pytest.raises(ValueError, match="runs in HTTP mode; unset SLACK_APP_TOKEN"):
        socket.require_slack()
    assert "s" in needs.secrets()


def test_the_install_asks_for_the_manifests_bot_scopes() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == BOT_SCOPES


def test_make_run_with_a_client_id_and_secret_starts_the_bot_not_the_console(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    env = {**os.environ, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.run_or_console"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        input="",
    )
    assert done.returncode == 2  # `papers-bot run`, saying what it still needs
    assert "SLACK_SIGNING_SECRET is not set" in done.stderr
    assert "offline console" not in done.stdout
