"""`/papers`: acknowledged at once, answered after the ack (a lazy listener), to the asker only."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery import PostRefused
from bot.render import replies
from bot.slack.listeners.guard import replies_on_error
from bot.slack.slackbot import SlackBot, respond_with

log = logging.getLogger(__name__)


def register(app: App, slackbot: SlackBot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def answer(body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
        user, channel = body.get("user_id", ""), body.get("channel_id", "")
        bot = slackbot.in_workspace(context)
        waiting: list[bool] = []

        def progress(message: dict[str, Any]) -> None:
            respond_with(respond, message)
            waiting.append(True)

        reply = bot.commands.reply(user, str(body.get("text", "")), channel, progress)
        if reply.join and reply.join.startswith("C"):
            bot.join(reply.join)
        respond_with(respond, reply.message, replace_original=bool(waiting))
        if reply.announce is not None:
            _announce(bot, respond, channel, reply.announce)
        bot.answers.after_answer(reply)
        if reply.ask_hugging_face is not None:  # the library's answer is out; this may add to it
            more = bot.answers.from_hugging_face(reply.ask_hugging_face)
            if more is not None:
                respond_with(respond, more, replace_original=True)
        if reply.file:
            filename, content = reply.file
            try:
                client.files_upload_v2(
                    channel=channel, filename=filename, content=content, title=filename
                )
            except SlackApiError as error:
                log.warning("file upload failed: %s", error.response.get("error"))
                respond(text=replies.FILE_NOT_ATTACHED)

    app.command("/papers")(ack=acknowledge, lazy=[replies_on_error(slackbot)(answer)])


def _announce(bot: SlackBot, respond: Respond, channel: str, message: dict[str, Any]) -> None:
    """A change everyone in the channel should see (its digest); when the bot may not post
    there, the person who typed it is told how to let it in."""
    try:
        bot.post(channel, message)
    except PostRefused as error:
        log.warning("could not announce in %s: %s", channel, error.code)
        respond(text=replies.share_refused(error.code), response_type="ephemeral")
