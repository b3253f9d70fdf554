"""Bolt listeners, grouped by kind; each module has `register(app, slackbot)`."""

from slack_bolt import App

from bot.slack.listeners import ask, buttons, events, links, slash_command
from bot.slack.slackbot import SlackBot


def register_all(app: App, slackbot: SlackBot) -> None:
    slash_command.register(app, slackbot)
    buttons.register(app, slackbot)
    events.register(app, slackbot)
    links.register(app, slackbot)
    ask.register(app, slackbot)
