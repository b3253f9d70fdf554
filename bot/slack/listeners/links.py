"""`link_shared`: a card for every arXiv, Hugging Face or alphaXiv paper link, in one
`chat.unfurl`, and the share remembered (save by reaction on that message, the team's week).

Nothing is ever said to anyone from here: a link the bot cannot turn into a card keeps Slack's
own preview, and a failure is one log line. Bolt has acknowledged the event before this runs.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot import render
from bot.slack.slackbot import SlackBot
from bot.unfurl import papers_for_links, remember_share

log = logging.getLogger(__name__)
COMPOSER = "composer"  # the link is still in someone's message box, not posted yet


def register(app: App, slackbot: SlackBot) -> None:
    @app.event("link_shared")
    def link_shared(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        try:
            unfurl_links(slackbot.in_workspace(context), event, body, context.bot_user_id)
        except Exception:
            log.exception(
                "unfurling links of %s failed; Slack's own preview stays", event.get("user")
            )


def unfurl_links(
    bot: SlackBot, event: dict[str, Any], body: dict[str, Any], bot_user: str | None
) -> None:
    if not bot.runtime.settings.unfurl or _from_the_bot(bot, event, bot_user):
        return
    if not bot.first_time(body):
        return
    cards = papers_for_links(bot.runtime, event.get("links") or [])
    if not cards:
        return
    channel, ts = str(event.get("channel", "")), str(event.get("message_ts", ""))
    posted = event.get("source") != COMPOSER
    papers = list({p.id: p for p in cards.values()}.values())
    week = bot.answers.team_counts([p.id for p in papers], channel)  # before this share
    if posted:
        user = str(event.get("user", ""))
        remember_share(bot.runtime, channel, ts, user, papers, bot.is_private(channel))
    unfurls = {
        url: render.unfurl_card(p, week.get(p.id), bot.save_emoji) for url, p in cards.items()
    }
    where = (
        {"channel": channel, "ts": ts}
        if posted
        else {"unfurl_id": str(event.get("unfurl_id", "")), "source": COMPOSER}
    )
    if bot.unfurl(where, unfurls):
        log.info("unfurled %d paper links in %s", len(unfurls), channel)


def _from_the_bot(bot: SlackBot, event: dict[str, Any], bot_user: str | None) -> bool:
    """Links in the bot's own messages (Slack does not send those, but a message of ours it
    did would be unfurled twice)."""
    if event.get("bot_id") or (bot_user and event.get("user") == bot_user):
        return True
    return (
        bot.library.messages.paper_for(
            str(event.get("channel", "")), str(event.get("message_ts", ""))
        )
        is not None
    )
