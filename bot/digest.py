"""The daily digest: choose the day's best papers for a channel, post them once, ever.

For a channel and a day: the papers listed since that channel's last digest (so Monday's
covers the weekend), most upvoted first, at most `size`, never one already posted there. A
header message, then each paper as a card in the header's thread. Every post is written to the
ledger right after Slack accepts it, so a rerun after a crash continues where it stopped.
A day with nothing new posts nothing (and logs why): an empty "nothing today" message in a busy
channel is noise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot import render
from bot.models import Paper
from bot.poster import Poster
from bot.store import Library

log = logging.getLogger(__name__)
FIRST_DIGEST_DAYS = 3  # a channel's first digest looks back this far
POST_INTERVAL = 1.0  # Slack allows about one message per second per channel


@dataclass
class DigestResult:
    channel: str
    day: date
    posted: list[str] = field(default_factory=list)
    header_ts: str | None = None
    note: str = ""


def _digest_key(channel: str, day: date) -> str:
    return f"{channel}:{day.isoformat()}"


def _ledger_key(channel: str, paper_id: str) -> str:
    return f"{channel}:{paper_id}"


def was_posted(library: Library, channel: str, paper_id: str) -> bool:
    return _ledger_key(channel, paper_id) in library.state_rows("posted")


def previous_digest_day(library: Library, channel: str, day: date) -> date | None:
    days = [
        date.fromisoformat(r["day"])
        for r in library.state_rows("digests").values()
        if r.get("channel") == channel and r.get("day", "") < day.isoformat()
    ]
    return max(days) if days else None


def choose_papers(library: Library, channel: str, day: date, size: int) -> list[Paper]:
    since = previous_digest_day(library, channel, day) or day - timedelta(days=FIRST_DIGEST_DAYS)
    window = [
        p
        for p in library.listed_between(since.isoformat(), day.isoformat())
        if not was_posted(library, channel, p.id)
    ]
    window.sort(key=lambda p: (-p.upvotes, p.listed or "", p.id))
    return window[:size]


def latest_digest(library: Library) -> tuple[str | None, list[str]]:
    """The newest digest posted anywhere: (day, paper ids)."""
    rows = [r for r in library.state_rows("digests").values() if r.get("header_ts")]
    if not rows:
        return None, []
    newest = max(rows, key=lambda r: (r["day"], r.get("at", "")))
    return newest["day"], list(newest.get("papers", []))


def run_digest(
    library: Library,
    poster: Poster,
    channel: str,
    day: date,
    size: int,
    save_emoji: list[str],
    pace: float = POST_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
) -> DigestResult:
    result = DigestResult(channel, day)
    key = _digest_key(channel, day)
    record = library.state_rows("digests").get(key)
    if record and record.get("done"):
        result.note = "already posted"
        return result
    if record:
        planned = [library.get(p) for p in record["papers"]]
        papers = [p for p in planned if p and not was_posted(library, channel, p.id)]
        result.header_ts = record["header_ts"]
    else:
        papers = choose_papers(library, channel, day, size)
        if not papers:
            result.note = "nothing new since the last digest"
            log.info("digest %s %s: %s", channel, day, result.note)
            return result
        header = render.digest_header_message(day, papers)
        result.header_ts = poster.post(channel, header)
        library.put_state(
            "digests",
            {
                key: {
                    "channel": channel,
                    "day": day.isoformat(),
                    "header_ts": result.header_ts,
                    "papers": [p.id for p in papers],
                    "done": False,
                    "at": library.clock(),
                }
            },
        )
    uncertain = [
        r["paper"]
        for r in library.state_rows("posted").values()
        if r.get("channel") == channel and r.get("day") == day.isoformat() and not r.get("ts")
    ]
    if uncertain:
        log.warning(
            "digest %s %s: a crash interrupted the posting of %s; not posting them again "
            "(never twice in a channel)",
            channel,
            day,
            ", ".join(uncertain),
        )
    for rank, paper in enumerate(papers, start=1):
        if pace:
            sleep(pace)
        entry = {"channel": channel, "paper": paper.id, "day": day.isoformat(), "ts": None}
        # Written before the post: a crash between Slack accepting it and the ts being written
        # must not let a rerun post it again (at most once, as DESIGN requires).
        library.put_state("posted", {_ledger_key(channel, paper.id): entry})
        card = render.digest_card_message(paper, rank, save_emoji)
        ts = poster.post(channel, card, thread_ts=result.header_ts)
        with library.transaction():
            library.put_state("posted", {_ledger_key(channel, paper.id): entry | {"ts": ts}})
            library.record_post(channel, ts, paper.id, "digest")
        result.posted.append(paper.id)
    done = dict(library.state_rows("digests")[key], done=True)
    library.put_state("digests", {key: done})
    return result


def run_digest_command(services, channel: str | None, day: str | None, dry_run: bool) -> int:  # noqa: ANN001
    """`papers-bot digest`: the daily job once, now."""
    import sys
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.cli import UsageError
    from bot.poster import PrintPoster

    settings = services.settings
    channels = [channel] if channel else settings.channels
    if not channels:
        raise UsageError("name a channel: --channel C0123ABCD, or set PAPERS_CHANNEL")
    try:
        when = date.fromisoformat(day) if day else datetime.now(ZoneInfo(settings.timezone)).date()
    except ValueError as error:
        raise UsageError(f"--date must be YYYY-MM-DD, not {day!r}") from error
    if dry_run:
        for target in channels:
            papers = choose_papers(services.library, target, when, settings.digest_size)
            poster = PrintPoster()
            if not papers:
                print(f"{target}: nothing new to post for {when}")
                continue
            poster.post(target, render.digest_header_message(when, papers))
            for rank, paper in enumerate(papers, start=1):
                poster.post(
                    target,
                    render.digest_card_message(paper, rank, settings.save_emoji),
                    thread_ts="header",
                )
        return 0
    settings.require_slack()
    from bot.slack.client import make_client
    from bot.slack.papers import SlackPapers
    from bot.slack.runner import check_auth

    client = make_client(settings)
    identity = check_auth(client)
    if isinstance(identity, int):
        return identity
    poster = SlackPapers(services, client)
    status = 0
    for target in channels:
        try:
            result = run_digest(
                services.library, poster, target, when, settings.digest_size, settings.save_emoji
            )
        except Exception as error:  # noqa: BLE001 - report and go on with the next channel
            print(f"{target}: digest failed: {error}", file=sys.stderr)
            status = 1
            continue
        print(
            f"{target}: posted {len(result.posted)} papers for {when}"
            + (f" ({result.note})" if result.note else "")
        )
    return status
