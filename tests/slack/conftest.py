"""The real Bolt app behind its real HTTP server (waitress), talking to the Slack stand-in."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.config import Settings
from bot.console.slack_requests import signed_headers
from bot.runtime import Runtime
from bot.slack.app import create_app
from bot.slack.client import make_client
from bot.slack.http import create_server
from tests.fakes.hf import HFStandIn
from tests.slack.standin import TestSlack

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
USER, CHANNEL = "U0ALICE", "C0PAPERS"


@pytest.fixture
def standin() -> Iterator[TestSlack]:
    fake = TestSlack(bot_token=TOKEN).start()
    yield fake
    fake.stop()
    assert fake.violations == [], "payloads Slack would reject"


@pytest.fixture
def settings(standin: TestSlack, tmp_path: Path, database_url: str | None) -> Settings:
    """Every Slack behaviour test runs on each backend (`database_url`)."""
    return Settings(
        database_url=database_url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=standin.api_url,
        data_dir=tmp_path / "data",
        channels=[CHANNEL],
        hf_api_url="http://127.0.0.1:9/api",  # nothing listens: tests never reach the internet
        semantic=False,  # by words, as tests/conftest.py says; one test turns meaning on
    )


@dataclass
class Bot:
    url: str
    standin: TestSlack
    runtime: Runtime
    http: httpx.Client
    _n: int = 0
    team: str = "T0STANDIN"  # the workspace requests come from

    def next_id(self) -> int:
        self._n += 1
        return self._n

    def post(
        self,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
        secret: str = SECRET,
        timestamp: int | None = None,
    ) -> httpx.Response:
        signed = signed_headers(body, secret, timestamp) | {"content-type": content_type}
        return self.http.post(
            f"{self.url}/slack/events", content=body.encode(), headers=signed | (headers or {})
        )

    def command(
        self, text: str, user: str = USER, channel: str = CHANNEL
    ) -> tuple[httpx.Response, str]:
        response_url = self.standin.response_url(f"cmd{self.next_id()}")
        form = {
            "token": "x",
            "team_id": self.team,
            "team_domain": "t",
            "channel_id": channel,
            "channel_name": "papers",
            "user_id": user,
            "user_name": "alice",
            "command": "/papers",
            "text": text,
            "api_app_id": "A0PAPERS",
            "response_url": response_url,
            "trigger_id": f"trig{self.next_id()}",
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded"), response_url

    def responses(
        self, response_url: str, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        path = response_url.removeprefix(self.standin.base_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [
                c.args for c in self.standin.calls_to("response_url") if c.args.get("_path") == path
            ]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise TimeoutError(f"no answer on {response_url}")

    def click(
        self,
        action_id: str,
        value: str,
        user: str = USER,
        channel: str | None = CHANNEL,
        container: dict[str, Any] | None = None,
    ) -> tuple[httpx.Response, str | None]:
        response_url = self.standin.response_url(f"act{self.next_id()}") if channel else None
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "team_id": self.team},
            "team": {"id": self.team},
            "api_app_id": "A0PAPERS",
            "trigger_id": "t",
            "container": container
            or {
                "type": "message",
                "message_ts": "1.2",
                "channel_id": channel,
                "is_ephemeral": True,
            },
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "value": value,
                    "block_id": f"paper:{value}",
                    "action_ts": "1.3",
                }
            ],
        }
        if channel:
            payload |= {"channel": {"id": channel, "name": "papers"}, "response_url": response_url}
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded"), response_url

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = {
            "token": "x",
            "team_id": self.team,
            "api_app_id": "A0PAPERS",
            "type": "event_callback",
            "event": event,
            "event_id": event_id or f"Ev{self.next_id():06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team, "user_id": "UBOT", "is_bot": True}],
        }
        return self.post(json.dumps(body), "application/json", headers)

    def reaction(
        self,
        kind: str,
        ts: str,
        emoji: str = "bookmark",
        user: str = USER,
        channel: str = CHANNEL,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.event(
            {
                "type": kind,
                "user": user,
                "reaction": emoji,
                "item_user": "UBOT",
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": "1.1",
            },
            event_id,
            headers,
        )


def _serve_until_closed(server) -> None:  # a waitress server
    """waitress has no stop(): close() pulls the socket from under select(), which is fine."""
    with contextlib.suppress(OSError):
        server.run()


@contextlib.contextmanager
def running_bot(settings: Settings, standin: TestSlack) -> Iterator[Bot]:
    """The real app behind waitress on an ephemeral port of 127.0.0.1."""
    runtime = Runtime.open(settings)
    app = create_app(settings, make_client(settings), runtime)
    server = create_server(app, "127.0.0.1", 0, threads=8)
    thread = threading.Thread(target=_serve_until_closed, args=(server,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    try:
        with httpx.Client(timeout=10) as http:
            yield Bot(url, standin, runtime, http)
    finally:
        server.close()
        thread.join(timeout=5)
        runtime.close()


@pytest.fixture
def bot(settings: Settings, standin: TestSlack) -> Iterator[Bot]:
    with running_bot(settings, standin) as running:
        yield running


def all_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + message.get("text", "")


@pytest.fixture
def oauth_settings(settings: Settings, standin: TestSlack, hf: HFStandIn) -> Settings:
    """No bot token, the app's client id and secret: installed by OAuth, any number of times."""
    standin.channels |= {
        "C0AAA": {"name": "papers-a", "is_private": False, "is_member": False},
        "C0BBB": {"name": "papers-b", "is_private": False, "is_member": False},
    }
    return replace(
        settings,
        slack_bot_token=None,
        slack_client_id=standin.client_id,
        slack_client_secret=standin.client_secret,
        channels=[],
        hf_api_url=hf.url,
    )
