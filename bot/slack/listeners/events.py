"""Events: saving by reaction, unsaving when the reaction goes, Not interested by the hide
reaction (PAPERS_HIDE_EMOJI), and the App Home tab."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot.delivery import Outcome
from bot.models import Paper
from bot.slack.listeners.guard import replies_on_error
from bot.slack.slackbot import SlackBot

log = logging.getLogger(__name__)


def reaction_name(event: dict[str, Any]) -> str:
    """`+1::skin-tone-2` -> `+1`: a skin tone does not change which emoji it is."""
    return str(event.get("reaction", "")).split("::", 1)[0]


def register(app: App, slackbot: SlackBot) -> None:
    def paper_for(bot: SlackBot, event: dict[str, Any]) -> Paper | None:
        item = event.get("item") or {}
        known = (*bot.save_emoji, *bot.runtime.settings.hide_emoji)
        if item.get("type") != "message" or reaction_name(event) not in known:
            return None
        paper_id = bot.library.messages.paper_for(item.get("channel", ""), item.get("ts", ""))
        return bot.library.get(paper_id) if paper_id else None

    def first_time(bot: SlackBot, body: dict[str, Any]) -> bool:
        """Slack retries an event it thinks we missed; each is acted on once. Only events we
        act on are remembered (state.json is rewritten for each)."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        try:
            first = bot.library.events.first_sighting(str(event_id))
        except Exception:  # a write failure must not stop the event; saves are idempotent
            log.exception("could not record event id %s", event_id)
            return True
        if not first:
            log.info("event %s was already handled; dropping the retry", event_id)
        return first

    def react(
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
        change: Callable[[SlackBot, bool], Callable[[str, Paper], Outcome]],
    ) -> None:
        bot = slackbot.in_workspace(context)
        paper = paper_for(bot, event)
        if paper is None or not first_time(bot, body):
            return
        user = event.get("user", "")
        hiding = reaction_name(event) not in bot.save_emoji  # the Not interested emoji
        outcome = change(bot, hiding)(user, paper)
        if outcome.worth_telling:
            bot.tell(event["item"]["channel"], user, outcome.text)

    guard = replies_on_error(slackbot)

    @app.event("reaction_added")
    @guard
    def saved_by_reaction(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext
    ) -> None:
        react(event, body, context, lambda bot, hiding: bot.hide if hiding else bot.save)

    @app.event("reaction_removed")
    @guard
    def unsaved_by_reaction(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext
    ) -> None:
        react(event, body, context, lambda bot, hiding: bot.unhide if hiding else bot.unsave)

    @app.event("app_home_opened")
    @guard
    def home_opened(event: dict[str, Any], context: BoltContext) -> None:
        if event.get("tab") == "home" and event.get("user"):
            slackbot.in_workspace(context).refresh_home(event["user"])

    @app.event("message")
    def ignore_messages() -> None:
        """Message events are not subscribed to; swallow strays instead of warning."""
