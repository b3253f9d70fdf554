"""Socket Mode: apps.connections.open, then envelopes (a slash command, a `link_shared` event)
over a local websocket, to the same Bolt app."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from websockets.sync.server import serve

from bot.config import Settings
from bot.library import Library
from bot.runtime import Runtime
from bot.slack.app import create_app
from bot.slack.client import make_client
from tests.slack.conftest import all_text
from tests.slack.standin import TestSlack


@contextlib.contextmanager
def socket_mode(
    settings: Settings, standin: TestSlack, envelope: dict[str, Any]
) -> Iterator[tuple[queue.Queue[dict[str, Any]], Runtime]]:
    """A bot connected in Socket Mode to a local websocket that sends `envelope` after the
    hello; yields the acks the bot sends back, and its runtime."""
    acks: queue.Queue[dict[str, Any]] = queue.Queue()

    def slack_side(websocket) -> None:  # a websockets ServerConnection
        websocket.send(json.dumps({"type": "hello", "num_connections": 1}))
        websocket.send(json.dumps(envelope))
        for raw in websocket:
            acks.put(json.loads(raw))

    with serve(slack_side, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        standin.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link"
        socket_settings = Settings(
            **{
                **settings.__dict__,
                "slack_app_token": standin.app_token,
                "slack_signing_secret": None,
            }
        )
        runtime = Runtime.open(socket_settings)
        app = create_app(socket_settings, make_client(socket_settings), runtime)
        handler = SocketModeHandler(app, standin.app_token)
        handler.connect()
        try:
            yield acks, runtime
        finally:
            handler.close()
            server.shutdown()


def events_envelope(envelope_id: str, event_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """An Events API event as Socket Mode wraps it."""
    return {
        "envelope_id": envelope_id,
        "type": "events_api",
        "accepts_response_payload": False,
        "payload": {
            "team_id": "T0STANDIN",
            "api_app_id": "A0",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1767300000,
            "authorizations": [{"team_id": "T0STANDIN", "user_id": "UBOT", "is_bot": True}],
            "event": event,
        },
    }


def test_slash_command_over_socket_mode(settings: Settings, standin: TestSlack) -> None:
    response_url = standin.response_url("socket")
    envelope = {
        "envelope_id": "env-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "command": "/papers",
            "text": "kan",
            "user_id": "U0ALICE",
            "channel_id": "C0PAPERS",
            "team_id": "T0STANDIN",
            "api_app_id": "A0",
            "response_url": response_url,
            "trigger_id": "t1",
        },
    }
    with socket_mode(settings, standin, envelope) as (acks, _):
        ack = acks.get(timeout=10)
        assert ack["envelope_id"] == "env-1"
        answer = standin.wait_for("response_url")[0].args
        assert "2408.08338" in all_text(answer) and "2503.10632" in all_text(answer)
        [opened] = standin.calls_to("apps.connections.open")
        assert opened.token == standin.app_token


def test_link_shared_over_socket_mode_unfurls_the_paper(
    settings: Settings, standin: TestSlack
) -> None:
    """The same listener behind a Socket Mode envelope: acked, then one chat.unfurl."""
    url = "https://arxiv.org/abs/2408.08338v3"
    ts = "1767300000.000100"
    event = {
        "type": "link_shared",
        "channel": "C0PAPERS",
        "is_bot_user_member": True,
        "user": "U0ALICE",
        "message_ts": ts,
        "unfurl_id": f"C0PAPERS.{ts}.abc",
        "source": "conversations_history",
        "links": [{"domain": "arxiv.org", "url": url}],
        "event_ts": ts,
    }
    envelope = events_envelope("env-link", "Ev-socket-link", event)
    with socket_mode(settings, standin, envelope) as (acks, runtime):
        assert acks.get(timeout=10)["envelope_id"] == "env-link"
        [call] = standin.wait_for("chat.unfurl")
        assert call.args["channel"] == "C0PAPERS" and call.args["ts"] == ts
        assert "Kolmogorov" in json.dumps(call.args["unfurls"][url])
        assert runtime.library.shares.papers_in("C0PAPERS", ts) == ["2408.08338"]


def test_a_mention_over_socket_mode_is_answered_in_the_thread(
    settings: Settings, standin: TestSlack
) -> None:
    """`@papers-bot QUESTION` in the thread of an unfurled link, as a Socket Mode envelope:
    "Reading the paper…" in the thread, then the answer in its place (from the abstract: no
    arXiv HTML is reachable here, and the reply says so)."""
    thread = "1767300000.000200"
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": "<@UBOT> what do they propose?",
        "ts": "1767300001.000100",
        "thread_ts": thread,
        "channel": "C0PAPERS",
        "event_ts": "1767300001.000100",
    }
    envelope = events_envelope("env-mention", "Ev-socket-mention", event)
    offline = replace(settings, arxiv_html_url="http://127.0.0.1:9/html")
    before = Library(settings.data_dir, database_url=settings.database_url)  # shared earlier
    before.shares.record("C0PAPERS", thread, "U0BOB", ["2408.08338"], False)
    with socket_mode(offline, standin, envelope) as (acks, _):
        assert acks.get(timeout=10)["envelope_id"] == "env-mention"
        [reading] = standin.wait_for("chat.postMessage")
        assert reading.args["thread_ts"] == thread
        [update] = standin.wait_for("chat.update", timeout=15)
        assert "could not be read just now" in all_text(update.args)
