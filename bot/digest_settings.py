"""Each workspace's daily digest, set by its people in Slack (multi-workspace mode):

- `/papers digest here 09:00 Europe/Berlin`: the channel it is typed in, the time, the zone
  (time and zone optional: 09:00 and UTC, or what was set before);
- `/papers digest off`: no more digests in this workspace;
- `/papers digest`: what is set now.

In token mode (one workspace) the digest is the operator's: PAPERS_CHANNEL, PAPERS_DIGEST_TIME
and PAPERS_TIMEZONE; the command says so and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings, channel_problem, zone_name
from bot.library import Library, StoreWriteError
from bot.render import replies

DEFAULT_TIME, DEFAULT_ZONE = "09:00", "UTC"


@dataclass(frozen=True)
class Due:
    """A workspace whose digest should be posted now: in `channel`, for `day` (its date)."""

    team: str
    channel: str
    day: date


def last_run_time(time: str, zone_name: str, now: datetime) -> datetime:
    """The latest time `time` (HH:MM) in zone `zone_name` at or before `now`."""
    zone = ZoneInfo(zone_name)
    hour, minute = (int(x) for x in time.split(":"))
    local = now.astimezone(zone)
    today = datetime(local.year, local.month, local.day, hour, minute, tzinfo=zone)
    if today <= local:
        return today
    yesterday = local.date() - timedelta(days=1)
    return datetime(yesterday.year, yesterday.month, yesterday.day, hour, minute, tzinfo=zone)


def due_digests(library: Library, now: datetime, grace_hours: float) -> list[Due]:
    """The workspaces whose digest time passed less than the grace ago and whose digest of
    that day is not finished (a crash mid-digest is finished by the next look)."""
    due = []
    for row in library.workspace_digests.all():
        scheduled = last_run_time(row["time"], row["zone"], now)
        if now - scheduled > timedelta(hours=grace_hours):
            continue
        day = scheduled.date()
        if not library.for_team(row["team"]).ledger.is_done(row["channel"], day):
            due.append(Due(row["team"], row["channel"], day))
    return due


@dataclass(frozen=True)
class DigestReply:
    text: str
    now_in: str | None = None  # the channel the digest was just set to go to


def digest_setting_reply(
    settings: Settings, library: Library, team: str, user: str, channel: str, text: str
) -> DigestReply:
    """The reply to `/papers digest [here [HH:MM] [ZONE] | off]` typed in `channel`."""
    words = text.split()
    if not settings.many_workspaces:
        return DigestReply(_operator_setting(settings))
    try:
        if not words:
            return DigestReply(describe(library, team))
        if words[0].lower() == "off":
            return DigestReply(replies.digest_off(library.workspace_digests.remove(team)))
        if words[0].lower() == "here":
            return _set_here(library, team, user, channel, words[1:])
    except StoreWriteError:
        return DigestReply(replies.DIGEST_COULD_NOT_CHANGE)
    return DigestReply(replies.DIGEST_NOT_UNDERSTOOD)


def describe(library: Library, team: str) -> str:
    return replies.digest_setting(library.workspace_digests.get(team))


def _set_here(
    library: Library, team: str, user: str, channel: str, words: list[str]
) -> DigestReply:
    if channel_problem(channel, "channel") or not channel.startswith(("C", "G")):
        return DigestReply(replies.DIGEST_NOT_IN_DM)
    before = library.workspace_digests.get(team) or {}
    time, zone = before.get("time", DEFAULT_TIME), before.get("zone", DEFAULT_ZONE)
    for word in words:
        if re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", word):
            time = f"{int(word.split(':')[0]):02d}:{word.split(':')[1]}"
        elif _is_zone(zone_name(word)):
            zone = zone_name(word)
        else:
            return DigestReply(replies.digest_word_unknown(word))
    library.workspace_digests.set(team, channel, time, zone, user)
    return DigestReply(replies.digest_set(channel, time, zone), now_in=channel)


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _operator_setting(settings: Settings) -> str:
    return replies.operator_digest(settings.channels, settings.digest_time, settings.timezone)
