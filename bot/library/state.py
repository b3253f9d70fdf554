"""The per-user and per-channel state in `state.json`, one named class per table (with many
workspaces, each workspace's in `state-TEAM.json`, the same classes; see `Library.for_team`).

Each class owns its table's name on disk and its key format, so no other module spells either.
Every write holds the data-dir lock (threads and processes), and every write is one atomic file
write: a save rewrites only this small file, never the catalog.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.library.storage import DataDirLock
from bot.library.tables import KeyedTable, KeyedTinyDB, Rows
from bot.text import fold

# Slack retries an event for about 5 minutes; a day of event ids is plenty to drop duplicates.
EVENT_MEMORY = timedelta(days=1)


class StateTable:
    """One table of `state.json`; subclasses name it and give its rows a meaning."""

    def __init__(
        self, db: KeyedTinyDB, lock: DataDirLock, clock: Callable[[], str], team: str = ""
    ):
        self._db = db
        self._lock = lock
        self.clock = clock
        self.team = team  # the workspace whose state this file holds ("" in token mode)

    def _table(self, name: str) -> KeyedTable:
        return self._db.keyed(name)

    def _put(self, name: str, rows: Rows, remove: Iterable[str] = ()) -> None:
        with self._lock.hold():
            self._table(name).put_many(rows, remove)

    def _add_once(self, name: str, key: str, row: dict[str, Any]) -> bool:
        """Write `row` under `key` unless the key is there; False when it was."""
        with self._lock.hold():
            if key in self._table(name).raw():
                return False
            self._put(name, {key: row})
            return True

    # -- moving a library (`papers-bot db copy`) ----------------------------------------------

    # Each table this class keeps: its name in state.json and the row fields that make a key.
    KEYS: dict[str, tuple[str, ...]] = {}

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of this class's tables, in the backends' shared shape (a `team` field:
        each state file holds one workspace)."""
        return {
            name: [dict(row) | {"team": self.team} for row in self._table(name).raw().values()]
            for name in self.KEYS
        }

    def load(self, tables: dict[str, list[dict[str, Any]]]) -> int:
        """Add this workspace's rows whose key is missing; how many were added."""
        added = 0
        with self._lock.hold():
            for name, fields in self.KEYS.items():
                known = self._table(name).raw()
                rows = {}
                for row in tables.get(name, []):
                    key = ":".join(str(row[f]) for f in fields)
                    if row.get("team", "") == self.team and key not in known and key not in rows:
                        rows[key] = self._stored(row)
                if rows:
                    self._put(name, rows)
                    added += len(rows)
        return added

    @staticmethod
    def _stored(row: dict[str, Any]) -> dict[str, Any]:
        """A shared-shape row as state.json keeps it."""
        return {k: v for k, v in row.items() if k != "team"}

    def forget(self, user: str) -> None:
        """Every row of this class's tables about `user` (`/papers forget me`)."""
        with self._lock.hold():
            for name in self.KEYS:
                rows = self._table(name).raw()
                gone = [key for key, row in rows.items() if row.get("user") == user]
                if gone:
                    self._put(name, {}, remove=gone)

    def _remove_once(self, name: str, key: str) -> bool:
        """Drop `key`; False when it was not there."""
        with self._lock.hold():
            if key not in self._table(name).raw():
                return False
            self._put(name, {}, remove=[key])
            return True


class Saves(StateTable):
    """Each user's reading list: table `saves`, key `user:paper`."""

    TABLE = "saves"
    KEYS = {"saves": ("user", "paper")}

    @staticmethod
    def _key(user: str, paper_id: str) -> str:
        return f"{user}:{paper_id}"

    def rows(self) -> Rows:
        return self._table(self.TABLE).raw()

    def add(self, user: str, paper_id: str) -> bool:
        """Add the paper to the user's reading list; False if it was already there."""
        row = {"user": user, "paper": paper_id, "saved_at": self.clock()}
        return self._add_once(self.TABLE, self._key(user, paper_id), row)

    def remove(self, user: str, paper_id: str) -> bool:
        """Remove the paper from the user's list; False if it was not there."""
        return self._remove_once(self.TABLE, self._key(user, paper_id))

    def contains(self, user: str, paper_id: str) -> bool:
        return self._key(user, paper_id) in self.rows()

    def of_user(self, user: str) -> list[tuple[str, str]]:
        """(paper id, saved at) of the user's reading list, newest first."""
        rows = [
            (rec["paper"], rec["saved_at"])
            for rec in self.rows().values()
            if rec.get("user") == user
        ]
        # saved_at has whole seconds; the table keeps insertion order, so among saves of
        # one second the later-written is the newer: reverse the stable ascending sort.
        return sorted(rows, key=lambda row: row[1])[::-1]


