"""`/papers`: acknowledged at once, answered after the ack (a lazy listener), to the asker only."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.listeners.guard import replies_on_error
from bot.slack.slackbot import SlackBot, respond_with

log = logging.getLogger(__name__)


def register(app: App, slackbot: SlackBot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def answer(body: dict, respond: Respond, client: WebClient) -> None:
        user, channel = body.get("user_id", ""), body.get("channel_id", "")
        waiting: list[bool] = []

        def progress(message: dict[str, Any]) -> None:
            respond_with(respond, message)
            waiting.append(True)

        reply = slackbot.answers.answer(user, body.get("text", ""), progress)
        respond_with(respond, reply.message, replace_original=bool(waiting))
        if reply.file:
            filename, content = reply.file
            try:
                client.files_upload_v2(
                    channel=channel, filename=filename, content=content, title=filename
                )
            except SlackApiError as error:
                log.warning("file upload failed: %s", error.response.get("error"))
                respond(text="I couldn't attach the file here; try in a DM with me.")

    app.command("/papers")(ack=acknowledge, lazy=[replies_on_error(slackbot)(answer)])
