"""The one storage interface every state table is written against: `KeyedRows`.

A state table (saves, follows, the digest ledger, ...) is rows of named fields, one row per
key (some of its fields). Its rules (what a save is, when a digest card is claimed) are
written once in `state.py`, over this interface; two backends implement it: `FileRows`
(`tables.py`: a TinyDB table in the workspace's state file, under the data-dir lock) and
`PgRows` (`pg_state.py`: a PostgreSQL table, scoped by workspace, uniqueness in its primary
key). Rows come and go in the backends' shared shape (`user`, `paper`, ... no `team`), the
shape `papers-bot db copy` moves.
"""

from __future__ import annotations

from typing import Any, Protocol

Row = dict[str, Any]


class KeyedRows(Protocol):
    """The rows of one state table, as one workspace sees them."""

    name: str  # the table's name, the same in state.json and in PostgreSQL
    key: tuple[str, ...]  # the fields that make a row's key

    def get(self, *key: str) -> Row | None:
        """The row with this key, or None."""
        ...

    def where(self, **equal: Any) -> list[Row]:
        """The rows whose fields equal these (None: the field is empty), oldest first."""
        ...

    def at_least(self, field: str, value: Any) -> list[Row]:
        """The rows whose `field` is `value` or more (a week of shares), in written order."""
        ...

    def last(self, order: tuple[str, ...], present: str | None = None, **equal: Any) -> Row | None:
        """Of the rows matching `equal` (and with `present` set), the one greatest in `order`."""
        ...

    def put(self, row: Row) -> None:
        """Write `row`, replacing the row with its key."""
        ...

    def add_once(self, row: Row) -> bool:
        """Write `row` unless its key is there, atomically; False when it was."""
        ...

    def add_many_once(self, rows: list[Row]) -> int:
        """`add_once` for many rows in one write; how many were added."""
        ...

    def change(self, *key: str, **fields: Any) -> bool:
        """Set these fields of the row with this key, atomically; False when there is none."""
        ...

    def remove(self, *key: str) -> bool:
        """Drop the row with this key; False when there was none."""
        ...

    def remove_where(self, **equal: Any) -> int:
        """Drop the rows whose fields equal these; how many."""
        ...

    def remove_below(self, field: str, value: Any) -> int:
        """Drop the rows whose `field` is less than `value`; how many."""
        ...


def matches(row: Row, equal: dict[str, Any]) -> bool:
    return all(row.get(field) == value for field, value in equal.items())
