"""The rules of the per-user and per-channel state, written once for both backends: one
class per table (or pair of tables), over `KeyedRows` (`rows.py`).

Each class owns its tables' names and key fields, so no other module spells either; the
backend (`FileRows` in the workspace's state file, `PgRows` in PostgreSQL) is what
`Library` hands it through `open_rows`. Uniqueness (a save, a digest card, a morning DM) is
the backend's atomic `add_once`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.library.rows import KeyedRows, Row
from bot.text import fold

# Slack retries an event for about 5 minutes; a day of event ids is plenty to drop duplicates.
EVENT_MEMORY = timedelta(days=1)


@dataclass(frozen=True)
class Spec:
    """One table of a state class: its key fields; `per_team`: each workspace has its own
    rows (not so for the workspaces' digest settings); `moved`: `papers-bot db copy` moves
    it (not so for a day of Slack's event ids)."""

    key: tuple[str, ...]
    per_team: bool = True
    moved: bool = True


OpenRows = Callable[[str, Spec], KeyedRows]


class StateTable:
    """The tables of one state class, as one workspace sees them."""

    TABLES: dict[str, Spec] = {}

    def __init__(self, open_rows: OpenRows, clock: Callable[[], str], team: str = ""):
        self.clock = clock
        self.team = team  # the workspace whose state this is ("" in token mode)
        self.rows_of = {name: open_rows(name, spec) for name, spec in self.TABLES.items()}

    # -- moving a library (`papers-bot db copy`) ----------------------------------------------

    def export(self) -> dict[str, list[Row]]:
        """Every row of this class's tables, in the backends' shared shape (a `team` field)."""
        return {
            name: [self._shared(name, row) for row in self.rows_of[name].where()]
            for name, spec in self.TABLES.items()
            if spec.moved
        }

    def _shared(self, name: str, row: Row) -> Row:
        return row | {"team": self.team} if self.TABLES[name].per_team else row

    def load(self, tables: dict[str, list[Row]]) -> int:
        """Add this workspace's rows whose key is missing; how many were added."""
        added = 0
        for name, spec in self.TABLES.items():
            rows = [
                {k: v for k, v in row.items() if k != "team" or not spec.per_team}
                for row in tables.get(name, [])
                if not spec.per_team or row.get("team", "") == self.team
            ]
            if spec.moved and rows:
                added += self.rows_of[name].add_many_once(rows)
        return added

    def forget(self, user: str) -> None:
        """Every row of this class's tables about `user` (`/papers forget me`)."""
        for name, spec in self.TABLES.items():
            if "user" in spec.key:
                self.rows_of[name].remove_where(user=user)


class Saves(StateTable):
    """Each user's reading list: table `saves`, key (user, paper)."""

    TABLES = {"saves": Spec(("user", "paper"))}

    @property
    def _saves(self) -> KeyedRows:
        return self.rows_of["saves"]

    def rows(self) -> dict[str, Row]:
        """Every save of the workspace, by `user:paper`."""
        return {f"{r['user']}:{r['paper']}": r for r in self._saves.where()}

    def add(self, user: str, paper_id: str) -> bool:
        """Add the paper to the user's reading list; False if it was already there."""
        return self._saves.add_once({"user": user, "paper": paper_id, "saved_at": self.clock()})

    def remove(self, user: str, paper_id: str) -> bool:
        """Remove the paper from the user's list; False if it was not there."""
        return self._saves.remove(user, paper_id)

    def contains(self, user: str, paper_id: str) -> bool:
        return self._saves.get(user, paper_id) is not None

    def since(self, at: str) -> list[Row]:
        """Every save of the workspace at or after the ISO time `at` (counts, never names)."""
        return self._saves.at_least("saved_at", at)

    def of_user(self, user: str) -> list[tuple[str, str]]:
        """(paper id, saved at) of the user's reading list, newest first."""
        rows = [(r["paper"], r["saved_at"]) for r in self._saves.where(user=user)]
        # saved_at has whole seconds; rows come in the order they were written, so among
        # saves of one second the later-written is the newer: reverse the stable sort.
        return sorted(rows, key=lambda row: row[1])[::-1]


class PaperMessages(StateTable):
    """Which Slack message carries which paper, so a reaction on it can save the paper.

    Table `posts` (its name on disk since the first release), key (channel, ts).
    """

    TABLES = {"posts": Spec(("channel", "ts"))}

    def record(self, channel: str, ts: str, paper_id: str, kind: str) -> None:
        """Remember that message (channel, ts) carries `paper_id`."""
        row = {"channel": channel, "ts": ts, "paper": paper_id, "kind": kind}
        self.rows_of["posts"].put(row | {"posted_at": self.clock()})

    def paper_for(self, channel: str, ts: str) -> str | None:
        record = self.rows_of["posts"].get(channel, ts)
        return str(record["paper"]) if record else None


class Shares(StateTable):
    """Papers people posted as links in Slack (table `shares`, key (channel, ts, paper)): which
    message carries which papers, so a reaction on it saves them, and the team's signals.

    `private`: shared in a DM, a group DM or a private channel, so it counts only inside that
    conversation. `at` is the clock's ISO time, so times compare as text.
    """

    TABLES = {"shares": Spec(("channel", "ts", "paper"))}

    @property
    def _shares(self) -> KeyedRows:
        return self.rows_of["shares"]

    def record(self, channel: str, ts: str, user: str, paper_ids: list[str], private: bool) -> int:
        """Remember that `user`'s message (channel, ts) carries these papers; how many were
        new (a retried or repeated event adds nothing)."""
        at = self.clock()
        rows = [
            {"channel": channel, "ts": ts, "paper": p, "user": user, "private": private, "at": at}
            for p in paper_ids
        ]
        return self._shares.add_many_once(rows)

    def papers_in(self, channel: str, ts: str) -> list[str]:
        """The papers the message (channel, ts) carries, in the order they were recorded."""
        return [row["paper"] for row in self._shares.where(channel=channel, ts=ts)]

    def since(self, at: str) -> list[Row]:
        """Every share of the workspace at or after the ISO time `at`."""
        return self._shares.at_least("at", at)

    def forget(self, user: str) -> None:
        """The person's shares go too (`/papers forget me`): who shared is not in the key."""
        self._shares.remove_where(user=user)


class SeenEvents(StateTable):
    """Slack event ids already handled, for a day, so a retried event is dropped (on any
    replica: with PostgreSQL the table is shared by every workspace)."""

    TABLES = {"events": Spec(("event_id",), per_team=False, moved=False)}

    def seen(self, event_id: str) -> bool:
        """Whether `event_id` was handled already (recorded by `first_sighting`)."""
        return self.rows_of["events"].get(event_id) is not None

    def first_sighting(self, event_id: str, now: datetime | None = None) -> bool:
        """Record `event_id`; True the first time it is seen, False for a retry."""
        now = now or datetime.now(UTC)
        events = self.rows_of["events"]
        events.remove_below("at", (now - EVENT_MEMORY).timestamp())
        return events.add_once({"event_id": event_id, "at": now.timestamp()})


def _normal_topic(query: str) -> str:
    return " ".join(fold(query).split())[:200]


class Follows(StateTable):
    """Topics users follow (table `follows`, key (user, topic): the normalised query's
    digest) and the papers each user was alerted about (table `alerted`, key (user, paper)),
    so each paper reaches each user once, ever."""

    TABLES = {"follows": Spec(("user", "topic")), "alerted": Spec(("user", "paper"))}

    @staticmethod
    def topic(query: str) -> str:
        return hashlib.sha1(_normal_topic(query).encode("utf-8")).hexdigest()[:16]

    def _shared(self, name: str, row: Row) -> Row:
        if name == "follows" and "topic" not in row:  # written before rows kept their topic
            row = row | {"topic": self.topic(row["query"])}
        return super()._shared(name, row)

    def add(self, user: str, query: str) -> bool:
        row = {
            "user": user,
            "topic": self.topic(query),
            "query": " ".join(query.split())[:200],
            "since": self.clock(),
        }
        return self.rows_of["follows"].add_once(row)

    def remove(self, user: str, query: str) -> bool:
        return self.rows_of["follows"].remove(user, self.topic(query))

    def of_user(self, user: str) -> list[str]:
        return sorted(r["query"] for r in self.rows_of["follows"].where(user=user))

    def all(self) -> list[tuple[str, str]]:
        """(user, query) for every follow."""
        return sorted((r["user"], r["query"]) for r in self.rows_of["follows"].where())

    def already_alerted(self, user: str, paper_id: str) -> bool:
        return self.rows_of["alerted"].get(user, paper_id) is not None

    def mark_alerted(self, user: str, paper_ids: list[str]) -> None:
        now = self.clock()
        rows = [{"user": user, "paper": p, "at": now} for p in paper_ids]
        self.rows_of["alerted"].add_many_once(rows)


class DigestLedger(StateTable):
    """What the daily digest posted, so nothing is ever posted twice in a channel.

    Table `digests`, key (channel, day): one record per digest (its planned papers, the
    header's ts, done). Table `posted`, key (channel, paper): one entry per card, written
    *before* the card is posted (ts None: in flight) and completed with its ts after Slack
    accepts it; the key lets one leader win even when two overlap.
    """

    TABLES = {"digests": Spec(("channel", "day")), "posted": Spec(("channel", "paper"))}

    @property
    def _digests(self) -> KeyedRows:
        return self.rows_of["digests"]

    @property
    def _cards(self) -> KeyedRows:
        return self.rows_of["posted"]

    @staticmethod
    def _record(row: Row) -> Row:
        """A digest as callers see it (no empty note)."""
        return {k: v for k, v in row.items() if k != "note" or v}

    def digests(self) -> dict[str, Row]:
        return {f"{r['channel']}:{r['day']}": self._record(r) for r in self._digests.where()}

    def digest(self, channel: str, day: date) -> Row | None:
        found = self._digests.get(channel, day.isoformat())
        return self._record(found) if found else None

    def is_done(self, channel: str, day: date) -> bool:
        return bool((self.digest(channel, day) or {}).get("done"))

    def was_posted(self, channel: str, paper_id: str) -> bool:
        """True once a card for the paper was posted, or was in flight, in the channel."""
        return self._cards.get(channel, paper_id) is not None

    def previous_day(self, channel: str, day: date) -> date | None:
        """The day of the channel's last digest before `day`."""
        days = [
            r["day"] for r in self._digests.where(channel=channel) if r["day"] < day.isoformat()
        ]
        return date.fromisoformat(max(days)) if days else None

    def latest(self) -> tuple[str | None, list[str]]:
        """The newest digest posted anywhere: (day, paper ids)."""
        newest = self._digests.last(("day", "at"), present="header_ts")
        return (newest["day"], list(newest.get("papers") or [])) if newest else (None, [])

    def papers_under(self, channel: str, header_ts: str) -> list[str]:
        """The papers of the digest whose header is (channel, header_ts), in its order."""
        found = self._digests.where(channel=channel, header_ts=header_ts)
        return list(found[0].get("papers") or []) if found else []

    def plan(self, channel: str, day: date, paper_ids: list[str]) -> None:
        """Claim the digest before its header is posted (header_ts None: in flight)."""
        record = {
            "channel": channel,
            "day": day.isoformat(),
            "header_ts": None,
            "papers": paper_ids,
            "done": False,
            "note": None,
            "at": self.clock(),
        }
        self._digests.put(record)

    def drop_plan(self, channel: str, day: date) -> None:
        """Forget a planned digest whose header Slack refused: the next run starts afresh."""
        self._digests.remove(channel, day.isoformat())

    def header_posted(self, channel: str, day: date, ts: str) -> None:
        self._digests.change(channel, day.isoformat(), header_ts=ts)

    def finish(self, channel: str, day: date, note: str | None = None) -> None:
        self._digests.change(
            channel, day.isoformat(), done=True, **({"note": note} if note else {})
        )

    def card_in_flight(self, channel: str, day: date, paper_id: str) -> bool:
        """Claim the card before posting it; False when it was claimed (or posted) already."""
        entry = {"channel": channel, "paper": paper_id, "day": day.isoformat(), "ts": None}
        return self._cards.add_once(entry)

    def card_posted(self, channel: str, day: date, paper_id: str, ts: str) -> None:
        self._cards.put({"channel": channel, "paper": paper_id, "day": day.isoformat(), "ts": ts})

    def card_refused(self, channel: str, paper_id: str) -> None:
        """Slack refused the card (it was not posted): a later run may post it."""
        self._cards.remove(channel, paper_id)

    def in_flight(self, channel: str, day: date) -> list[str]:
        """Cards of the day whose post was interrupted by a crash (posted or not: unknown)."""
        rows = self._cards.where(channel=channel, day=day.isoformat(), ts=None)
        return [r["paper"] for r in rows]


class ChannelDigests(StateTable):
    """Which channels get a digest, when and on what, as people set it in Slack
    (`/papers digest here weekly monday 09:00 Europe/Berlin topic cat:cs.CV`): table
    `channel_digests`, key (team, channel), one table for all workspaces (with files, in the
    main state file). A row with `active` False is a digest switched off (by `/papers digest off`,
    or because Slack refused the channel): kept, so an operator's default channel stays off.

    `workspace_digests` (key team) is the older shape, one digest per workspace: its rows
    count as daily digests of their channel until that workspace's digests are next changed,
    when the row becomes a channel digest (no migration step to forget on either backend).
    """

    TABLES = {
        "channel_digests": Spec(("team", "channel"), per_team=False),
        "workspace_digests": Spec(("team",), per_team=False),
    }

    @property
    def _digests(self) -> KeyedRows:
        return self.rows_of["channel_digests"]

    @property
    def _legacy(self) -> KeyedRows:
        return self.rows_of["workspace_digests"]

    @staticmethod
    def _from_legacy(row: Row) -> Row:
        return {
            "team": row["team"],
            "channel": row["channel"],
            "cadence": "daily",
            "weekday": None,
            "time": row["time"],
            "zone": row["zone"],
            "topic": "",
            "quiet": True,
            "active": True,
            "set_by": row["set_by"],
            "set_at": row["set_at"],
            "off_reason": None,
        }

    def get(self, team: str, channel: str) -> Row | None:
        found = self._digests.get(team, channel)
        if found is not None:
            return found
        legacy = self._legacy.get(team)
        return self._from_legacy(legacy) if legacy and legacy["channel"] == channel else None

    def all(self, team: str | None = None) -> list[Row]:
        """Every channel's digest (of `team` when given), on or off, by team then channel."""
        rows = self._digests.where(**({"team": team} if team is not None else {}))
        have = {(r["team"], r["channel"]) for r in rows}
        for legacy in self._legacy.where(**({"team": team} if team is not None else {})):
            if (legacy["team"], legacy["channel"]) not in have:
                rows.append(self._from_legacy(legacy))
        return sorted(rows, key=lambda row: (row["team"], row["channel"]))

    def set(self, row: Row) -> None:
        """Write one channel's digest (every field of the row; `set_at` now)."""
        self._adopt_legacy(row["team"])
        self._digests.put(row | {"set_at": self.clock()})

    def switch_off(self, team: str, channel: str, reason: str) -> bool:
        """Slack refused the channel: off, kept with why (who set it stays, to be told);
        False when there was no digest on in that channel."""
        self._adopt_legacy(team)
        found = self._digests.get(team, channel)
        if found is None or not found.get("active"):
            return False
        fields = {"active": False, "off_reason": reason, "set_at": self.clock()}
        return self._digests.change(team, channel, **fields)

    def remove_team(self, team: str) -> int:
        """A workspace uninstalled the app: its digests are gone (its other state is kept)."""
        legacy = int(self._legacy.remove(team))
        return self._digests.remove_where(team=team) + legacy

    def _adopt_legacy(self, team: str) -> None:
        legacy = self._legacy.get(team)
        if legacy is None:
            return
        if self._digests.get(team, legacy["channel"]) is None:
            self._digests.put(self._from_legacy(legacy))
        self._legacy.remove(team)


class Tastes(StateTable):
    """What each person's picks learn from and what they were sent: the papers they marked
    Not interested (table `hidden`, key (user, paper)), who asked for a morning DM of picks
    (`picks_people`, key (user)) and each morning's picks (`picks_sent`, key (user, day),
    claimed before the DM is sent: at most one a day, never repeated after a crash)."""

    TABLES = {
        "hidden": Spec(("user", "paper")),
        "picks_people": Spec(("user",)),
        "picks_sent": Spec(("user", "day")),
    }

    def hide(self, user: str, paper_id: str) -> bool:
        return self.rows_of["hidden"].add_once(
            {"user": user, "paper": paper_id, "at": self.clock()}
        )

    def unhide(self, user: str, paper_id: str) -> bool:
        return self.rows_of["hidden"].remove(user, paper_id)

    def hidden_of(self, user: str) -> list[str]:
        rows = sorted(self.rows_of["hidden"].where(user=user), key=lambda row: row["at"])
        return [row["paper"] for row in rows]

    def set_picks(self, user: str, on: bool) -> bool:
        """Opt in or out of the morning DM; False when it already was so."""
        people = self.rows_of["picks_people"]
        if on:
            return people.add_once({"user": user, "since": self.clock()})
        return people.remove(user)

    def picks_on(self, user: str) -> bool:
        return self.rows_of["picks_people"].get(user) is not None

    def picks_people(self) -> list[str]:
        return sorted(row["user"] for row in self.rows_of["picks_people"].where())

    def claim_picks(self, user: str, day: str, paper_ids: list[str]) -> bool:
        """Claim the person's DM of `day` before sending it; False when it was claimed before
        (sent, or in flight when a process died: never sent twice)."""
        row = {"user": user, "day": day, "papers": list(paper_ids), "ts": None}
        return self.rows_of["picks_sent"].add_once(row)

    def picks_delivered(self, user: str, day: str, ts: str) -> None:
        self.rows_of["picks_sent"].change(user, day, ts=ts)

    def picked_before(self, user: str) -> set[str]:
        rows = self.rows_of["picks_sent"].where(user=user)
        return {p for row in rows for p in row.get("papers") or []}


class CitationAlerts(StateTable):
    """Who asked for citation alerts (`citation_people`, key user: since when, last check),
    each citing paper each person was told of or shown as a starting point
    (`citations_seen`, key (user, citing): its Semantic Scholar id, the saved paper it cites,
    whether it was sent), and the weeks whose check was claimed (`citation_weeks`, key week),
    so replicas check a week once."""

    TABLES = {
        "citation_people": Spec(("user",)),
        "citations_seen": Spec(("user", "citing")),
        "citation_weeks": Spec(("week",)),
    }

    def turn(self, user: str, on: bool) -> bool:
        """On or off; False when it already was."""
        people = self.rows_of["citation_people"]
        if not on:
            return people.remove(user)
        return people.add_once({"user": user, "since": self.clock(), "checked": None})

    def people(self) -> list[Row]:
        return self.rows_of["citation_people"].where()

    def is_on(self, user: str) -> bool:
        return self.rows_of["citation_people"].get(user) is not None

    def checked(self, user: str) -> None:
        self.rows_of["citation_people"].change(user, checked=self.clock())

    def seen(self, user: str) -> set[str]:
        return {row["citing"] for row in self.rows_of["citations_seen"].where(user=user)}

    def watched(self, user: str) -> set[str]:
        """The saved papers some citing paper was recorded for (their first look is done)."""
        return {row["about"] for row in self.rows_of["citations_seen"].where(user=user)}

    def claim(self, user: str, citing: list[tuple[str, str]], sent: bool) -> int:
        """Record (citing id, saved paper id) pairs as seen, sent or only a starting point,
        before a DM goes (at most once); how many were new."""
        rows = [
            {"user": user, "citing": c, "about": about, "sent": sent, "at": self.clock()}
            for c, about in citing
        ]
        return self.rows_of["citations_seen"].add_many_once(rows)

    def release(self, user: str, citing: list[str]) -> None:
        """The DM was refused: those may go next time."""
        for one in citing:
            self.rows_of["citations_seen"].remove(user, one)

    def claim_week(self, week: str) -> bool:
        """True for the first replica (or run) to check `week` in this workspace."""
        return self.rows_of["citation_weeks"].add_once({"week": week, "at": self.clock()})