class PaperMessages(StateTable):
    """Which Slack message carries which paper, so a reaction on it can save the paper.

    Table `posts` (its name on disk since the first release), key `channel:ts`.
    """

    TABLE = "posts"
    KEYS = {"posts": ("channel", "ts")}

    def record(self, channel: str, ts: str, paper_id: str, kind: str) -> None:
        """Remember that message (channel, ts) carries `paper_id`."""
        row = {"channel": channel, "ts": ts, "paper": paper_id, "kind": kind}
        self._put(self.TABLE, {f"{channel}:{ts}": row | {"posted_at": self.clock()}})

    def paper_for(self, channel: str, ts: str) -> str | None:
        record = self._table(self.TABLE).raw().get(f"{channel}:{ts}")
        return record["paper"] if record else None


class SeenEvents(StateTable):
    """Slack event ids already handled, for a day, so a retried event is dropped."""

    TABLE = "events"
    KEYS: dict[str, tuple[str, ...]] = {}  # a day's memory of retries: not worth moving

    def seen(self, event_id: str) -> bool:
        """Whether `event_id` was handled already (recorded by `first_sighting`)."""
        return event_id in self._table(self.TABLE).raw()

    def first_sighting(self, event_id: str, now: datetime | None = None) -> bool:
        """Record `event_id`; True the first time it is seen, False for a retry."""
        now = now or datetime.now(UTC)
        with self._lock.hold():
            events = self._table(self.TABLE)
            raw = events.raw()
            if event_id in raw:
                return False
            horizon = (now - EVENT_MEMORY).timestamp()
            stale = [key for key, rec in raw.items() if rec.get("at", 0) < horizon]
            events.put_many({event_id: {"at": now.timestamp()}}, remove=stale)
            return True


def _normal_topic(query: str) -> str:
    return " ".join(fold(query).split())[:200]


class Follows(StateTable):
    """Topics users follow (table `follows`) and the papers each user was alerted about
    (table `alerted`, key `user:paper`), so each paper reaches each user once, ever."""

    TABLE = "follows"
    ALERTED = "alerted"
    KEYS = {"follows": ("user", "topic"), "alerted": ("user", "paper")}

    def export(self) -> dict[str, list[dict[str, Any]]]:
        tables = super().export()
        for row in tables["follows"]:  # the key's topic digest, which rows do not store
            row["topic"] = self._topic(row["query"])
        return tables

    @staticmethod
    def _stored(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in ("team", "topic")}

    @staticmethod
    def _topic(query: str) -> str:
        return hashlib.sha1(_normal_topic(query).encode("utf-8")).hexdigest()[:16]

    @classmethod
    def _key(cls, user: str, query: str) -> str:
        return f"{user}:{cls._topic(query)}"

    def _rows(self) -> Rows:
        return self._table(self.TABLE).raw()

    def add(self, user: str, query: str) -> bool:
        row = {"user": user, "query": " ".join(query.split())[:200], "since": self.clock()}
        return self._add_once(self.TABLE, self._key(user, query), row)

    def remove(self, user: str, query: str) -> bool:
        return self._remove_once(self.TABLE, self._key(user, query))

    def of_user(self, user: str) -> list[str]:
        return sorted(r["query"] for r in self._rows().values() if r.get("user") == user)

    def all(self) -> list[tuple[str, str]]:
        """(user, query) for every follow."""
        return sorted((r["user"], r["query"]) for r in self._rows().values())

    def already_alerted(self, user: str, paper_id: str) -> bool:
        return f"{user}:{paper_id}" in self._table(self.ALERTED).raw()

    def mark_alerted(self, user: str, paper_ids: list[str]) -> None:
        now = self.clock()
        self._put(
            self.ALERTED, {f"{user}:{p}": {"user": user, "paper": p, "at": now} for p in paper_ids}
        )


