"""Every listener replies, even when something inside fails: no Slack interaction gets silence.

`replies_on_error` wraps a listener: an exception is logged with its traceback (for the
operator) and the user gets a short apology where they acted (the response_url of a command or
a button, an ephemeral message for a reaction). Bolt injects a listener's arguments by name;
`functools.wraps` keeps the names visible to it (it unwraps before reading the signature).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from bot.render import INTERNAL_ERROR
from bot.slack.slackbot import SlackBot

log = logging.getLogger(__name__)
Listener = Callable[..., None]


def replies_on_error(slackbot: SlackBot) -> Callable[[Listener], Listener]:
    def decorate(listener: Listener) -> Listener:
        @functools.wraps(listener)
        def guarded(**kwargs: Any) -> None:
            try:
                listener(**kwargs)
            except Exception:
                log.exception("%s failed; the user was told", listener.__name__)
                _apologise(slackbot, kwargs)

        return guarded

    return decorate


def _apologise(slackbot: SlackBot, kwargs: dict[str, Any]) -> None:
    body = kwargs.get("body") or {}
    respond = kwargs.get("respond")
    try:
        if respond is not None and body.get("response_url"):
            respond(text=INTERNAL_ERROR, response_type="ephemeral", replace_original=False)
            return
        event = kwargs.get("event") or body.get("event") or {}
        channel = (event.get("item") or {}).get("channel") or event.get("channel")
        if channel and event.get("user"):
            bot = slackbot.in_workspace(kwargs["context"]) if "context" in kwargs else slackbot
            bot.tell(channel, event["user"], INTERNAL_ERROR)
    except Exception:
        log.exception("could not tell the user about the failure either")
