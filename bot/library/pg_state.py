"""`KeyedRows` on PostgreSQL: the state tables of `state.py`, every user and channel scoped by
its workspace (`team`).

Uniqueness lives in primary keys, so two replicas racing to save the same paper, to handle
the same retried event or to post the same digest card cannot both win: the insert that
loses conflicts, and says so. Columns are the shared shape's fields, except `user_id` and
`paper_id` (SQL keywords and the old schema's names) for `user` and `paper`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from bot.library import pg_schema as schema
from bot.library.rows import Row

COLUMN_OF = {"user": "user_id", "paper": "paper_id"}  # shared shape -> column
FIELD_OF = {column: field for field, column in COLUMN_OF.items()}
HIDDEN = ("team", "n")  # the workspace a row belongs to, and insertion order


class PgRows:
    """One state table, as workspace `team` sees it; `team=None`: a table of every
    workspace (each workspace's digest setting, where `team` is a field of the row) or of
    none (the event ids Slack retries)."""

    def __init__(self, engine: Engine, name: str, key: tuple[str, ...], team: str | None):
        self.engine, self.name, self.key = engine, name, key
        self.table: Table = getattr(schema, name)
        self.team = team

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with (
            schema.translated_errors("the reading lists, follows and digests", write),
            self.engine.begin() if write else self.engine.connect() as conn,
        ):
            yield conn

    def _column(self, field: str) -> Any:
        return self.table.c[COLUMN_OF.get(field, field)]

    def _scope(self) -> list[ColumnElement[bool]]:
        return [self.table.c.team == self.team] if self.team is not None else []

    def _where(self, equal: dict[str, Any]) -> list[ColumnElement[bool]]:
        tests = [
            self._column(f).is_(None) if v is None else self._column(f) == v
            for f, v in equal.items()
        ]
        return self._scope() + tests

    def _keyed(self, key: tuple[str, ...]) -> list[ColumnElement[bool]]:
        return self._where(dict(zip(self.key, key, strict=True)))

    def _row(self, found: Any) -> Row:
        return {
            FIELD_OF.get(column, column): value
            for column, value in found._asdict().items()
            if column not in HIDDEN or (column == "team" and self.team is None)
        }

    def _columns(self, row: Row) -> dict[str, Any]:
        columns = {COLUMN_OF.get(f, f): v for f, v in row.items()}
        columns = {c: v for c, v in columns.items() if c in self.table.c and c != "n"}
        return columns | ({"team": self.team} if self.team is not None else {})

    def _order(self) -> list[Any]:
        if "n" in self.table.c:
            return [self.table.c.n]
        return list(self.table.primary_key)

    def get(self, *key: str) -> Row | None:
        with self._conn() as conn:
            found = conn.execute(select(self.table).where(*self._keyed(key))).first()
        return self._row(found) if found is not None else None

    def where(self, **equal: Any) -> list[Row]:
        query = select(self.table).where(*self._where(equal)).order_by(*self._order())
        with self._conn() as conn:
            return [self._row(found) for found in conn.execute(query)]

    def at_least(self, field: str, value: Any) -> list[Row]:
        tests = [*self._scope(), self._column(field) >= value]
        query = select(self.table).where(*tests).order_by(*self._order())
        with self._conn() as conn:
            return [self._row(found) for found in conn.execute(query)]

    def last(self, order: tuple[str, ...], present: str | None = None, **equal: Any) -> Row | None:
        tests = self._where(equal)
        if present is not None:
            tests.append(self._column(present).is_not(None))
        ordered = [self._column(f).desc() for f in order]
        with self._conn() as conn:
            found = conn.execute(select(self.table).where(*tests).order_by(*ordered).limit(1))
            row = found.first()
        return self._row(row) if row is not None else None

    def put(self, row: Row) -> None:
        columns = self._columns(row)
        keys = [c.name for c in self.table.primary_key]
        changes = {c: v for c, v in columns.items() if c not in keys}
        statement = insert(self.table).values(columns)
        if changes:
            statement = statement.on_conflict_do_update(index_elements=keys, set_=changes)
        else:
            statement = statement.on_conflict_do_nothing()
        with self._conn(write=True) as conn:
            conn.execute(statement)

    def add_once(self, row: Row) -> bool:
        return self.add_many_once([row]) == 1

    def add_many_once(self, rows: list[Row]) -> int:
        if not rows:
            return 0
        # RETURNING, not rowcount: a driver may report -1 rows for an INSERT.
        statement = insert(self.table).on_conflict_do_nothing().returning(*self.table.primary_key)
        with self._conn(write=True) as conn:
            return len(conn.execute(statement, [self._columns(r) for r in rows]).all())

    def change(self, *key: str, **fields: Any) -> bool:
        values = {COLUMN_OF.get(f, f): v for f, v in fields.items()}
        statement = update(self.table).where(*self._keyed(key)).values(**values)
        with self._conn(write=True) as conn:
            return bool(conn.execute(statement).rowcount)

    def remove(self, *key: str) -> bool:
        return self._delete(self._keyed(key)) > 0

    def remove_where(self, **equal: Any) -> int:
        return self._delete(self._where(equal))

    def remove_below(self, field: str, value: Any) -> int:
        return self._delete([*self._scope(), self._column(field) < value])

    def _delete(self, tests: list[ColumnElement[bool]]) -> int:
        with self._conn(write=True) as conn:
            return int(conn.execute(delete(self.table).where(*tests)).rowcount)


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
