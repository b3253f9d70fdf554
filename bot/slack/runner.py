"""`papers-bot run`: check settings and Slack, then serve in Socket Mode or over HTTP."""

from __future__ import annotations

import logging
import sys

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import SETUP_HINT, Settings, SettingsError
from bot.services import Services
from bot.slack.app import create_app
from bot.slack.client import make_client
from bot.storage import StoreError

log = logging.getLogger(__name__)
BAD_TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked"}


def check_auth(client: WebClient) -> dict | int:
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


def check_channel(client: WebClient, channel: str) -> bool:
    """Make sure the bot can post (and hear reactions) in `channel`; say what to do if not."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        code = error.response.get("error")
        print(
            f"PAPERS_CHANNEL {channel}: {code}. Check the id (channel details > About), and "
            "invite the bot there with /invite @papers-bot.",
            file=sys.stderr,
        )
        return False
    if info.get("is_member"):
        return True
    if info.get("is_private"):
        print(
            f"PAPERS_CHANNEL {channel} is private and the bot is not in it: "
            "type /invite @papers-bot in that channel.",
            file=sys.stderr,
        )
        return False
    try:
        client.conversations_join(channel=channel)
        log.info("joined %s so that reactions there reach the bot", channel)
        return True
    except SlackApiError as error:
        print(
            f"Could not join {channel} ({error.response.get('error')}): invite the bot with "
            "/invite @papers-bot, or add the channels:join scope.",
            file=sys.stderr,
        )
        return False


def run(settings: Settings) -> int:
    try:
        settings.require_slack()
        services = Services.open(settings)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return 2
    except StoreError as error:
        print(f"papers-bot: {error}", file=sys.stderr)
        return 1
    client = make_client(settings)
    identity = check_auth(client)
    if isinstance(identity, int):
        return identity
    log.info("connected to %s as %s", identity.get("team"), identity.get("user"))
    for channel in settings.channels:
        check_channel(client, channel)
    app = create_app(settings, client, services)
    scheduler = _start_schedule(settings, services, app)
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("Socket Mode: connecting")
            SocketModeHandler(app, settings.slack_app_token).start()
        else:
            from bot.slack.http import create_server

            server = create_server(app, "0.0.0.0", settings.port)
            log.info("HTTP mode: POST /slack/events and GET /healthz on port %s", settings.port)
            server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


def _start_schedule(settings: Settings, services: Services, app):  # noqa: ANN001, ANN202
    if not settings.channels:
        return None
    from bot.scheduler import start_scheduler
    from bot.slack.app import PAPERS_KEY

    return start_scheduler(settings, services, getattr(app, PAPERS_KEY))
