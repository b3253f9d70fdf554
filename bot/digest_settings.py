"""Channel digests, as people set them in Slack, in every mode (one workspace by token, or
many installed by OAuth):

- `/papers digest here [daily | weekly DAY] [HH:MM] [ZONE] [topic QUERY] [--quiet-days off]`
  typed in a channel: that channel gets a digest (daily at 09:00 in the workspace's last zone
  or UTC, no topic, unless said; what was set before stays where nothing new is said);
- `/papers digest` in a channel: its setting; `/papers digest list`: every channel's;
- `/papers digest off`: no more digest in this channel.

A change is posted in the channel for everyone (`DigestReply.announce`). In token mode,
PAPERS_CHANNEL with PAPERS_DIGEST_TIME and PAPERS_TIMEZONE is the operator's default channel
digest: listed like the others, and changed or stopped from Slack like them (a stored row
for that channel takes its place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings, channel_problem, zone_name
from bot.library import Library, StoreWriteError
from bot.models import WEEKDAYS, ChannelDigest
from bot.render import digests as words
from bot.render import replies
from bot.render.search_text import notes_text
from bot.search.engine import SearchEngine
from bot.search.topics import topic_problem

DEFAULT_ZONE = "UTC"
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_QUIET = re.compile(r"(?i)--quiet-days(?:=|\s+)(on|off)\b")
_TOPIC = re.compile(r"(?i)(?:^|\s)topic(?:\s+(.*)|$)", re.DOTALL)  # the rest is the query


@dataclass(frozen=True)
class Due:
    """A channel digest whose time has come: for `day` (its local date)."""

    digest: ChannelDigest
    day: date

    @property
    def team(self) -> str:
        return self.digest.team

    @property
    def channel(self) -> str:
        return self.digest.channel


# -- which digests there are, and which are due -------------------------------------------------


def operator_digests(settings: Settings) -> list[ChannelDigest]:
    """PAPERS_CHANNEL's digests (token mode: its channel ids belong to the one workspace)."""
    if settings.many_workspaces:
        return []
    return [
        ChannelDigest("", channel, time=settings.digest_time, zone=settings.timezone)
        for channel in settings.channels
    ]


def channel_digests(
    settings: Settings, library: Library, team: str | None = None
) -> list[ChannelDigest]:
    """Every channel's digest (of `team` when given), on or off: set in Slack, then the
    operator's defaults that no Slack setting replaced."""
    stored = [ChannelDigest.from_row(row) for row in library.channel_digests.all(team)]
    have = {(d.team, d.channel) for d in stored}
    defaults = [
        d
        for d in operator_digests(settings)
        if (d.team, d.channel) not in have and (team is None or d.team == team)
    ]
    return sorted(stored + defaults, key=lambda d: (d.team, d.channel))


def due_digests(settings: Settings, library: Library, now: datetime) -> list[Due]:
    """The digests whose time passed less than PAPERS_DIGEST_GRACE_HOURS ago and whose
    digest of that day is not finished (a crash mid-digest is finished by the next look)."""
    grace = timedelta(hours=settings.digest_grace_hours)
    due = []
    for digest in channel_digests(settings, library):
        if not digest.active:
            continue
        scheduled = digest.last_run(now)
        if now - scheduled > grace:
            continue
        day = scheduled.date()
        if not library.for_team(digest.team).ledger.is_done(digest.channel, day):
            due.append(Due(digest, day))
    return due


def switch_off(library: Library, digest: ChannelDigest, reason: str) -> bool:
    """Slack refused the channel: its digest is off (kept, with why), not retried daily."""
    row = replace(digest, active=False, off_reason=reason).row()
    if library.channel_digests.get(digest.team, digest.channel) is None:
        library.channel_digests.set(row)  # the operator's default: now off, as a row
        return True
    return library.channel_digests.switch_off(digest.team, digest.channel, reason)


# -- `/papers digest ...` ------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestReply:
    text: str
    now_in: str | None = None  # the channel the digest was just set to go to (to join)
    announce: dict[str, Any] | None = None  # posted in the channel for everyone


