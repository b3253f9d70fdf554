"""`/papers`: acknowledged at once, answered after the ack (a lazy listener), to the asker only."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.digest_settings import digest_command
from bot.slack.listeners.guard import replies_on_error
from bot.slack.slackbot import SlackBot, respond_with

log = logging.getLogger(__name__)


def register(app: App, slackbot: SlackBot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def answer(body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
        user, channel = body.get("user_id", ""), body.get("channel_id", "")
        bot = slackbot.in_workspace(context)
        text = str(body.get("text", ""))
        if text.split()[:1] and text.split()[0].lower() == "digest":
            return respond_with(respond, {"text": digest_reply(bot, user, channel, text)})
        waiting: list[bool] = []

        def progress(message: dict[str, Any]) -> None:
            respond_with(respond, message)
            waiting.append(True)

        reply = bot.answers.answer(user, text, progress)
        respond_with(respond, reply.message, replace_original=bool(waiting))
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
                respond(text="I couldn't attach the file here; try in a DM with me.")

    def digest_reply(bot: SlackBot, user: str, channel: str, text: str) -> str:
        """`/papers digest ...`: this workspace's digest; the bot joins a public channel it
        is asked to post in, so its reactions reach it too."""
        rest = text.strip().partition(" ")[2]
        reply = digest_command(
            bot.runtime.settings, bot.library, bot.library.team, user, channel, rest
        )
        if reply.now_in and reply.now_in.startswith("C"):
            bot.join(reply.now_in)
        return reply.text

    app.command("/papers")(ack=acknowledge, lazy=[replies_on_error(slackbot)(answer)])
