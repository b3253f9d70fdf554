"""Events: saving by reaction (on the bot's cards and on people's messages whose paper links
it unfurled), unsaving when the reaction goes, Not interested by the hide reaction
(PAPERS_HIDE_EMOJI), and the App Home tab."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot import render
from bot.delivery import Outcome
from bot.models import Paper
from bot.slack.listeners.guard import replies_on_error
from bot.slack.slackbot import SlackBot

log = logging.getLogger(__name__)


def reaction_name(event: dict[str, Any]) -> str:
    """`+1::skin-tone-2` -> `+1`: a skin tone does not change which emoji it is."""
    return str(event.get("reaction", "")).split("::", 1)[0]


def register(app: App, slackbot: SlackBot) -> None:
    def papers_for(bot: SlackBot, event: dict[str, Any]) -> list[Paper]:
        """The papers the reacted-to message carries: the bot's own post, or a person's
        message whose links the bot unfurled."""
        item = event.get("item") or {}
        known = (*bot.save_emoji, *bot.runtime.settings.hide_emoji)
        if item.get("type") != "message" or reaction_name(event) not in known:
            return []
        return bot.library.papers_carried_by(str(item.get("channel", "")), str(item.get("ts", "")))

    def react(
        event: dict[str, Any],
        body: dict[str, Any],
        context: BoltContext,
        change: Callable[[SlackBot, bool], Callable[[str, Paper], Outcome]],
    ) -> None:
        bot = slackbot.in_workspace(context)
        papers = papers_for(bot, event)
        if not papers or not bot.first_time(body):
            return
        user = event.get("user", "")
        hiding = reaction_name(event) not in bot.save_emoji  # the Not interested emoji
        outcomes = [change(bot, hiding)(user, paper) for paper in papers]
        told = [outcome.text for outcome in outcomes if outcome.worth_telling]
        if told:
            bot.tell(event["item"]["channel"], user, render.several_saved(told))

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
