"""What Slack sends an app, built and signed the way Slack does: slash commands, button
clicks and events. The console plays Slack with these, and so do the tests: one builder.

Slack signs `v0:{timestamp}:{body}` with HMAC-SHA256 and the signing secret
(docs: "Verifying requests from Slack").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TEAM = "T0STANDIN"
APP_ID = "A0PAPERS"


def signed_headers(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    timestamp = timestamp or int(time.time())
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": str(timestamp), "x-slack-signature": signature}


def slash_command_body(
    text: str, user: str, channel: str, response_url: str, trigger_id: str
) -> str:
    """The form body of `/papers TEXT` typed by `user` in `channel`."""
    return urlencode(
        {
            "token": "unused",
            "team_id": TEAM,
            "team_domain": "standin",
            "channel_id": channel,
            "channel_name": "papers",
            "user_id": user,
            "user_name": "someone",
            "command": "/papers",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def block_action_body(
    user: str,
    action: dict[str, Any],
    container: dict[str, Any],
    channel: str | None = None,
    response_url: str | None = None,
) -> str:
    """The form body of a button click (`block_actions`); messages carry a response_url, the
    App Home does not."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM},
        "team": {"id": TEAM},
        "api_app_id": APP_ID,
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "container": container,
        "actions": [{"type": "button", "action_ts": str(time.time()), **action}],
    }
    if channel and response_url:
        payload |= {"channel": {"id": channel, "name": "papers"}, "response_url": response_url}
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], event_id: str) -> str:
    """The JSON body of an Events API `event_callback`."""
    return json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }
    )
