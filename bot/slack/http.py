"""HTTP mode: Bolt's WSGI adapter under waitress, a production WSGI server.

`POST /slack/events` takes slash commands, events and interactivity (one Request URL for all
three in the manifest); `GET /healthz` answers 200 for load balancers and uptime checks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

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
        try:
            return handler(environ, start_response)
        except ValueError as error:  # a body Bolt cannot parse (broken JSON or form data)
            log.warning("rejected a request with a malformed body: %s", type(error).__name__)
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"malformed request body"]

    return application


def create_server(app: App, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server (not yet running): `.run()` serves, `.close()` stops."""
    from waitress.server import create_server as waitress_server

    return waitress_server(
        wsgi_application(app), host=host, port=port, threads=threads, ident="papers-bot"
    )
