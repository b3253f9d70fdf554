"""The per-user and per-channel state on PostgreSQL: the same tables and answers as
`state` (TinyDB), every user and channel scoped by its workspace (`team`).

Uniqueness lives in primary keys, so two replicas racing to save the same paper, to handle
the same retried event or to post the same digest card cannot both win: the insert that
loses conflicts, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from bot.library import pg_schema as schema
from bot.library.state import EVENT_MEMORY, Follows


class PgTable:
    """A state table of one workspace."""

    def __init__(self, engine: Engine, clock: Callable[[], str], team: str = ""):
        self.engine = engine
        self.clock = clock
        self.team = team

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with (
            schema.translated_errors("the reading lists, follows and digests", write),
            self.engine.begin() if write else self.engine.connect() as conn,
        ):
            yield conn

    def _insert_once(self, table: Table, row: dict[str, Any]) -> bool:
        """Insert `row` unless its key is there; False when it was."""
        # RETURNING, not rowcount: a driver may report -1 rows for an INSERT.
        statement = insert(table).values(row).on_conflict_do_nothing().returning(*table.primary_key)
        with self._conn(write=True) as conn:
            return conn.execute(statement).first() is not None

    # -- moving a library (`papers-bot db copy`) ----------------------------------------------

    TABLES: dict[str, Table] = {}  # this class's tables, by their name in the shared shape

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of this workspace, in the shape the file backend shares."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self._conn() as conn:
            for name, table in self.TABLES.items():
                query = select(table).where(table.c.team == self.team)
                out[name] = [_shared(row._asdict()) for row in conn.execute(query)]
        return out

    def load(self, tables: dict[str, list[dict[str, Any]]]) -> int:
        """Add the rows whose key is missing; how many were added."""
        added = 0
        with self._conn(write=True) as conn:
            for name, table in self.TABLES.items():
                rows = [
                    _columns(row, table) | {"team": self.team}
                    for row in tables.get(name, [])
                    if row.get("team", "") == self.team
                ]
                if rows:
                    statement = insert(table).on_conflict_do_nothing()
                    added += len(conn.execute(statement.returning(*table.primary_key), rows).all())
        return added

    def forget(self, user: str) -> None:
        """Every row of this class's tables about `user` (`/papers forget me`)."""
        with self._conn(write=True) as conn:
            for table in self.TABLES.values():
                conn.execute(
                    delete(table).where(table.c.team == self.team, table.c.user_id == user)
                )

    def _delete(self, table: Table, *where: Any) -> bool:
        with self._conn(write=True) as conn:
            return bool(
                conn.execute(delete(table).where(table.c.team == self.team, *where)).rowcount
            )


_RENAMED = {"user_id": "user", "paper_id": "paper"}  # columns -> the shared shape's names


def _shared(row: dict[str, Any]) -> dict[str, Any]:
    return {_RENAMED.get(k, k): v for k, v in row.items() if k != "n"}


def _columns(row: dict[str, Any], table: Table) -> dict[str, Any]:
    back = {v: k for k, v in _RENAMED.items()}
    named = {back.get(k, k): v for k, v in row.items()}
    return {k: v for k, v in named.items() if k in table.c and k != "n"}


class PgSaves(PgTable):
    t = schema.saves
    TABLES = {"saves": schema.saves}

    def add(self, user: str, paper_id: str) -> bool:
        row = {"team": self.team, "user_id": user, "paper_id": paper_id, "saved_at": self.clock()}
        return self._insert_once(self.t, row)

    def remove(self, user: str, paper_id: str) -> bool:
        return self._delete(self.t, self.t.c.user_id == user, self.t.c.paper_id == paper_id)

    def contains(self, user: str, paper_id: str) -> bool:
        t = self.t
        query = select(t.c.n).where(
            t.c.team == self.team, t.c.user_id == user, t.c.paper_id == paper_id
        )
        with self._conn() as conn:
            return conn.execute(query).first() is not None

    def of_user(self, user: str) -> list[tuple[str, str]]:
        t = self.t
        query = (
            select(t.c.paper_id, t.c.saved_at)
            .where(t.c.team == self.team, t.c.user_id == user)
            .order_by(t.c.saved_at.desc(), t.c.n.desc())
        )
        with self._conn() as conn:
            return [(p, s) for p, s in conn.execute(query)]

    def rows(self) -> dict[str, dict[str, Any]]:
        """Every save of the workspace, keyed and shaped as in state.json."""
        t = self.t
        query = select(t.c.user_id, t.c.paper_id, t.c.saved_at).where(t.c.team == self.team)
        with self._conn() as conn:
            return {
                f"{u}:{p}": {"user": u, "paper": p, "saved_at": s}
                for u, p, s in conn.execute(query.order_by(t.c.n))
            }


