"""Buttons: Save, Share, More like this, Remove, Not interested, paging of the reading list,
More picks, and the Forget me confirmation."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import for_you, render
from bot.render import replies
from bot.slack.listeners.guard import replies_on_error
from bot.slack.slackbot import SlackBot, respond_with
from bot.text import whole_number


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def click_context(body: dict[str, Any]) -> tuple[str, str | None, str]:
    """(user, channel, button value) of a click; odd shapes read as empty, never a crash."""
    user = str(_dict(body.get("user")).get("id", ""))
    channel = _dict(body.get("channel")).get("id") or _dict(body.get("container")).get("channel_id")
    actions = body.get("actions")
    action = _dict(actions[0]) if isinstance(actions, list) and actions else {}
    value = action.get("value", "")
    return user, channel, value if isinstance(value, str) else ""


def _from_home(body: dict[str, Any]) -> bool:
    return bool(body.get("container", {}).get("type") == "view")


def register(app: App, slackbot: SlackBot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def reply(body: dict[str, Any], respond: Respond, text: str) -> None:
        if _from_home(body) or not body.get("response_url"):
            return
        respond(text=text, response_type="ephemeral", replace_original=False)

    def save(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, _, value = click_context(body)
        paper = bot.paper_from_value(value)
        if paper is None:
            return reply(body, respond, replies.PAPER_GONE)
        reply(body, respond, bot.save(user, paper).text)

    def remove(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, _, value = click_context(body)
        paper = bot.paper_from_value(value)
        if paper is None:
            return reply(body, respond, replies.PAPER_GONE)
        outcome = bot.unsave(user, paper)
        if outcome.failed:
            return reply(body, respond, outcome.text)
        if not _from_home(body) and body.get("response_url"):
            listing = render.saved_list_message(bot.library.saved_papers(user), 1, bot.save_emoji)
            respond_with(respond, listing, replace_original=True)

    def share(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, channel, value = click_context(body)
        paper = bot.paper_from_value(value)
        if paper is None or not channel:
            return reply(body, respond, replies.CANNOT_SHARE_HERE)
        problem = bot.share(channel, user, paper)
        reply(body, respond, problem or replies.shared(render.title_of(paper)))

    def more_like_this(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, _, value = click_context(body)
        paper = bot.paper_from_value(value)
        if paper is None:
            return reply(body, respond, replies.PAPER_GONE)
        similar = for_you.more_like_this(bot.runtime, paper)
        if _from_home(body) or not body.get("response_url"):
            return
        respond_with(respond, render.more_like_message(paper, similar))

    def not_interested(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, _, value = click_context(body)
        paper = bot.paper_from_value(value)
        if paper is None:
            return reply(body, respond, replies.PAPER_GONE)
        reply(body, respond, bot.hide(user, paper).text)

    def more_picks(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, _, value = click_context(body)
        offset = whole_number(value) or 0
        picked = for_you.picks_page(bot.runtime, user, offset)
        more = render.for_you_message(picked.papers, offset, picked.more, picked.empty)
        respond_with(respond, more, replace_original=True)

    def forget_me(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, _, value = click_context(body)
        if value != "confirm":
            return reply(body, respond, replies.NOTHING_DELETED)
        done = for_you.forget_me(bot.runtime, user)
        bot.refresh_home(user)
        respond_with(respond, render.message(done, [render.text_section(done)]), True)

    def page(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        bot = slackbot.in_workspace(context)
        user, _, value = click_context(body)
        number = value.removeprefix("saved:")
        listing = render.saved_list_message(
            bot.library.saved_papers(user),
            whole_number(number) or 1,
            bot.save_emoji,
        )
        respond_with(respond, listing, replace_original=True)

    for action_id, handler in (
        (render.SAVE, save),
        (render.REMOVE, remove),
        (render.SHARE, share),
        (render.MORE, more_like_this),
        (render.PAGE, page),
        (render.HIDE, not_interested),
        (render.FOR_YOU_MORE, more_picks),
        (render.FORGET_ME, forget_me),
    ):
        app.action(action_id)(ack=acknowledge, lazy=[replies_on_error(slackbot)(handler)])
