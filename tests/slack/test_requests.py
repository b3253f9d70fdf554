"""Forged, stale and odd requests; the health check; the runner's start-up checks."""

from __future__ import annotations

import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.config import load_settings
from bot.slack.client import make_client
from bot.slack.runner import check_auth, join_digest_channel, run
from tests.conftest import DATA, ROOT
from tests.slack.conftest import Bot
from tests.slack.standin import TestSlack


def test_healthz(bot: Bot) -> None:
    response = bot.http.get(f"{bot.url}/healthz")
    assert response.status_code == 200 and response.text == "ok"


def test_forged_signature_is_401_and_does_nothing(bot: Bot) -> None:
    response_url = bot.standin.response_url("forged")
    body = f"command=%2Fpapers&text=kan&user_id=U1&channel_id=C1&response_url={response_url}"
    response = bot.post(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    assert response.status_code == 401
    bot.command("help")  # a marker: once it is answered, a forged request would have been too
    bot.standin.wait_for("response_url")
    assert [c.args["_path"] for c in bot.standin.calls_to("response_url")] != ["/response/forged"]
    assert len(bot.standin.calls_to("response_url")) == 1


def test_stale_timestamp_is_401(bot: Bot) -> None:
    body = "command=%2Fpapers&text=kan"
    stale = int(time.time()) - 6 * 60
    assert bot.post(body, "application/x-www-form-urlencoded", timestamp=stale).status_code == 401


def test_unsigned_request_is_401(bot: Bot) -> None:
    response = bot.http.post(f"{bot.url}/slack/events", content=b"command=%2Fpapers")
    assert response.status_code == 401


def test_url_verification_challenge(bot: Bot) -> None:
    import json

    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    response = bot.post(body, "application/json")
    assert response.status_code == 200 and "abc123" in response.text


def test_manifest_is_valid_against_slacks_schema() -> None:
    schema_path = DATA / "slack" / "manifest.schema.1.0.0.json"
    import json

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    jsonschema.Draft7Validator(json.loads(schema_path.read_text())).validate(manifest)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/papers" and command["usage_hint"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "reaction_added",
        "reaction_removed",
        "app_home_opened",
        "link_shared",
        "app_mention",
    }
    assert manifest["features"]["unfurl_domains"] == ["arxiv.org", "huggingface.co", "alphaxiv.org"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "channels:join",
        "reactions:read",
        "im:write",
        "files:write",
        "links:read",
        "links:write",
        "channels:read",
        "app_mentions:read",
    }


def test_run_without_settings_names_each_missing_one_and_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings = load_settings({"PAPERS_DATA_DIR": str(tmp_path), "PORT": "http"})
    assert run(settings) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN is not set" in err
    assert "SLACK_SIGNING_SECRET is not set" in err
    assert "PORT must be a port number" in err
    assert "README.md" in err


def test_a_token_slack_refuses_exits_2(standin: TestSlack, capsys) -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-wrong",
            "SLACK_API_URL": standin.api_url,
            "SLACK_SIGNING_SECRET": "s",
        }
    )
    assert check_auth(make_client(settings)) == 2
    assert "invalid_auth" in capsys.readouterr().err


def test_channel_checks_join_public_and_explain_private(standin: TestSlack, capsys) -> None:
    standin.channels["G0SECRET"] = {"name": "secret", "is_private": True, "is_member": False}
    settings = load_settings(
        {"SLACK_BOT_TOKEN": standin.bot_token, "SLACK_API_URL": standin.api_url}
    )
    client = make_client(settings)
    assert join_digest_channel(client, "C0PAPERS") is True
    assert standin.channels["C0PAPERS"]["is_member"] is True
    assert join_digest_channel(client, "G0SECRET") is False
    assert join_digest_channel(client, "C0MISSING") is False
    err = capsys.readouterr().err
    assert "/invite @papers-bot" in err and "was not found" in err