class PgPaperMessages(PgTable):
    t = schema.posts
    TABLES = {"posts": schema.posts}

    def record(self, channel: str, ts: str, paper_id: str, kind: str) -> None:
        row = {
            "team": self.team,
            "channel": channel,
            "ts": ts,
            "paper_id": paper_id,
            "kind": kind,
            "posted_at": self.clock(),
        }
        statement = insert(self.t).values(row)
        with self._conn(write=True) as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[self.t.c.team, self.t.c.channel, self.t.c.ts],
                    set_={"paper_id": paper_id, "kind": kind, "posted_at": row["posted_at"]},
                )
            )

    def paper_for(self, channel: str, ts: str) -> str | None:
        t = self.t
        query = select(t.c.paper_id).where(
            t.c.team == self.team, t.c.channel == channel, t.c.ts == ts
        )
        with self._conn() as conn:
            found = conn.execute(query).first()
        return str(found[0]) if found else None


class PgSeenEvents(PgTable):
    """Slack event ids handled by any replica, for a day (a retry may land on another one)."""

    t = schema.events

    def seen(self, event_id: str) -> bool:
        with self._conn() as conn:
            return (
                conn.execute(select(self.t.c.at).where(self.t.c.event_id == event_id)).first()
                is not None
            )

    def first_sighting(self, event_id: str, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        with self._conn(write=True) as conn:
            horizon = (now - EVENT_MEMORY).timestamp()
            conn.execute(delete(self.t).where(self.t.c.at < horizon))
            statement = insert(self.t).values(event_id=event_id, at=now.timestamp())
            done = conn.execute(statement.on_conflict_do_nothing().returning(self.t.c.event_id))
            return done.first() is not None


class PgFollows(PgTable):
    t = schema.follows
    alerts = schema.alerted
    TABLES = {"follows": schema.follows, "alerted": schema.alerted}

    def add(self, user: str, query: str) -> bool:
        row = {
            "team": self.team,
            "user_id": user,
            "topic": Follows._topic(query),
            "query": " ".join(query.split())[:200],
            "since": self.clock(),
        }
        return self._insert_once(self.t, row)

    def remove(self, user: str, query: str) -> bool:
        topic = Follows._topic(query)
        return self._delete(self.t, self.t.c.user_id == user, self.t.c.topic == topic)

    def of_user(self, user: str) -> list[str]:
        query = select(self.t.c.query).where(self.t.c.team == self.team, self.t.c.user_id == user)
        with self._conn() as conn:
            return sorted(r[0] for r in conn.execute(query))

    def all(self) -> list[tuple[str, str]]:
        query = select(self.t.c.user_id, self.t.c.query).where(self.t.c.team == self.team)
        with self._conn() as conn:
            return sorted((u, q) for u, q in conn.execute(query))

    def already_alerted(self, user: str, paper_id: str) -> bool:
        a = self.alerts
        query = select(a.c.at).where(
            a.c.team == self.team, a.c.user_id == user, a.c.paper_id == paper_id
        )
        with self._conn() as conn:
            return conn.execute(query).first() is not None

    def mark_alerted(self, user: str, paper_ids: list[str]) -> None:
        if not paper_ids:
            return
        now = self.clock()
        rows = [{"team": self.team, "user_id": user, "paper_id": p, "at": now} for p in paper_ids]
        with self._conn(write=True) as conn:
            conn.execute(insert(self.alerts).on_conflict_do_nothing(), rows)


class PgDigestLedger(PgTable):
    """What the daily digest posted: the (team, channel, paper) key makes a second post of a
    card impossible, even for two leaders that overlap."""

    t = schema.digests
    cards = schema.posted
    TABLES = {"digests": schema.digests, "posted": schema.posted}

    def _digest_row(self, row: Any) -> dict[str, Any]:
        record = {
            "channel": row.channel,
            "day": row.day,
            "header_ts": row.header_ts,
            "papers": list(row.papers or []),
            "done": bool(row.done),
            "at": row.at,
        }
        return record | ({"note": row.note} if row.note else {})

    def digests(self) -> dict[str, dict[str, Any]]:
        with self._conn() as conn:
            rows = conn.execute(select(self.t).where(self.t.c.team == self.team)).all()
        return {f"{r.channel}:{r.day}": self._digest_row(r) for r in rows}

    def digest(self, channel: str, day: date) -> dict[str, Any] | None:
        t = self.t
        query = select(t).where(
            t.c.team == self.team, t.c.channel == channel, t.c.day == day.isoformat()
        )
        with self._conn() as conn:
            row = conn.execute(query).first()
        return self._digest_row(row) if row else None

    def is_done(self, channel: str, day: date) -> bool:
        return bool((self.digest(channel, day) or {}).get("done"))

    def was_posted(self, channel: str, paper_id: str) -> bool:
        c = self.cards
        query = select(c.c.day).where(
            c.c.team == self.team, c.c.channel == channel, c.c.paper_id == paper_id
        )
        with self._conn() as conn:
            return conn.execute(query).first() is not None

    def previous_day(self, channel: str, day: date) -> date | None:
        t = self.t
        query = select(func.max(t.c.day)).where(
            t.c.team == self.team, t.c.channel == channel, t.c.day < day.isoformat()
        )
        with self._conn() as conn:
            found = conn.execute(query).scalar()
        return date.fromisoformat(found) if found else None

    def latest(self) -> tuple[str | None, list[str]]:
        t = self.t
        query = (
            select(t.c.day, t.c.papers)
            .where(t.c.team == self.team, t.c.header_ts.is_not(None))
            .order_by(t.c.day.desc(), t.c.at.desc())
            .limit(1)
        )
        with self._conn() as conn:
            row = conn.execute(query).first()
        return (row.day, list(row.papers or [])) if row else (None, [])

    def plan(self, channel: str, day: date, paper_ids: list[str]) -> None:
        row = {
            "team": self.team,
            "channel": channel,
            "day": day.isoformat(),
            "header_ts": None,
            "papers": paper_ids,
            "done": False,
            "note": None,
            "at": self.clock(),
        }
        statement = insert(self.t).values(row)
        keys = [self.t.c.team, self.t.c.channel, self.t.c.day]
        changes = {k: v for k, v in row.items() if k not in ("team", "channel", "day")}
        with self._conn(write=True) as conn:
            conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))

    def drop_plan(self, channel: str, day: date) -> None:
        self._delete(self.t, self.t.c.channel == channel, self.t.c.day == day.isoformat())

    def _update_digest(self, channel: str, day: date, **changes: Any) -> None:
        t = self.t
        where = (t.c.team == self.team, t.c.channel == channel, t.c.day == day.isoformat())
        with self._conn(write=True) as conn:
            conn.execute(update(t).where(*where).values(**changes))

    def header_posted(self, channel: str, day: date, ts: str) -> None:
        self._update_digest(channel, day, header_ts=ts)

    def finish(self, channel: str, day: date, note: str | None = None) -> None:
        self._update_digest(channel, day, done=True, **({"note": note} if note else {}))

    def _put_card(self, channel: str, day: date, paper_id: str, ts: str | None) -> None:
        row = {
            "team": self.team,
            "channel": channel,
            "paper_id": paper_id,
            "day": day.isoformat(),
            "ts": ts,
        }
        statement = insert(self.cards).values(row)
        keys = [self.cards.c.team, self.cards.c.channel, self.cards.c.paper_id]
        with self._conn(write=True) as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=keys, set_={"day": row["day"], "ts": ts}
                )
            )

    def card_in_flight(self, channel: str, day: date, paper_id: str) -> bool:
        """Claim the card before posting it: the (team, channel, paper) key lets one leader
        win even when two overlap; False for the loser."""
        row = {"team": self.team, "channel": channel, "paper_id": paper_id}
        return self._insert_once(self.cards, row | {"day": day.isoformat(), "ts": None})

    def card_posted(self, channel: str, day: date, paper_id: str, ts: str) -> None:
        self._put_card(channel, day, paper_id, ts)

    def card_refused(self, channel: str, paper_id: str) -> None:
        c = self.cards
        self._delete(c, c.c.channel == channel, c.c.paper_id == paper_id)

    def in_flight(self, channel: str, day: date) -> list[str]:
        c = self.cards
        query = select(c.c.paper_id).where(
            c.c.team == self.team,
            c.c.channel == channel,
            c.c.day == day.isoformat(),
            c.c.ts.is_(None),
        )
        with self._conn() as conn:
            return [r[0] for r in conn.execute(query)]


