"""`papers-bot run`: check settings and Slack, then serve in Socket Mode or over HTTP."""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.config import SETUP_HINT, Settings, SettingsError
from bot.daily.workspaces import DueDigests, OneWorkspace, start_digest_scheduler
from bot.library import StoreError
from bot.runtime import Runtime
from bot.slack.app import app_for
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.slack.workspaces import InstalledWorkspaces

log = logging.getLogger(__name__)
FEW_PAPERS = 200  # about the sample library: a new installation
FILL_THE_LIBRARY = (
    "the library is nearly empty (the sample papers). Fill it: `papers-bot fetch --since "
    "2023-05-04` pulls the Daily Papers history (about 900 days, 20,000-30,000 papers, "
    "15-20 minutes; rerun it if stopped), and PAPERS_ARXIV_CATEGORIES=cs.LG,cs.CL plus "
    "`papers-bot fetch --arxiv cs.LG --since 2026-10-01` add arXiv categories"
)
BAD_TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked"}


def check_auth(client: WebClient) -> dict[str, Any] | int:
    """auth.test: the bot's identity, or an exit code after saying what is wrong."""
    try:
        return client.auth_test().data  # type: ignore[return-value]
    except SlackApiError as error:
        code = error.response.get("error")
        if code in BAD_TOKEN_ERRORS:
            print(
                f"Slack refused SLACK_BOT_TOKEN ({code}). Copy the Bot User OAuth Token "
                f"(xoxb-...) again from OAuth & Permissions. {SETUP_HINT}",
                file=sys.stderr,
            )
            return 2
        print(f"auth.test failed: {code}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Cannot reach Slack at {client.base_url}: {error}", file=sys.stderr)
        return 1


def join_digest_channel(client: WebClient, channel: str) -> bool:
    """Join `channel` so the bot can post there and hear its reactions; say what to do if not.

    conversations.join needs no read scope and answers "already_in_channel" when the bot is
    a member; private channels cannot be joined, only invited into.
    """
    try:
        client.conversations_join(channel=channel)
        log.info("the bot is in %s; digests and reactions there will work", channel)
        return True
    except SlackApiError as error:
        code = error.response.get("error")
    if code == "method_not_supported_for_channel_type":
        print(
            f"PAPERS_CHANNEL {channel} is private: make sure the bot is in it "
            "(type /invite @papers-bot in that channel).",
            file=sys.stderr,
        )
    elif code == "channel_not_found":
        print(
            f"PAPERS_CHANNEL {channel} was not found: copy the id from the channel's details "
            "(About tab, at the bottom).",
            file=sys.stderr,
        )
    else:
        print(
            f"Could not join PAPERS_CHANNEL {channel} ({code}): invite the bot with "
            "/invite @papers-bot.",
            file=sys.stderr,
        )
    return False


def run(settings: Settings) -> int:
    try:
        settings.require_slack()
        runtime = Runtime.open(settings, serving=True)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return 2
    except StoreError as error:
        print(f"papers-bot: {error}", file=sys.stderr)
        return 1
    connected = _connect(settings, runtime)
    if isinstance(connected, int):
        return connected
    slackbot, workspaces = connected
    app = app_for(slackbot, workspaces)
    serve = _socket_mode(app, settings) if settings.socket_mode else _http_server(app, settings)
    if isinstance(serve, int):
        return serve
    log.info("the library holds %d papers", len(runtime.library))
    if len(runtime.library) <= FEW_PAPERS:
        log.info(FILL_THE_LIBRARY)
    runtime.warm_up()
    # Another process (a cron `papers-bot import` or `fetch`) may write the library while we
    # serve: a thread of its own catches up, so no request ever waits for a re-index.
    runtime.search.start_background_refresh()
    scheduler: Any = None
    if not settings.scheduler:
        log.info("PAPERS_SCHEDULER=0: digests are left to `papers-bot digest` (cron)")
    else:
        served = workspaces if workspaces is not None else OneWorkspace(slackbot)
        scheduler = start_digest_scheduler(settings, DueDigests(settings, runtime, served))
    try:
        serve()
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        runtime.search.stop_background_refresh()
    return 0


def _connect(
    settings: Settings, runtime: Runtime
) -> tuple[SlackBot, InstalledWorkspaces | None] | int:
    """The bot and, installed in many workspaces, where their tokens are; or an exit code.
    One workspace: its token is checked and the digest channels joined, before serving."""
    client = make_client(settings)
    slackbot = SlackBot(runtime, client)
    if settings.many_workspaces:
        try:
            workspaces = InstalledWorkspaces.open(slackbot)
        except SQLAlchemyError as error:
            print(
                f"papers-bot: cannot keep installations in the database: {error}", file=sys.stderr
            )
            return 1
        log.info("many workspaces: installs at GET /slack/install, tokens in the library")
        return slackbot, workspaces
    identity = check_auth(client)
    if isinstance(identity, int):
        return identity
    log.info("connected to %s as %s", identity.get("team"), identity.get("user"))
    for channel in settings.channels:
        join_digest_channel(client, channel)
    return slackbot, None


def _socket_mode(app: App, settings: Settings) -> Callable[[], None]:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    def serve() -> None:
        log.info("Socket Mode: connecting")
        SocketModeHandler(app, settings.slack_app_token).start()

    return serve


def _http_server(app: App, settings: Settings) -> Callable[[], None] | int:
    """The HTTP server, bound to PORT before the library is loaded (a port in use fails in a
    second, with one line that says what to do); an exit code when it cannot be bound."""
    from bot.slack.http import create_server

    try:
        server = create_server(app, "0.0.0.0", settings.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = "is already in use (another papers-bot, or another program, listens there)"
        elif error.errno == errno.EACCES:
            reason = "needs privileges (ports below 1024 do)"
        else:
            reason = f"cannot be opened ({error.strerror or error})"
        print(
            f"PORT {settings.port} {reason}: stop that program or set PORT to a free port.",
            file=sys.stderr,
        )
        return 2

    def serve() -> None:
        log.info("HTTP mode: POST /slack/events and GET /healthz on port %s", settings.port)
        server.run()

    return serve
