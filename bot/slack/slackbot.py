"""`SlackBot`: the bot's Web API adapter: post, share, join, tell, publish the Home tab
(`bot.home` builds it), and the save, unsave and Not interested changes (`bot.saving`,
`bot.for_you`) with the Home tab refreshed after them. It is also the digest's and the
alerts' `Messenger`.

Listeners stay a few lines long by calling these; rendering is `bot.render`, answers to
`/papers` are `bot.answers`. Every failure is logged once with what to do, never raised into
Bolt (which would answer Slack with an error and make it retry).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import for_you, render, saving
from bot.answers import Answers
from bot.commands import Commands
from bot.delivery import Outcome, PostRefused
from bot.home import home_view
from bot.library import StoreWriteError
from bot.models import Paper, canonical_id
from bot.render import replies
from bot.runtime import Runtime

log = logging.getLogger(__name__)
# How long a conversation's kind (public, or private/DM) is trusted before Slack is asked again:
# a channel made private counts as private within the hour.
KIND_SECONDS = 3600.0


class ConversationKinds:
    """Whether a conversation is private (a DM, a group DM, a private channel), asked of Slack
    (`conversations.info`) once an hour per conversation; what cannot be told is private, so
    nothing about it is shown elsewhere."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def is_private(self, client: WebClient, team: str, channel: str) -> bool:
        if channel.startswith("D"):  # a DM's id says so
            return True
        with self._lock:
            known = self._known.get((team, channel))
        if known is not None and time.monotonic() - known[1] < KIND_SECONDS:
            return known[0]
        try:
            info = client.conversations_info(channel=channel)["channel"]
            private = bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
        except (SlackApiError, KeyError, TypeError) as error:
            log.warning(
                "could not tell whether %s is public (%s): counted as private", channel, error
            )
            return True
        with self._lock:
            self._known[(team, channel)] = (private, time.monotonic())
        return private


KINDS = ConversationKinds()


def respond_with(respond: Respond, message: dict[str, Any], replace_original: bool = False) -> None:
    """Answer through the response_url, to the user alone, without link previews."""
    respond(
        text=message["text"],
        blocks=message.get("blocks"),
        response_type="ephemeral",
        replace_original=replace_original,
        unfurl_links=False,
        unfurl_media=False,
    )


def workspace_of(context: Any) -> str:
    """The workspace a request comes from (an org-wide install has only an enterprise id)."""
    return str(context.get("team_id") or context.get("enterprise_id") or "")