class PgWorkspaceDigests(PgTable):
    """Each workspace's digest channel, time and zone; one table for all workspaces."""

    t = schema.workspace_digests
    TABLES = {"workspace_digests": schema.workspace_digests}

    def export(self) -> dict[str, list[dict[str, Any]]]:
        with self._conn() as conn:
            return {"workspace_digests": [r._asdict() for r in conn.execute(select(self.t))]}

    def load(self, tables: dict[str, list[dict[str, Any]]]) -> int:
        rows = [_columns(row, self.t) for row in tables.get("workspace_digests", [])]
        if not rows:
            return 0
        statement = insert(self.t).on_conflict_do_nothing().returning(self.t.c.team)
        with self._conn(write=True) as conn:
            return len(conn.execute(statement, rows).all())

    def get(self, team: str) -> dict[str, Any] | None:
        with self._conn() as conn:
            row = conn.execute(select(self.t).where(self.t.c.team == team)).first()
        return row._asdict() if row else None

    def set(self, team: str, channel: str, time: str, zone: str, user: str) -> None:
        row = {"team": team, "channel": channel, "time": time, "zone": zone, "set_by": user}
        row["set_at"] = self.clock()
        statement = insert(self.t).values(row)
        changes = {k: v for k, v in row.items() if k != "team"}
        with self._conn(write=True) as conn:
            conn.execute(
                statement.on_conflict_do_update(index_elements=[self.t.c.team], set_=changes)
            )

    def remove(self, team: str) -> bool:
        with self._conn(write=True) as conn:
            return bool(conn.execute(delete(self.t).where(self.t.c.team == team)).rowcount)

    def all(self) -> list[dict[str, Any]]:
        with self._conn() as conn:
            return [r._asdict() for r in conn.execute(select(self.t).order_by(self.t.c.team))]


