"""`create_app(settings, client=None)`: the Bolt App with every listener registered."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.config import Settings
from bot.library import Library
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.listeners import register_all
from bot.slack.slackbot import SlackBot

log = logging.getLogger(__name__)


@contextmanager
def _without_oauth_env() -> Iterator[None]:
    """Bolt silently switches to OAuth mode (ignoring our token) when SLACK_CLIENT_ID and
    SLACK_CLIENT_SECRET are both set; papers-bot is a single-workspace app."""
    names = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
    saved = {n: os.environ.pop(n) for n in names if n in os.environ}
    if len(saved) == 2:
        log.warning(
            "SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are ignored: papers-bot uses the bot token"
        )
    try:
        yield
    finally:
        os.environ.update(saved)


def create_app(
    settings: Settings,
    client: WebClient | None = None,
    runtime: Runtime | None = None,
) -> App:
    client = client or make_client(settings)
    return app_for(SlackBot(runtime or Runtime.open(settings), client))


def app_for(slackbot: SlackBot) -> App:
    """The Bolt App that answers Slack through `slackbot` (which the runner also hands the
    daily job, so digests and answers share one client and one library)."""
    settings = slackbot.runtime.settings
    with _without_oauth_env():
        app = App(
            client=slackbot.client,
            signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
            request_verification_enabled=bool(settings.slack_signing_secret),
            token_verification_enabled=False,  # the runner calls auth.test with a clear error
            process_before_response=False,
        )
    app.middleware(_drop_retried_events(slackbot.library))
    register_all(app, slackbot)
    return app


def _drop_retried_events(library: Library) -> Callable[..., Any]:
    def middleware(body: dict[str, Any], next: Callable[[], Any], logger: logging.Logger) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            try:
                first = library.events.first_sighting(str(event_id))
            except Exception:  # a write failure must not stop the event; saves are idempotent
                logger.exception("could not record event id %s", event_id)
                first = True
            if not first:
                logger.info("event %s was already handled; dropping the retry", event_id)
                # 200, not 404: Slack would treat 404 as a failed delivery and retry again.
                return BoltResponse(status=200, body="")
        return next()

    return middleware