def digest_setting_reply(
    settings: Settings,
    library: Library,
    search: SearchEngine,
    user: str,
    channel: str,
    text: str,
) -> DigestReply:
    """The reply to `/papers digest [here ... | off | list]` typed by `user` in `channel`."""
    first = text.split()[0].lower() if text.split() else ""
    team = library.team
    try:
        if not first:
            return DigestReply(words.channel_setting(channel, _this(settings, library, channel)))
        if first == "list" and len(text.split()) == 1:
            return DigestReply(words.digest_list(channel_digests(settings, library, team)))
        if first not in ("here", "off"):
            return DigestReply(words.DIGEST_NOT_UNDERSTOOD)
        if channel_problem(channel, "channel") or not channel.startswith(("C", "G")):
            return DigestReply(words.DIGEST_NOT_IN_DM)
        if first == "off" and len(text.split()) == 1:
            return _off(settings, library, user, channel)
        if first == "here":
            return _set_here(settings, library, search, user, channel, text.split(None, 1)[1:])
    except StoreWriteError:
        return DigestReply(words.DIGEST_COULD_NOT_CHANGE)
    return DigestReply(words.DIGEST_NOT_UNDERSTOOD)


def _this(settings: Settings, library: Library, channel: str) -> ChannelDigest | None:
    found = [d for d in channel_digests(settings, library, library.team) if d.channel == channel]
    return found[0] if found else None


def _off(settings: Settings, library: Library, user: str, channel: str) -> DigestReply:
    before = _this(settings, library, channel)
    if before is None or not before.active:
        return DigestReply(words.digest_off(False))
    off = replace(before, active=False, set_by=user, off_reason=None)
    library.channel_digests.set(off.row())
    return DigestReply(words.digest_off(True), announce=words.changed_line(user, off))


def _set_here(
    settings: Settings,
    library: Library,
    search: SearchEngine,
    user: str,
    channel: str,
    rest: list[str],
) -> DigestReply:
    before = _this(settings, library, channel)
    start = before or ChannelDigest(library.team, channel, zone=workspace_zone(settings, library))
    parsed = _parse(start, rest[0] if rest else "")
    if isinstance(parsed, str):
        return DigestReply(parsed)
    if parsed.topic:
        problem = topic_problem(search, parsed.topic)
        if problem is not None:
            why = replies.topic_refused(problem.reason, problem.detail or notes_text(problem.notes))
            return DigestReply(words.topic_refused(why))
    digest = replace(parsed, active=True, set_by=user, off_reason=None)
    library.channel_digests.set(digest.row())
    return DigestReply(
        words.digest_set(digest), now_in=channel, announce=words.changed_line(user, digest)
    )


def workspace_zone(settings: Settings, library: Library) -> str:
    """The zone of the workspace's last digest set in Slack, else the operator's, else UTC."""
    rows = library.channel_digests.all(library.team)
    if rows:
        return str(max(rows, key=lambda row: row.get("set_at") or "")["zone"])
    return settings.timezone if operator_digests(settings) else DEFAULT_ZONE


def _parse(start: ChannelDigest, text: str) -> ChannelDigest | str:
    """`start` changed by what follows `here`; a reply saying what was not understood."""
    quiet = _QUIET.search(text)
    if quiet:
        start = replace(start, quiet=quiet.group(1).lower() == "on")
        text = (text[: quiet.start()] + text[quiet.end() :]).strip()
    found = _TOPIC.search(text)
    before, topic = (text[: found.start()], found.group(1) or "") if found else (text, "")
    if found and not topic.strip():
        return words.DIGEST_NOT_UNDERSTOOD
    digest = start
    tokens = before.split()
    while tokens:
        word = tokens.pop(0)
        lower = word.lower()
        if lower == "daily":
            digest = replace(digest, cadence="daily", weekday=None)
        elif lower == "weekly":
            day = _weekday(tokens[0]) if tokens else None
            if day is None:
                return words.weekday_missing()
            tokens.pop(0)
            digest = replace(digest, cadence="weekly", weekday=day)
        elif _TIME.fullmatch(word):
            hour, minute = word.split(":")
            digest = replace(digest, time=f"{int(hour):02d}:{minute}")
        elif _is_zone(zone_name(word)):
            digest = replace(digest, zone=zone_name(word))
        else:
            return words.word_unknown(word)
    topic = topic.strip()
    if topic:
        digest = replace(digest, topic="" if topic.lower() == "off" else topic)
    return digest


def _weekday(word: str) -> int | None:
    lower = word.lower()
    for number, name in enumerate(WEEKDAYS):
        if len(lower) >= 3 and name.startswith(lower):
            return number
    return None


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
