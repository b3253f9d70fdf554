"""What people read about channel digests: the setting of one channel, the list of all, the
line posted in the channel when someone changes it, the DM when Slack refuses the channel, and
the one line of a quiet topic's day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.models import ChannelDigest
from bot.render.blocks import context, esc, esc_short, message, text_section

DIGEST_USAGE = (
    "`/papers digest here [daily | weekly DAY] [HH:MM] [ZONE] [topic QUERY]` sends this "
    "channel a digest (default: daily at 09:00; QUERY is any search, such as `cat:cs.CV` or "
    '`"video generation"`; `topic off` drops it; `--quiet-days off` posts a line on a day with '
    "nothing on the topic). `/papers digest` shows this channel's, `/papers digest list` every "
    "channel's, `/papers digest off` stops it."
)
DIGEST_NOT_UNDERSTOOD = f"I didn't understand that. {DIGEST_USAGE}"
DIGEST_COULD_NOT_CHANGE = (
    "Sorry, I couldn't change the digest right now (the library could not be written)."
)
DIGEST_NOT_IN_DM = (
    "Type this in the channel the digest should go to (not in a DM); "
    "`/papers digest list` works anywhere."
)
OFF_REASONS = {
    "not_in_channel": "I am not a member of it any more",
    "channel_not_found": "Slack cannot find it (deleted, or I was never let in)",
    "is_archived": "it was archived",
}


def schedule(digest: ChannelDigest) -> str:
    """ "weekly, Monday 09:00 Europe/Berlin, topic cat:cs.CV" (not escaped)."""
    when = f"weekly, {digest.day_name}" if digest.weekly else "daily,"
    words = f"{when} {digest.time} {digest.zone}"
    if digest.topic:
        words += f", topic {digest.topic}"
        if not digest.quiet:
            words += " (a line on days with nothing on it)"
    return words


def _who(digest: ChannelDigest) -> str:
    return f"set by <@{digest.set_by}>" if digest.set_by else "the operator's default"


def channel_setting(channel: str, digest: ChannelDigest | None) -> str:
    """`/papers digest` in a channel."""
    if digest is None:
        return f"This channel gets no digest. {DIGEST_USAGE}"
    if not digest.active:
        return f"This channel's digest is off ({_off_words(digest)}). {DIGEST_USAGE}"
    return (
        f"This channel's digest: {esc(schedule(digest))} ({_who(digest)}). "
        "`/papers digest off` stops it."
    )


def _off_words(digest: ChannelDigest) -> str:
    reason = OFF_REASONS.get(digest.off_reason or "")
    if reason:
        return f"switched off: {reason}"
    return f"switched off by <@{digest.set_by}>" if digest.set_by else "switched off"


def digest_list(digests: Sequence[ChannelDigest]) -> str:
    """`/papers digest list`: every channel's digest in this workspace."""
    if not digests:
        return f"No channel gets a digest yet. {DIGEST_USAGE}"
    lines = []
    for digest in digests:
        state = esc(schedule(digest)) if digest.active else _off_words(digest)
        lines.append(f"• <#{digest.channel}>: {state} ({_who(digest)})")
    return "*Channel digests*\n" + "\n".join(lines)


def digest_set(digest: ChannelDigest) -> str:
    return (
        f"Done: this channel's digest is {esc(schedule(digest))}. "
        "Invite me here (`/invite @papers-bot`) if this channel is private."
    )


def digest_off(was_on: bool) -> str:
    return "This channel's digest is off." if was_on else "This channel had no digest to stop."


def changed_line(user: str, digest: ChannelDigest | None) -> dict[str, Any]:
    """Posted in the channel for everyone when someone changes its digest."""
    if digest is None or not digest.active:
        said, fallback = "switched this channel's digest off.", "This channel's digest is off."
    else:
        now = schedule(digest)
        said, fallback = f"set this channel's digest: {esc(now)}.", f"This channel's digest: {now}."
    return message(fallback, [context(f"<@{user}> {said}")])


def word_unknown(word: str) -> str:
    return (
        f"{esc_short(word, 40)!r} is not a cadence (daily, weekly DAY), a time (HH:MM, "
        f"24-hour), a time zone (such as Europe/Berlin) or `topic QUERY`. {DIGEST_USAGE}"
    )


def weekday_missing() -> str:
    return f"Weekly on which day? Such as `weekly monday`. {DIGEST_USAGE}"


def topic_refused(why: str) -> str:
    return esc(f"That topic would never match a paper: {why} Try a search that finds papers now.")


def switched_off_dm(channel: str, reason: str, digest: ChannelDigest) -> dict[str, Any]:
    """To whoever set a digest whose channel Slack refused: said once, then it is off."""
    why = OFF_REASONS.get(reason, f"Slack refused it ({reason})")
    text = (
        f"I switched off the digest you set for <#{channel}> ({esc(schedule(digest))}): "
        f"{why}. Invite me back and type `/papers digest here` there to start it again."
    )
    return message(text, [text_section(text)])


def nothing_on_topic_message(day: date, topic: str) -> dict[str, Any]:
    """A quiet topic's day, for a channel that asked to hear it (`--quiet-days off`)."""
    text = f"Nothing on {esc_short(topic, 200)} today ({day:%a} {day.day} {day:%b})."
    return message(text, [context(text)])