class DigestLedger(StateTable):
    """What the daily digest posted, so nothing is ever posted twice in a channel.

    Table `digests`, key `channel:day`: one record per digest (its planned papers, the header's
    ts, done). Table `posted`, key `channel:paper`: one entry per card, written *before* the
    card is posted (ts None: in flight) and completed with its ts after Slack accepts it.
    """

    DIGESTS = "digests"
    CARDS = "posted"
    KEYS = {"digests": ("channel", "day"), "posted": ("channel", "paper")}

    @staticmethod
    def digest_key(channel: str, day: date) -> str:
        return f"{channel}:{day.isoformat()}"

    @staticmethod
    def card_key(channel: str, paper_id: str) -> str:
        return f"{channel}:{paper_id}"

    def digests(self) -> Rows:
        return self._table(self.DIGESTS).raw()

    def digest(self, channel: str, day: date) -> dict[str, Any] | None:
        return self.digests().get(self.digest_key(channel, day))

    def is_done(self, channel: str, day: date) -> bool:
        return bool((self.digest(channel, day) or {}).get("done"))

    def was_posted(self, channel: str, paper_id: str) -> bool:
        """True once a card for the paper was posted, or was in flight, in the channel."""
        return self.card_key(channel, paper_id) in self._table(self.CARDS).raw()

    def previous_day(self, channel: str, day: date) -> date | None:
        """The day of the channel's last digest before `day`."""
        days = [
            date.fromisoformat(r["day"])
            for r in self.digests().values()
            if r.get("channel") == channel and r.get("day", "") < day.isoformat()
        ]
        return max(days) if days else None

    def latest(self) -> tuple[str | None, list[str]]:
        """The newest digest posted anywhere: (day, paper ids)."""
        rows = [r for r in self.digests().values() if r.get("header_ts")]
        if not rows:
            return None, []
        newest = max(rows, key=lambda r: (r["day"], r.get("at", "")))
        return newest["day"], list(newest.get("papers", []))

    def plan(self, channel: str, day: date, paper_ids: list[str]) -> None:
        """Claim the digest before its header is posted (header_ts None: in flight)."""
        record = {
            "channel": channel,
            "day": day.isoformat(),
            "header_ts": None,
            "papers": paper_ids,
            "done": False,
            "at": self.clock(),
        }
        self._put(self.DIGESTS, {self.digest_key(channel, day): record})

    def drop_plan(self, channel: str, day: date) -> None:
        """Forget a planned digest whose header Slack refused: the next run starts afresh."""
        self._put(self.DIGESTS, {}, remove=[self.digest_key(channel, day)])

    def _update_digest(self, channel: str, day: date, **changes: Any) -> None:
        with self._lock.hold():
            record = self.digest(channel, day)
            if record is not None:
                self._put(self.DIGESTS, {self.digest_key(channel, day): record | changes})

    def header_posted(self, channel: str, day: date, ts: str) -> None:
        self._update_digest(channel, day, header_ts=ts)

    def finish(self, channel: str, day: date, note: str | None = None) -> None:
        self._update_digest(channel, day, done=True, **({"note": note} if note else {}))

    def card_in_flight(self, channel: str, day: date, paper_id: str) -> bool:
        """Claim the card before posting it; False when it was claimed (or posted) already."""
        entry = {"channel": channel, "paper": paper_id, "day": day.isoformat(), "ts": None}
        return self._add_once(self.CARDS, self.card_key(channel, paper_id), entry)

    def card_posted(self, channel: str, day: date, paper_id: str, ts: str) -> None:
        entry = {"channel": channel, "paper": paper_id, "day": day.isoformat(), "ts": ts}
        self._put(self.CARDS, {self.card_key(channel, paper_id): entry})

    def card_refused(self, channel: str, paper_id: str) -> None:
        """Slack refused the card (it was not posted): a later run may post it."""
        self._put(self.CARDS, {}, remove=[self.card_key(channel, paper_id)])

    def in_flight(self, channel: str, day: date) -> list[str]:
        """Cards of the day whose post was interrupted by a crash (posted or not: unknown)."""
        return [
            r["paper"]
            for r in self._table(self.CARDS).raw().values()
            if r.get("channel") == channel and r.get("day") == day.isoformat() and not r.get("ts")
        ]


