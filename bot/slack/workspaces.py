"""Many workspaces: Bolt's OAuth flow (`GET /slack/install`, `GET /slack/oauth_redirect`) and
the installations it keeps, one bot token per workspace.

On when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set and SLACK_BOT_TOKEN is not. The
installations and the OAuth states live where the library does: with DATABASE_URL in its
PostgreSQL database (slack_sdk's SQLAlchemy stores), otherwise in the data dir (slack_sdk's
file stores). Bolt looks the token up for every request (`context.client` carries it); the
digest job asks `InstalledWorkspaces.messenger` for the token of the workspace it posts in.
"""

from __future__ import annotations

import html
import logging
import time
from pathlib import Path
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import select

from bot.config import Settings
from bot.library import Library
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot, workspace_of

log = logging.getLogger(__name__)
__all__ = ["InstalledWorkspaces", "installation_stores", "oauth_settings", "workspace_of"]

# The bot scopes of manifest.yml (a test holds the two lists equal): what an install asks for.
BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:join",
    "reactions:read",
    "im:write",
    "files:write",
    "links:read",
    "links:write",
    "channels:read",
    "app_mentions:read",
]
STATE_SECONDS = 600  # an "Add to Slack" click must come back within 10 minutes
INSTALL_PATH, REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"


def installation_stores(
    settings: Settings, library: Library
) -> tuple[InstallationStore, OAuthStateStore]:
    client_id = settings.slack_client_id or ""
    if library.database_url:
        from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
        from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

        store = SQLAlchemyInstallationStore(client_id=client_id, engine=library.engine)
        states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=library.engine)
        _create_tables(store, states)
        return store, states
    from slack_sdk.oauth.installation_store import FileInstallationStore
    from slack_sdk.oauth.state_store import FileOAuthStateStore

    base = library.data_dir / "installations"
    return (
        FileInstallationStore(base_dir=str(base), client_id=client_id),
        FileOAuthStateStore(
            expiration_seconds=STATE_SECONDS, base_dir=str(base / "states"), client_id=client_id
        ),
    )


def _create_tables(store: Any, states: Any) -> None:
    """slack_sdk's own tables, made if missing. Replicas starting together may race to
    create them: the loser's CREATE fails, and the second look finds them made."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(3):
        try:
            store.metadata.create_all(store.engine, checkfirst=True)
            states.metadata.create_all(states.engine, checkfirst=True)
            return
        except SQLAlchemyError:
            if attempt == 2:
                raise
            time.sleep(0.5)


def oauth_settings(
    settings: Settings, store: InstallationStore, states: OAuthStateStore
) -> OAuthSettings:
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=BOT_SCOPES,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=_installed_page, failure=_failed_page),
    )


def _installed_page(args: SuccessArgs) -> BoltResponse:
    """After "Add to Slack": what was installed where, and the one thing to do next."""
    installation = args.installation
    team = html.escape(installation.team_name or installation.team_id or "your workspace")
    link = f"slack://app?team={installation.team_id}&id={installation.app_id}"
    page = INSTALLED_PAGE.format(team=team, link=html.escape(link))
    log.info("installed in workspace %s", installation.team_id or installation.enterprise_id)
    return BoltResponse(status=200, body=page, headers={"Content-Type": "text/html; charset=utf-8"})


def _failed_page(args: FailureArgs) -> BoltResponse:
    log.warning("an install failed: %s", args.reason)
    return args.default.failure(args)


INSTALLED_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>papers-bot is installed</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h2>papers-bot is installed in {team}</h2>
<p>Next, in the channel where the daily digest of trending papers should go, type
<code>/papers digest here 09:00 Europe/Berlin</code> (your time and zone).</p>
<p>Anyone can search with <code>/papers kan</code> and save papers with :bookmark:.</p>
<p><a href="{link}">Open Slack</a></p>
</body></html>
"""


Ids = tuple[str | None, str | None]  # (enterprise id, team id), as the stores key installs


def installed_teams(store: InstallationStore) -> dict[str, Ids]:
    """The workspaces (or, for an org-wide install, organisations) a store holds an install
    of, by our key (`workspace_of`); slack_sdk's stores have no such listing, so it is read
    from where each keeps them."""
    from slack_sdk.oauth.installation_store import FileInstallationStore
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    pairs: set[Ids] = set()
    if isinstance(store, FileInstallationStore):
        folder = Path(store.base_dir)
        for entry in folder.iterdir() if folder.is_dir() else ():
            enterprise, _, team = entry.name.partition("-")  # "{enterprise|none}-{team|none}"
            pairs.add(
                (None if enterprise == "none" else enterprise, None if team == "none" else team)
            )
    elif isinstance(store, SQLAlchemyInstallationStore):
        bots = store.bots
        query = select(bots.c.enterprise_id, bots.c.team_id).where(
            bots.c.client_id == store.client_id
        )
        with store.engine.connect() as conn:
            pairs = {(enterprise, team) for enterprise, team in conn.execute(query)}
    return {
        str(team or enterprise): (enterprise, team)
        for enterprise, team in pairs
        if team or enterprise
    }


def _find(store: InstallationStore, ids: Ids) -> Bot | None:
    enterprise, team = ids
    return store.find_bot(
        enterprise_id=enterprise, team_id=team, is_enterprise_install=team is None
    )


def copy_installations(source: InstallationStore, target: InstallationStore) -> tuple[int, int]:
    """Every workspace's latest install from `source` into `target` unless it is there
    already (`papers-bot db copy`): (copied, found)."""
    teams = installed_teams(source)
    copied = 0
    for enterprise, team in teams.values():
        installation = source.find_installation(
            enterprise_id=enterprise, team_id=team, is_enterprise_install=team is None
        )
        there = _find(target, (enterprise, team))
        if installation is not None and (
            there is None or there.bot_token != installation.bot_token
        ):
            target.save(installation)
            copied += 1
    return copied, len(teams)


class InstalledWorkspaces:
    """The workspaces papers-bot is installed in, for the digest job
    (`bot.daily.workspaces.Workspaces`)."""

    def __init__(self, slackbot: SlackBot, store: InstallationStore, states: OAuthStateStore):
        self.slackbot = slackbot
        self.store = store
        self.states = states

    @classmethod
    def open(cls, slackbot: SlackBot) -> InstalledWorkspaces:
        return cls(slackbot, *installation_stores(slackbot.runtime.settings, slackbot.library))

    def _bot(self, team: str) -> Bot | None:
        ids = installed_teams(self.store).get(team)
        return _find(self.store, ids) if ids else None

    def installed(self) -> list[str]:
        teams = installed_teams(self.store)
        return sorted(team for team, ids in teams.items() if _find(self.store, ids))

    def messenger(self, team: str) -> SlackBot | None:
        bot = self._bot(team)
        if bot is None:
            return None
        client = make_client(self.slackbot.runtime.settings, bot.bot_token)
        return self.slackbot.for_team(team, client)

    def forget(self, team: str) -> None:
        """Uninstalled: no more digests there (saves, follows and history are kept)."""
        if self.slackbot.library.channel_digests.remove_team(team):
            log.info("workspace %s uninstalled papers-bot; its digests are stopped", team)