class PgTastes(PgTable):
    TABLES = {
        "hidden": schema.hidden,
        "picks_people": schema.picks_people,
        "picks_sent": schema.picks_sent,
    }

    def hide(self, user: str, paper_id: str) -> bool:
        row = {"team": self.team, "user_id": user, "paper_id": paper_id, "at": self.clock()}
        return self._insert_once(schema.hidden, row)

    def unhide(self, user: str, paper_id: str) -> bool:
        t = schema.hidden
        return self._delete(t, t.c.user_id == user, t.c.paper_id == paper_id)

    def hidden_of(self, user: str) -> list[str]:
        t = schema.hidden
        query = select(t.c.paper_id).where(t.c.team == self.team, t.c.user_id == user)
        with self._conn() as conn:
            return [str(p) for (p,) in conn.execute(query.order_by(t.c.at))]

    def set_picks(self, user: str, on: bool) -> bool:
        t = schema.picks_people
        if on:
            row = {"team": self.team, "user_id": user, "since": self.clock()}
            return self._insert_once(t, row)
        return self._delete(t, t.c.user_id == user)

    def picks_on(self, user: str) -> bool:
        t = schema.picks_people
        query = select(t.c.since).where(t.c.team == self.team, t.c.user_id == user)
        with self._conn() as conn:
            return conn.execute(query).first() is not None

    def picks_people(self) -> list[str]:
        t = schema.picks_people
        query = select(t.c.user_id).where(t.c.team == self.team).order_by(t.c.user_id)
        with self._conn() as conn:
            return [str(u) for (u,) in conn.execute(query)]

    def claim_picks(self, user: str, day: str, paper_ids: list[str]) -> bool:
        row = {"team": self.team, "user_id": user, "day": day, "papers": list(paper_ids)}
        return self._insert_once(schema.picks_sent, row)

    def picks_delivered(self, user: str, day: str, ts: str) -> None:
        t = schema.picks_sent
        statement = (
            update(t)
            .where(t.c.team == self.team, t.c.user_id == user, t.c.day == day)
            .values(ts=ts)
        )
        with self._conn(write=True) as conn:
            conn.execute(statement)

    def picked_before(self, user: str) -> set[str]:
        t = schema.picks_sent
        query = select(t.c.papers).where(t.c.team == self.team, t.c.user_id == user)
        with self._conn() as conn:
            return {str(p) for (papers,) in conn.execute(query) for p in papers}


def teams_with_state(engine: Engine) -> set[str]:
    """Every workspace that has a row in a per-workspace table."""
    tables = (
        schema.saves,
        schema.posts,
        schema.follows,
        schema.alerted,
        schema.digests,
        schema.hidden,
        schema.picks_people,
        schema.picks_sent,
    )
    with engine.connect() as conn:
        return {
            team
            for table in tables
            for team in conn.execute(select(table.c.team).distinct()).scalars()
        }
