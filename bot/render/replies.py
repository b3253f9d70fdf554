"""The short replies: what `/papers` words, buttons and reactions say back in a line or two.

Every sentence a Slack user reads lives in `bot.render` (tests/test_architecture.py fails on a
new one elsewhere); these are the ones that are a line of mrkdwn rather than a card.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.render.blocks import esc, esc_short, message, text_section
from bot.render.plain import mrkdwn_to_text
from bot.text import plural

FOLLOW_EXAMPLE = "speculative decoding"
SAVED_USAGE = "Usage: `/papers saved`, `/papers saved 2` (a page) or `/papers saved bibtex`."
PICKS_USAGE = "Usage: `/papers picks on` or `/papers picks off`."
PAPER_GONE = "That paper is not in the library any more."
CANNOT_SHARE_HERE = "I can't share that here."
NOTHING_DELETED = "Nothing was deleted."
ANSWER_SHARED = "Shared the question and its answer in the channel."
FILE_NOT_ATTACHED = "I couldn't attach the file here; try in a DM with me."
NOT_IN_CONVERSATION = "I can't post in this conversation. Invite me with `/invite @papers-bot`."
SHARED_NOT_REMEMBERED = (
    "The paper was posted, but saving by reaction won't work on it (disk problem)."
)
COULD_NOT_NOTE = "Sorry, I couldn't note that right now. Try again in a minute."
COULD_NOT_CHANGE = "Sorry, I couldn't change that right now. Try again in a minute."
COULD_NOT_FORGET = (
    "Sorry, I couldn't finish that right now (the library could not be written); try again."
)
NEW_FROM_HUGGING_FACE = "New to the library, from Hugging Face"


def text_message(text: str) -> dict[str, Any]:
    """A reply of one mrkdwn paragraph (its notification text is the same, as plain text)."""
    return message(mrkdwn_to_text(text), [text_section(text)])


def mrkdwn_message(text: str) -> dict[str, Any]:
    """A reply of one mrkdwn line that is also its notification text (channel and user
    mentions, such as `<#C0123>`, are Slack's to show in both)."""
    return {"text": text, "blocks": [text_section(text)]}


def could_not_save(action: str = "save") -> str:
    return (
        f"Sorry, I couldn't {action} that right now (the library could not be written). "
        "Try again in a minute."
    )


def bibtex_note(count: int) -> tuple[str, str]:
    """(notification text, message) of a BibTeX export sent as a file."""
    return (
        f"BibTeX for {plural(count, 'paper')}",
        f"BibTeX for your {plural(count, 'saved paper')} is attached.",
    )


# -- saving and marking ------------------------------------------------------------------------


def saved(title: str, changed: bool, emoji: str) -> str:
    shown = esc_short(title, 150)
    if changed:
        return f":{emoji}: Saved *{shown}* to your reading list."
    return f"*{shown}* is already in your reading list."


def unsaved(title: str, changed: bool) -> str:
    shown = esc_short(title, 150)
    if changed:
        return f"Removed *{shown}* from your reading list."
    return f"*{shown}* was not in your reading list."


def shared(title: str) -> str:
    return f"Shared *{esc_short(title, 150)}*."


def share_failed(code: str) -> str:
    return f"Sharing failed ({code}); try again."


def share_refused(code: str) -> str:
    """What to tell someone whose Share Slack refused (`code`: Slack's error)."""
    if code in ("not_in_channel", "channel_not_found"):
        return NOT_IN_CONVERSATION
    return share_failed(code)


def not_interested(title: str, changed: bool) -> str:
    shown = esc_short(title, 150)
    if changed:
        return f"Noted: *{shown}* won't come up in your picks, and they learn from it."
    return f"*{shown}* is already marked Not interested."


def interested_again(title: str) -> str:
    return f"*{esc_short(title, 150)}* can come up in your picks again."


def morning_picks(on: bool) -> str:
    if on:
        return (
            "Morning picks on: after each daily digest, up to 3 new papers close to what you "
            "saved come to you in a DM (only on days with something worth it). "
            "`/papers picks off` stops them."
        )
    return "Morning picks off. `/papers foryou` still shows your picks whenever you ask."


def forgotten(saves: int, follows: int) -> str:
    return (
        f"Done: I forgot your {saves} saved papers, {follows} follows, your Not "
        "interested marks, your picks, the links you shared and your citation alerts."
    )


# -- follows -----------------------------------------------------------------------------------


def follow_usage(verb: str) -> dict[str, Any]:
    return message(
        f"Usage: /papers {verb} TOPIC",
        [text_section(f"Usage: `/papers {verb} TOPIC`, e.g. `/papers {verb} {FOLLOW_EXAMPLE}`.")],
    )


def follow_changed(query: str, follow: bool, changed: bool) -> str:
    shown = esc_short(query, 200)
    if follow and changed:
        return f"Following _{shown}_: new papers that match will come to you in a DM."
    if follow:
        return f"You already follow _{shown}_."
    if changed:
        return f"Stopped following _{shown}_."
    return f"You were not following _{shown}_."


def following(topics: Sequence[str]) -> str:
    if not topics:
        return f"You follow no topics. Try `/papers follow {FOLLOW_EXAMPLE}`."
    return "*You follow:*\n" + "\n".join(f"• {esc_short(t, 200)}" for t in topics)


HOW_TO_FOLLOW = (
    f"Follow words or an author, e.g. `/papers follow {FOLLOW_EXAMPLE}` or "
    "`/papers follow author:goldstein`."
)


def unfollowable(reason: str, detail: str = "") -> str:
    """Why a follow could never alert anyone (`reason` as `bot.search.topics` names it),
    escaped for mrkdwn."""
    return esc(f"{topic_refused(reason, detail)} {HOW_TO_FOLLOW}".strip())


def topic_refused(reason: str, detail: str = "") -> str:
    """Why a topic (a follow's, a digest's) could never match a new paper, not escaped."""
    return {
        "too_long": f"That topic is too long ({detail}).",
        "one_paper": f"arXiv {detail} is one paper: no new paper can match it.",
        "query_problem": detail,
        "date_only": "A date alone is not a topic: it would match every new paper.",
        "too_common": "Those words are too common for a topic: they would match anything.",
    }[reason]
