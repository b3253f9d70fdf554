"""Socket Mode: apps.connections.open, then a slash command envelope over a local websocket."""

from __future__ import annotations

import json
import queue
import threading

from slack_bolt.adapter.socket_mode import SocketModeHandler
from websockets.sync.server import serve

from bot.config import Settings
from bot.runtime import Runtime
from bot.slack.app import create_app
from bot.slack.client import make_client
from tests.slack.conftest import all_text
from tests.slack.standin import TestSlack


def test_slash_command_over_socket_mode(settings: Settings, standin: TestSlack) -> None:
    acks: queue.Queue[dict] = queue.Queue()
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
        app = create_app(
            socket_settings, make_client(socket_settings), Runtime.open(socket_settings)
        )
        handler = SocketModeHandler(app, standin.app_token)
        handler.connect()
        try:
            ack = acks.get(timeout=10)
            assert ack["envelope_id"] == "env-1"
            answer = standin.wait_for("response_url")[0].args
            assert "2408.08338" in all_text(answer) and "2503.10632" in all_text(answer)
            [opened] = standin.calls_to("apps.connections.open")
            assert opened.token == standin.app_token
        finally:
            handler.close()
        server.shutdown()
