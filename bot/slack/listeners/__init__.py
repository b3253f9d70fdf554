"""Bolt listeners, grouped by kind; each module has `register(app, papers)`."""

from bot.slack.listeners import actions, commands, events


def register_all(app, papers) -> None:  # noqa: ANN001 - App, SlackPapers
    commands.register(app, papers)
    actions.register(app, papers)
    events.register(app, papers)