class WorkspaceDigests(StateTable):
    """Where and when each workspace's digest goes, as its people set it in Slack
    (`/papers digest here 09:00 Europe/Berlin`): table `workspace_digests`, key `team`.
    One table for all workspaces, kept in the main state file."""

    TABLE = "workspace_digests"
    KEYS = {"workspace_digests": ("team",)}

    def export(self) -> dict[str, list[dict[str, Any]]]:
        return {self.TABLE: [dict(row) for row in self._table(self.TABLE).raw().values()]}

    def load(self, tables: dict[str, list[dict[str, Any]]]) -> int:
        with self._lock.hold():
            known = self._table(self.TABLE).raw()
            rows = {
                r["team"]: dict(r) for r in tables.get(self.TABLE, []) if r["team"] not in known
            }
            if rows:
                self._put(self.TABLE, rows)
        return len(rows)

    def get(self, team: str) -> dict[str, Any] | None:
        return self._table(self.TABLE).raw().get(team)

    def set(self, team: str, channel: str, time: str, zone: str, user: str) -> None:
        row = {"team": team, "channel": channel, "time": time, "zone": zone, "set_by": user}
        self._put(self.TABLE, {team: row | {"set_at": self.clock()}})

    def remove(self, team: str) -> bool:
        return self._remove_once(self.TABLE, team)

    def all(self) -> list[dict[str, Any]]:
        return sorted(self._table(self.TABLE).raw().values(), key=lambda row: row["team"])


class Tastes(StateTable):
    """What each person's picks learn from and what they were sent: the papers they marked
    Not interested (table `hidden`, key `user:paper`), who asked for a morning DM of picks
    (`picks_people`, key `user`) and each morning's picks (`picks_sent`, key `user:day`,
    claimed before the DM is sent: at most one a day, never repeated after a crash)."""

    KEYS = {
        "hidden": ("user", "paper"),
        "picks_people": ("user",),
        "picks_sent": ("user", "day"),
    }

    def hide(self, user: str, paper_id: str) -> bool:
        row = {"user": user, "paper": paper_id, "at": self.clock()}
        return self._add_once("hidden", f"{user}:{paper_id}", row)

    def unhide(self, user: str, paper_id: str) -> bool:
        return self._remove_once("hidden", f"{user}:{paper_id}")

    def hidden_of(self, user: str) -> list[str]:
        rows = self._table("hidden").raw().values()
        return [row["paper"] for row in rows if row.get("user") == user]

    def set_picks(self, user: str, on: bool) -> bool:
        """Opt in or out of the morning DM; False when it already was so."""
        if on:
            return self._add_once("picks_people", user, {"user": user, "since": self.clock()})
        return self._remove_once("picks_people", user)

    def picks_on(self, user: str) -> bool:
        return user in self._table("picks_people").raw()

    def picks_people(self) -> list[str]:
        return sorted(self._table("picks_people").raw())

    def claim_picks(self, user: str, day: str, paper_ids: list[str]) -> bool:
        """Claim the person's DM of `day` before sending it; False when it was claimed before
        (sent, or in flight when a process died: never sent twice)."""
        row = {"user": user, "day": day, "papers": list(paper_ids), "ts": None}
        return self._add_once("picks_sent", f"{user}:{day}", row)

    def picks_delivered(self, user: str, day: str, ts: str) -> None:
        with self._lock.hold():
            row = self._table("picks_sent").raw().get(f"{user}:{day}")
            if row is not None:
                self._put("picks_sent", {f"{user}:{day}": dict(row) | {"ts": ts}})

    def picked_before(self, user: str) -> set[str]:
        rows = self._table("picks_sent").raw().values()
        return {p for row in rows if row.get("user") == user for p in row.get("papers", [])}
