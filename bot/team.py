"""What the team is reading: how often each paper was shared (posted as a link) and saved in
the workspace over the last 7 days. Counts only: who saved is never told (saves are private);
who shared is visible in the channel anyway, so public channels may be named.

A share in a DM, a group DM or a private channel counts only inside that conversation
(`here`): nowhere else does anything about it appear. No Bolt here; `bot.render` words it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.library import Library
from bot.models import Paper

WEEK = timedelta(days=7)


@dataclass
class TeamCounts:
    """One paper's week in one workspace, as seen from one conversation."""

    paper: str
    shares: int = 0
    saves: int = 0
    channels: set[str] = field(default_factory=set)  # every channel it was shared in
    public: set[str] = field(default_factory=set)  # those that may be named

    @property
    def weight(self) -> int:
        return self.shares + self.saves


def week_start(now: datetime | None = None) -> str:
    """The ISO time 7 days before `now`, in the library clock's format."""
    return ((now or datetime.now(UTC)) - WEEK).strftime("%Y-%m-%dT%H:%M:%SZ")


def team_week(
    library: Library, here: str = "", now: datetime | None = None
) -> dict[str, TeamCounts]:
    """Each paper shared or saved in the last 7 days, by id, as `here` may see it."""
    since = week_start(now)
    counts: dict[str, TeamCounts] = {}

    def of(paper: str) -> TeamCounts:
        return counts.setdefault(paper, TeamCounts(paper))

    for row in library.shares.since(since):
        if row.get("private") and row["channel"] != here:
            continue
        found = of(row["paper"])
        found.shares += 1
        found.channels.add(row["channel"])
        if not row.get("private"):
            found.public.add(row["channel"])
    saved_by: dict[str, set[str]] = defaultdict(set)
    for row in library.saves.since(since):
        saved_by[row["paper"]].add(row["user"])
    for paper, people in saved_by.items():
        of(paper).saves = len(people)
    return counts


def counts_for(
    library: Library, paper_ids: Iterable[str], here: str = "", now: datetime | None = None
) -> dict[str, TeamCounts]:
    """The week's counts of these papers (only those above zero)."""
    wanted = set(paper_ids)
    if not wanted:
        return {}
    return {p: c for p, c in team_week(library, here, now).items() if p in wanted and c.weight}


def most_read(
    library: Library, here: str = "", limit: int = 10, now: datetime | None = None
) -> list[tuple[Paper, TeamCounts]]:
    """The papers most shared and saved this week with their counts, most first (shares
    break ties); papers the catalog no longer has are left out."""
    week = team_week(library, here, now).values()
    ranked = sorted(week, key=lambda c: (-c.weight, -c.shares, c.paper))[:limit]
    papers = {p.id: p for p in library.get_many(c.paper for c in ranked)}
    return [(papers[c.paper], c) for c in ranked if c.paper in papers]
