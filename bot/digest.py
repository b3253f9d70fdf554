"""A channel's digest: choose the best papers for it, post them once, ever.

For a channel and a day: the papers listed since that channel's last digest (so Monday's
covers the weekend; a weekly digest its seven days), on its topic when it has one (by the
topic rule of `bot.search.topics`), most upvoted first then most relevant, at most `size`,
never one already posted there. A header message (a weekly one with the team's week), then
each paper as a card in the header's thread. A day with nothing new posts nothing (and logs
why): an empty "nothing today" message in a busy channel is noise, unless a topic's channel
asked for that line (`Selection.quiet` False).

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
from bot.render.digests import nothing_on_topic_message
from bot.team import TeamCounts, counts_for, most_read

log = logging.getLogger(__name__)
FIRST_DIGEST_DAYS = 3  # a channel's first digest looks back this far
WEEK_DAYS = 7
TEAM_WEEK_SIZE = 5
NOTHING_NEW = "nothing new since the last digest"
POST_INTERVAL = 1.0  # Slack allows about one message per second per channel
Freshen = Callable[[list[Paper]], list[Paper]]
# The candidates on the channel's topic, each with its relevance (`bot.search.topics`).
TopicMatcher = Callable[[Sequence[Paper]], dict[str, float]]


@dataclass(frozen=True)
class Selection:
    """What a channel's digest takes, beyond its size: a week or the days since its last
    one, a topic (and what matches it), whether a day with nothing on it stays quiet."""

    weekly: bool = False
    topic: str = ""
    matches: TopicMatcher | None = None
    quiet: bool = True

    @property
    def first_days(self) -> int:
        return WEEK_DAYS if self.weekly else FIRST_DIGEST_DAYS


DAILY = Selection()


@dataclass
class DigestResult:
    channel: str
    day: date
    posted: list[str] = field(default_factory=list)
    header_ts: str | None = None
    note: str = ""


def choose_papers(
    library: Library, channel: str, day: date, size: int, selection: Selection = DAILY
) -> list[Paper]:
    ledger = library.ledger
    since = ledger.previous_day(channel, day) or day - timedelta(days=selection.first_days)
    if selection.weekly:  # a week at most, also after a long pause
        since = max(since, day - timedelta(days=WEEK_DAYS))
    window = [
        p
        for p in library.listed_between(since.isoformat(), day.isoformat())
        if not ledger.was_posted(channel, p.id)
    ]
    relevance: dict[str, float] = {}
    if selection.topic and selection.matches is not None:
        relevance = selection.matches(window)
        window = [p for p in window if p.id in relevance]
    window.sort(key=lambda p: (-p.upvotes, -relevance.get(p.id, 0.0), p.listed or "", p.id))
    return window[:size]


def latest_digest_papers(library: Library) -> tuple[str | None, list[Paper]]:
    """The newest digest posted anywhere (its day and papers), else the latest listing day."""
    day, ids = library.ledger.latest()
    if day and ids:  # a quiet topic's one line is not a digest to show
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
    selection: Selection = DAILY,
) -> list[Paper]:
    """`--dry-run`: send what the digest would post to `messenger`; the ledger is untouched.
    `signals`: cards carry the team's counts (PAPERS_TEAM_SIGNALS)."""
    papers = choose_papers(library, channel, day, size, selection)
    if papers:
        messenger.post(channel, _header(library, channel, day, papers, selection, signals))
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
    selection: Selection = DAILY,
) -> DigestResult:
    """`freshen`: looks the chosen papers up for AI summaries that appeared since they were
    listed (`bot.ingest.freshen`), before anything is posted; `signals`: cards carry the
    team's counts (PAPERS_TEAM_SIGNALS), a weekly header the team's week; `selection`: the
    channel's cadence and topic."""
    result = DigestResult(channel, day)
    with library.run_alone(f"digest-{channel}") as alone:
        if not alone:
            result.note = "another digest for this channel is running; it posts them"
            log.info("digest %s %s: %s", channel, day, result.note)
            return result
        papers = _papers_to_post(library, messenger, result, size, freshen, selection, signals)
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
    selection: Selection = DAILY,
    signals: bool = True,
) -> list[Paper] | None:
    """The papers still to post, after claiming and posting the header if needed; None when
    there is nothing to do (`result.note` says why)."""
    ledger, channel, day = library.ledger, result.channel, result.day
    record = ledger.digest(channel, day)
    if record and record.get("done"):
        result.note = "already posted"
        return None
    if record is None:
        papers = choose_papers(library, channel, day, size, selection)
        if not papers:
            _nothing_to_post(library, messenger, result, selection)
            return None
        papers = _freshened(papers, freshen)
        ledger.plan(channel, day, [p.id for p in papers])
        header = _header(library, channel, day, papers, selection, signals)
        try:
            result.header_ts = messenger.post(channel, header)
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


def _header(
    library: Library,
    channel: str,
    day: date,
    papers: list[Paper],
    selection: Selection,
    signals: bool,
) -> dict[str, Any]:
    team_week = most_read(library, channel, TEAM_WEEK_SIZE) if selection.weekly and signals else []
    return render.digest_header_message(day, papers, selection.weekly, selection.topic, team_week)


def _nothing_to_post(
    library: Library, messenger: Messenger, result: DigestResult, selection: Selection
) -> None:
    """Nothing new (on the topic): nothing is posted and the day stays open (papers listed
    later that day still make it), unless a topic's channel asked to hear it: then one
    line, and the day is done."""
    ledger, channel, day, topic = library.ledger, result.channel, result.day, selection.topic
    result.note = f"nothing on {topic} since the last digest" if topic else NOTHING_NEW
    log.info("digest %s %s: %s", channel, day, result.note)
    if not topic or selection.quiet:
        return
    ledger.plan(channel, day, [])
    try:
        result.header_ts = messenger.post(channel, nothing_on_topic_message(day, topic))
    except PostRefused:
        ledger.drop_plan(channel, day)
        raise
    ledger.header_posted(channel, day, result.header_ts)
    ledger.finish(channel, day, note=result.note)


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
