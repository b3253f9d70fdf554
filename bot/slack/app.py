"""`create_app(settings, client=None)`: the Bolt App with every listener registered."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_sdk import WebClient

from bot.config import Settings
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.listeners import register_all
from bot.slack.slackbot import SlackBot
from bot.slack.workspaces import InstalledWorkspaces, oauth_settings, workspace_of

log = logging.getLogger(__name__)
LISTENER_THREADS = 16


@contextmanager
def _without_env_credentials() -> Iterator[None]:
    """Build the App from our settings alone: Bolt reads SLACK_CLIENT_ID, SLACK_CLIENT_SECRET
    and SLACK_BOT_TOKEN from the environment by itself, and would switch modes (or warn on every
    start) behind our settings' back."""
    names = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN")
    saved = {n: os.environ.pop(n) for n in names if n in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def create_app(
    settings: Settings,
    client: WebClient | None = None,
    runtime: Runtime | None = None,
) -> App:
    slackbot = SlackBot(runtime or Runtime.open(settings), client or make_client(settings))
    workspaces = InstalledWorkspaces.open(slackbot) if settings.many_workspaces else None
    return app_for(slackbot, workspaces)


def app_for(
    slackbot: SlackBot,
    workspaces: InstalledWorkspaces | None = None,
    executor: ThreadPoolExecutor | None = None,
) -> App:
    """The Bolt App that answers Slack through `slackbot` (which the runner also hands the
    daily job, so digests and answers share one client and one library). With `workspaces`
    (many workspaces), Bolt runs the OAuth flow and finds each request's token itself.
    `executor`: the pool the listeners run on, for a caller that must wait for the answers
    still in flight before it stops (the console)."""
    settings = slackbot.runtime.settings
    if settings.slack_client_id and settings.slack_bot_token:
        log.warning("SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are ignored: SLACK_BOT_TOKEN is set")
    with _without_env_credentials():
        app = App(
            client=slackbot.client,
            signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
            request_verification_enabled=bool(settings.slack_signing_secret),
            token_verification_enabled=False,  # the runner calls auth.test with a clear error
            process_before_response=False,
            # Bolt runs the 3-second acks and the slow lazy answers on one pool (5 threads by
            # default): a burst of answers would queue the next acks behind them.
            listener_executor=executor or ThreadPoolExecutor(max_workers=LISTENER_THREADS),
            **_oauth(settings, workspaces),
        )
    register_all(app, slackbot)
    if workspaces is not None:
        _stop_when_uninstalled(app, workspaces)
    return app


def _oauth(settings: Settings, workspaces: InstalledWorkspaces | None) -> dict[str, Any]:
    if workspaces is None:
        return {}
    return {
        "oauth_settings": oauth_settings(settings, workspaces.store, workspaces.states),
        "installation_store": workspaces.store,
    }


def _stop_when_uninstalled(app: App, workspaces: InstalledWorkspaces) -> None:
    """Uninstalled, or its bot token revoked: the tokens go (Bolt's own listeners), and so
    does the workspace's digest; its people's saves and follows stay."""
    revocation = TokenRevocationListeners(workspaces.store)

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        revocation.handle_app_uninstalled_events(context)
        workspaces.forget(workspace_of(context))

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], context: BoltContext) -> None:
        revocation.handle_tokens_revoked_events(event, context)
        if (event.get("tokens") or {}).get("bot"):
            workspaces.forget(workspace_of(context))
