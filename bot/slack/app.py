"""`create_app(settings, client=None)`: the Bolt App with every listener registered."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.listeners import register_all
from bot.slack.slackbot import SlackBot

log = logging.getLogger(__name__)
LISTENER_THREADS = 16


@contextmanager
def _without_env_credentials() -> Iterator[None]:
    """Build the App from our settings alone. Bolt silently switches to OAuth mode (ignoring
    our token) when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are both set (papers-bot is a
    single-workspace app), and warns on every start that the SLACK_BOT_TOKEN it read from the
    environment is unused beside our client."""
    names = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN")
    saved = {n: os.environ.pop(n) for n in names if n in os.environ}
    if "SLACK_CLIENT_ID" in saved and "SLACK_CLIENT_SECRET" in saved:
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
    with _without_env_credentials():
        app = App(
            client=slackbot.client,
            signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
            request_verification_enabled=bool(settings.slack_signing_secret),
            token_verification_enabled=False,  # the runner calls auth.test with a clear error
            process_before_response=False,
            # Bolt runs the 3-second acks and the slow lazy answers on one pool (5 threads by
            # default): a burst of answers would queue the next acks behind them.
            listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
        )
    register_all(app, slackbot)
    return app
