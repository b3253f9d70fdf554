"""HTTP mode: Bolt's WSGI adapter under waitress, a production WSGI server.

`POST /slack/events` takes slash commands, events and interactivity (one Request URL for all
three in the manifest); `GET /healthz` answers 200 for load balancers and uptime checks.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"
log = logging.getLogger(__name__)


def wsgi_application(app: App) -> Callable[..., Iterable[bytes]]:
    handler = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        body = _read_body(environ)
        problem = malformed(body, environ.get("CONTENT_TYPE", ""))
        if problem is None:
            try:
                return handler(environ, start_response)
            except ValueError as error:  # a body Bolt cannot parse (broken JSON or form data)
                problem = type(error).__name__
        log.warning("rejected a request with a malformed body: %s", problem)
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"malformed request body"]

    return application


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back for Bolt (which reads it again)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def malformed(body: bytes, content_type: str) -> str | None:
    """What makes a body unusable as a Slack request (None when its shape is fine).

    Only shapes are checked here; the signature is Bolt's job, and Bolt checks it before any
    listener runs. A JSON body must be an object, an event an object, an interactive payload
    an object whose `actions` (if any) is a list of objects.
    """
    try:
        if "json" in content_type:
            return _check_envelope(json.loads(body or b"{}"))
        form = parse_qs(body.decode("utf-8"))
        if "payload" in form:
            return _check_envelope(json.loads(form["payload"][0]))
    except (ValueError, UnicodeDecodeError) as error:
        return type(error).__name__
    return None


def _check_envelope(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    if data.get("type") == "event_callback" and not isinstance(data.get("event"), dict):
        return "an event_callback without an event object"
    actions = data.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        return "actions that are not a list of objects"
    if data.get("type") == "block_actions" and not actions:
        return "a click without an action"
    return None


def create_server(app: App, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server (not yet running): `.run()` serves, `.close()` stops."""
    from waitress.server import create_server as waitress_server

    return waitress_server(
        wsgi_application(app), host=host, port=port, threads=threads, ident="papers-bot"
    )
