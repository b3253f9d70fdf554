"""Asking a paper in Slack: `@papers-bot QUESTION` in the thread of a message that carries
papers (answered in that thread, for everyone), and the Share button of a `/papers ask`
answer (posted in the channel). `/papers ask` itself is a word of the router."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.ask import ask_library, ask_paper, papers_of_message
from bot.delivery import PostRefused
from bot.models import Paper, canonical_id
from bot.render import ask as ask_render
from bot.render import replies
from bot.slack.listeners.buttons import click_context
from bot.slack.listeners.guard import replies_on_error
from bot.slack.slackbot import SlackBot

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
MOST_PAPERS = 3  # a thread of more papers than this is asked which one is meant


def register(app: App, slackbot: SlackBot) -> None:
    guard = replies_on_error(slackbot)

    @app.event("app_mention")
    @guard
    def mentioned(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        if not bot.first_time(body):
            return
        answer_mention(bot, event)

    def acknowledge(ack: Ack) -> None:
        ack()

    def share_answer(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, channel, value = click_context(body)
        found = ask_render.read_share_value(value)
        if found is None or not channel:
            respond(text=replies.CANNOT_SHARE_HERE, response_type="ephemeral")
            return
        message = shared_answer(bot, user, *found)
        if message is None:
            respond(text=replies.PAPER_GONE, response_type="ephemeral")
            return
        try:
            bot.post(channel, message)
        except PostRefused as error:
            log.warning("sharing an answer in %s failed: %s", channel, error.code)
            respond(
                text=replies.share_refused(error.code),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        respond(text=replies.ANSWER_SHARED, response_type="ephemeral", replace_original=False)

    app.action(ask_render.ASK_SHARE)(ack=acknowledge, lazy=[guard(share_answer)])


def shared_answer(bot: SlackBot, user: str, paper_id: str, question: str) -> dict[str, Any] | None:
    """The answer again (the full text is kept now, so it is quick), for the channel."""
    if not paper_id:
        answered = ask_library(bot.runtime, question)
        return ask_render.library_answer_message(question, answered, False, asked_by=user)
    paper = bot.library.get(paper_id)
    if paper is None:
        return None
    answer = ask_paper(bot.runtime, paper, question)
    return ask_render.answer_message(answer, paper, shareable=False, asked_by=user)


def answer_mention(bot: SlackBot, event: dict[str, Any]) -> None:
    """Reply in the thread: "Reading the paper…" at once, then the answer in its place."""
    channel, user = str(event.get("channel", "")), str(event.get("user", ""))
    thread = str(event.get("thread_ts") or event.get("ts") or "")
    question = MENTION.sub(" ", str(event.get("text", ""))).strip()
    question = " ".join(question.split())[: ask_render.QUESTION_LIMIT]
    if not question:
        bot.post(channel, replies.mrkdwn_message(ask_render.ASK_USAGE), thread_ts=thread)
        return
    papers, question = _papers_asked(bot, channel, str(event.get("thread_ts") or ""), question)
    if len(papers) > MOST_PAPERS:
        text = ask_render.several_papers_text(papers)
        bot.post(channel, replies.mrkdwn_message(text), thread_ts=thread)
        return
    waiting = bot.post(channel, ask_render.reading_message(papers[0] if papers else None), thread)
    bot.update(channel, waiting, _answer(bot, user, papers, question))


def _papers_asked(
    bot: SlackBot, channel: str, thread: str, question: str
) -> tuple[list[Paper], str]:
    """The papers a mention asks about: one it names first (`2408.08338 what …`), else those
    of the thread's message; none: the library is asked."""
    first, _, rest = question.partition(" ")
    named = canonical_id(first)
    if named and rest.strip():
        paper = bot.library.get(named)
        if paper is not None:
            return [paper], rest.strip()
    return (papers_of_message(bot.library, channel, thread) if thread else []), question


def _answer(bot: SlackBot, user: str, papers: list[Paper], question: str) -> dict[str, Any]:
    if not papers:
        answered = ask_library(bot.runtime, question)
        return ask_render.library_answer_message(question, answered, False, asked_by=user)
    messages = [
        ask_render.answer_message(ask_paper(bot.runtime, p, question), p, False, asked_by=user)
        for p in papers
    ]
    return ask_render.one_message(messages)
