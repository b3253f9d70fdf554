"""The daily digest: choose the day's best papers for a channel, post them once, ever.

For a channel and a day: the papers listed since that channel's last digest (so Monday's
covers the weekend), most upvoted first, at most `size`, never one already posted there. A
header message, then each paper as a card in the header's thread. A day with nothing new posts
nothing (and logs why): an empty "nothing today" message in a busy channel is noise.

Never twice (the `DigestLedger`): only one run per channel at a time (a second one, from cron or
the start-up catch-up, steps aside); the digest is claimed before its header is posted and each
card before it is posted, then completed with its ts once Slack accepts it. A rerun after a crash
continues with what was not yet attempted; a header or card in flight at the crash is not posted
again (at most once: a missing card is better than a duplicate). What Slack refused outright
(`PostRefused`) is released, so the next run posts it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot import render
from bot.delivery import Messenger, PostRefused
from bot.library import Library
from bot.models import Paper
from bot.team import TeamCounts, counts_for

log = logging.getLogger(__name__)
FIRST_DIGEST_DAYS = 3  # a channel's first digest looks back this far
POST_INTERVAL = 1.0  # Slack allows about one message per second per channel
Freshen = Callable[[list[Paper]], list[Paper]]


@dataclass
class DigestResult:
    channel: str
    day: date
    posted: list[str] = field(default_factory=list)
    header_ts: str | None = None
    note: str = ""


def choose_papers(library: Library, channel: str, day: date, size: int) -> list[Paper]:
    ledger = library.ledger
    since = ledger.previous_day(channel, day) or day - timedelta(days=FIRST_DIGEST_DAYS)
    window = [
        p
        for p in library.listed_between(since.isoformat(), day.isoformat())
        if not ledger.was_posted(channel, p.id)
    ]
    window.sort(key=lambda p: (-p.upvotes, p.listed or "", p.id))
    return window[:size]


def latest_digest_papers(library: Library) -> tuple[str | None, list[Paper]]:
    """The newest digest posted anywhere (its day and papers), else the latest listing day."""
    day, ids = library.ledger.latest()
    if day:
        return day, [p for p in (library.get(i) for i in ids) if p]
    return library.latest_listing()


def digest_card(
    paper: Paper, plan: Sequence[str], save_emoji: Sequence[str], week: dict[str, TeamCounts]
) -> dict[str, Any]:
    """A card ranked by its place in the digest's plan (the same on a resumed run), with the
    team's counts of the week (`week`, as the channel may see them)."""
    rank = plan.index(paper.id) + 1 if paper.id in plan else len(plan) + 1
    return render.digest_card_message(paper, rank, save_emoji, week.get(paper.id))


def _week(
    library: Library, channel: str, papers: Sequence[Paper], signals: bool
) -> dict[str, TeamCounts]:
    return counts_for(library, [p.id for p in papers], here=channel) if signals else {}


def preview_digest(
    library: Library,
    messenger: Messenger,
    channel: str,
    day: date,
    size: int,
    save_emoji: list[str],
    signals: bool = True,
) -> list[Paper]:
    """`--dry-run`: send what the digest would post to `messenger`; the ledger is untouched.
    `signals`: cards carry the team's counts (PAPERS_TEAM_SIGNALS)."""
    papers = choose_papers(library, channel, day, size)
    if papers:
        messenger.post(channel, render.digest_header_message(day, papers))
        plan = [p.id for p in papers]
        week = _week(library, channel, papers, signals)
        for paper in papers:
            card = digest_card(paper, plan, save_emoji, week)
            messenger.post(channel, card, thread_ts="header")
    return papers


def run_digest(
    library: Library,
    messenger: Messenger,
    channel: str,
    day: date,
    size: int,
    save_emoji: list[str],
    pace: float = POST_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    freshen: Freshen | None = None,
    signals: bool = True,
) -> DigestResult:
    """`freshen`: looks the chosen papers up for AI summaries that appeared since they were
    listed (`bot.ingest.freshen`), before anything is posted; `signals`: cards carry the
    team's counts (PAPERS_TEAM_SIGNALS)."""
    result = DigestResult(channel, day)
    with library.run_alone(f"digest-{channel}") as alone:
        if not alone:
            result.note = "another digest for this channel is running; it posts them"
            log.info("digest %s %s: %s", channel, day, result.note)
            return result
        papers = _papers_to_post(library, messenger, result, size, freshen)
        if papers is None:
            return result
        plan = list((library.ledger.digest(channel, day) or {}).get("papers", []))
        week = _week(library, channel, papers, signals)
        for paper in papers:
            if pace:
                sleep(pace)
            card = digest_card(paper, plan, save_emoji, week)
            _post_card(library, messenger, result, paper, card)
        library.ledger.finish(channel, day)
    return result


def _papers_to_post(
    library: Library,
    messenger: Messenger,
    result: DigestResult,
    size: int,
    freshen: Freshen | None = None,
) -> list[Paper] | None:
    """The papers still to post, after claiming and posting the header if needed; None when
    there is nothing to do (`result.note` says why)."""
    ledger, channel, day = library.ledger, result.channel, result.day
    record = ledger.digest(channel, day)
    if record and record.get("done"):
        result.note = "already posted"
        return None
    if record is None:
        papers = choose_papers(library, channel, day, size)
        if not papers:
            result.note = "nothing new since the last digest"
            log.info("digest %s %s: %s", channel, day, result.note)
            return None
        papers = _freshened(papers, freshen)
        ledger.plan(channel, day, [p.id for p in papers])
        try:
            result.header_ts = messenger.post(channel, render.digest_header_message(day, papers))
        except PostRefused:
            ledger.drop_plan(channel, day)
            raise
        ledger.header_posted(channel, day, result.header_ts)
        return papers
    if not record.get("header_ts"):
        result.note = "the header was in flight when papers-bot stopped; not posting it twice"
        log.warning("digest %s %s: %s", channel, day, result.note)
        ledger.finish(channel, day, note=result.note)
        return None
    result.header_ts = record["header_ts"]
    interrupted = ledger.in_flight(channel, day)
    if interrupted:
        log.warning(
            "digest %s %s: a crash interrupted the posting of %s; not posting them again "
            "(never twice in a channel)",
            channel,
            day,
            ", ".join(interrupted),
        )
    planned = (library.get(p) for p in record["papers"])
    return [p for p in planned if p and not ledger.was_posted(channel, p.id)]


def _freshened(papers: list[Paper], freshen: Freshen | None) -> list[Paper]:
    if freshen is None:
        return papers
    try:
        return freshen(papers)
    except Exception:  # a lookup's trouble never stops a digest: our TL;DRs stand in
        log.exception("looking up fresher AI summaries failed; the digest goes on without")
        return papers


def _post_card(
    library: Library,
    messenger: Messenger,
    result: DigestResult,
    paper: Paper,
    card: dict[str, Any],
) -> None:
    ledger, channel, day = library.ledger, result.channel, result.day
    # Claimed before the post: a crash between Slack accepting it and the ts being written
    # must not let a rerun post it again, nor another replica post it at the same time.
    if not ledger.card_in_flight(channel, day, paper.id):
        log.warning(
            "digest %s %s: %s was claimed by another run; not posted twice", channel, day, paper.id
        )
        return
    try:
        ts = messenger.post(channel, card, thread_ts=result.header_ts)
    except PostRefused:
        ledger.card_refused(channel, paper.id)
        raise
    with library.transaction():
        ledger.card_posted(channel, day, paper.id, ts)
        library.messages.record(channel, ts, paper.id, "digest")
    result.posted.append(paper.id)