class SlackBot:
    def __init__(self, runtime: Runtime, client: WebClient):
        self.runtime = runtime
        self.client = client
        self.library = runtime.library
        self.commands = Commands(runtime)
        self.answers: Answers = self.commands.answers

    @property
    def save_emoji(self) -> list[str]:
        return self.runtime.settings.save_emoji

    # -- workspaces --------------------------------------------------------------------------

    def for_team(self, team: str, client: WebClient) -> SlackBot:
        """This bot in workspace `team`: its state, its bot token (`client`)."""
        return SlackBot(self.runtime.for_team(team), client)

    def in_workspace(self, context: Any) -> SlackBot:
        """The bot for the workspace of a request (Bolt's `context`, whose client carries that
        workspace's token); in token mode, the one workspace's bot, self."""
        if not self.runtime.settings.many_workspaces:
            return self
        return self.for_team(workspace_of(context), context["client"])

    def paper_from_value(self, value: Any) -> Paper | None:
        """The paper a button names; None for a tampered or stale value."""
        paper_id = canonical_id(value) if isinstance(value, str) else None
        paper = self.library.get(paper_id) if paper_id else None
        if paper is None:
            log.warning("button value %r names no paper in the library; ignored", str(value)[:80])
        return paper

    # -- posting (also the digest's and the alerts' Messenger) -------------------------------

    def post(self, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=message["text"],
                blocks=message.get("blocks"),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            raise PostRefused(str(error.response.get("error"))) from error
        return str(response["ts"])

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        """Replace a message the bot posted ("Reading the paper…" by its answer)."""
        try:
            self.client.chat_update(
                channel=channel, ts=ts, text=message["text"], blocks=message.get("blocks")
            )
        except SlackApiError as error:
            raise PostRefused(str(error.response.get("error"))) from error

    def open_dm(self, user: str) -> str:
        return str(self.client.conversations_open(users=user)["channel"]["id"])

    def post_paper(
        self,
        channel: str,
        paper: Paper,
        kind: str,
        message: dict[str, Any],
        thread_ts: str | None = None,
    ) -> str:
        """Post a message carrying `paper` and remember (channel, ts) -> paper."""
        ts = self.post(channel, message, thread_ts)
        self.library.messages.record(channel, ts, paper.id, kind)
        return ts

    def share(self, channel: str, user: str, paper: Paper) -> str | None:
        """Post the paper's card into the channel; an error message for the user, or None."""
        message = render.shared_card_message(paper, user, self.save_emoji)
        try:
            self.post_paper(channel, paper, "share", message)
        except PostRefused as error:
            log.warning("sharing %s in %s failed: %s", paper.id, channel, error.code)
            return replies.share_refused(error.code)
        except StoreWriteError:
            return replies.SHARED_NOT_REMEMBERED
        return None

    def join(self, channel: str) -> bool:
        """Join a public channel (already a member: fine); False when Slack refuses."""
        try:
            self.client.conversations_join(channel=channel)
            return True
        except SlackApiError as error:
            log.warning("could not join %s: %s", channel, error.response.get("error"))
            return False

    def unfurl(self, where: dict[str, str], unfurls: dict[str, Any]) -> bool:
        """One `chat.unfurl` with a card per URL; `where`: {channel, ts} for a posted
        message, {unfurl_id, source} for the composer's preview. False when Slack refused."""
        try:
            if "ts" in where:
                self.client.chat_unfurl(channel=where["channel"], ts=where["ts"], unfurls=unfurls)
            else:
                self.client.chat_unfurl(
                    unfurl_id=where["unfurl_id"], source=where["source"], unfurls=unfurls
                )
            return True
        except SlackApiError as error:
            log.warning(
                "unfurl in %s refused: %s",
                where.get("channel", "the composer"),
                error.response.get("error"),
            )
            return False

    def is_private(self, channel: str) -> bool:
        return KINDS.is_private(self.client, self.library.team, channel)

    def first_time(self, body: dict[str, Any]) -> bool:
        """Slack retries an event it thinks we missed; each is acted on once. Only events we
        act on are remembered."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        try:
            first = self.library.events.first_sighting(str(event_id))
        except Exception:  # a write failure must not stop the event; what follows is idempotent
            log.exception("could not record event id %s", event_id)
            return True
        if not first:
            log.info("event %s was already handled; dropping the retry", event_id)
        return first

    def tell(self, channel: str, user: str, text: str) -> None:
        """A message only `user` sees, in `channel` (events have no response_url)."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as error:
            log.warning("could not tell %s in %s: %s", user, channel, error.response.get("error"))

    # -- saving ------------------------------------------------------------------------------

    def save(self, user: str, paper: Paper) -> Outcome:
        return self._refreshed(user, saving.save(self.library, user, paper, self.save_emoji[0]))

    def unsave(self, user: str, paper: Paper) -> Outcome:
        return self._refreshed(user, saving.unsave(self.library, user, paper))

    def hide(self, user: str, paper: Paper) -> Outcome:
        """Not interested (button or reaction): For you never picks it for them again."""
        return self._refreshed(user, for_you.not_interested(self.runtime, user, paper))

    def unhide(self, user: str, paper: Paper) -> Outcome:
        return self._refreshed(user, for_you.interested_again(self.runtime, user, paper))

    def _refreshed(self, user: str, outcome: Outcome) -> Outcome:
        """The person's Home tab shows what changed."""
        if outcome.changed:
            self.refresh_home(user)
        return outcome

    # -- App Home ----------------------------------------------------------------------------

    def refresh_home(self, user: str) -> None:
        view = home_view(self.runtime, user, datetime.now(UTC).date())
        try:
            self.client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            log.warning("App Home for %s not published: %s", user, error.response.get("error"))
