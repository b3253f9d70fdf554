"""TinyDB tables keyed by our own ids, in our atomic storage, with a schema version per file;
`FileRows`, the state tables' `KeyedRows` on them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from bot.library.rows import Row, matches
from bot.library.storage import AtomicJSONStorage, DataDirLock, StoreError

SCHEMA_VERSION = 1

Rows = dict[str, dict[str, Any]]


class KeyedTable(Table):
    """A TinyDB table keyed by our own string ids (paper ids, "user:paper", ...)."""

    # TinyDB types ids as int; string keys are what TinyDB documents for custom ids.
    document_id_class = str  # type: ignore[assignment]

    def _get_next_id(self) -> str:  # pragma: no cover - a programming error, not user input
        raise TypeError("KeyedTable documents are always written with an explicit key")

    def put_many(self, documents: Rows, remove: Iterable[str] = ()) -> None:
        """Insert or replace `documents` and drop `remove`, in one file write."""
        removed = list(remove)

        def updater(table: dict[str, Any]) -> None:
            table.update(documents)
            for key in removed:
                table.pop(key, None)

        # One _update_table call is one storage write: a whole batch lands atomically.
        self._update_table(updater)  # type: ignore[arg-type]

    def raw(self) -> Rows:
        """The table's documents as stored, read from memory; callers must not mutate them."""
        return self._read_table()  # type: ignore[return-value]


class KeyedTinyDB(TinyDB):
    table_class = KeyedTable

    def keyed(self, name: str) -> KeyedTable:
        return self.table(name)  # type: ignore[return-value]

    @property
    def atomic_storage(self) -> AtomicJSONStorage:
        return self.storage  # type: ignore[return-value]


def open_db(path: Path) -> KeyedTinyDB:
    return KeyedTinyDB(path, storage=AtomicJSONStorage)


def check_schema(db: KeyedTinyDB, path: Path) -> None:
    """Refuse a file written by a newer papers-bot, with a message that says what to do."""
    meta = db.keyed("_meta").raw().get("schema")
    version = (meta or {}).get("version")
    if version is None:
        return
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version!r}, newer than this papers-bot understands "
            f"({SCHEMA_VERSION}); upgrade papers-bot or use another PAPERS_DATA_DIR"
        )


def put_rows(db: KeyedTinyDB, table: str, changes: Rows) -> None:
    """Write `changes` into `table` in one file write; a new file gets its schema in it too."""
    if db.atomic_storage.read() is None:
        db.atomic_storage.write({"_meta": {"schema": {"version": SCHEMA_VERSION}}, table: changes})
        db.table(table).clear_cache()
    else:
        db.keyed(table).put_many(changes)


class FileRows:
    """`KeyedRows` in a TinyDB table of one state file: the key is the key fields joined by
    ':' (`user:paper`), every write one atomic file write under the data-dir lock."""

    def __init__(self, db: KeyedTinyDB, lock: DataDirLock, name: str, key: tuple[str, ...]):
        self._db, self._lock = db, lock
        self.name, self.key = name, key

    def _table(self) -> KeyedTable:
        return self._db.keyed(self.name)

    def _rows(self) -> Rows:
        return self._table().raw()

    def _key_of(self, row: Row) -> str:
        return ":".join(str(row[field]) for field in self.key)

    def get(self, *key: str) -> Row | None:
        found = self._rows().get(":".join(key))
        return dict(found) if found is not None else None

    def where(self, **equal: Any) -> list[Row]:
        return [dict(row) for row in self._rows().values() if matches(row, equal)]

    def at_least(self, field: str, value: Any) -> list[Row]:
        return [dict(row) for row in self._rows().values() if row.get(field, value) >= value]

    def last(self, order: tuple[str, ...], present: str | None = None, **equal: Any) -> Row | None:
        rows = [r for r in self.where(**equal) if present is None or r.get(present)]
        return max(rows, key=lambda r: tuple(r.get(f) or "" for f in order), default=None)

    def put(self, row: Row) -> None:
        with self._lock.hold():
            self._table().put_many({self._key_of(row): dict(row)})

    def add_once(self, row: Row) -> bool:
        return self.add_many_once([row]) == 1

    def add_many_once(self, rows: list[Row]) -> int:
        with self._lock.hold():
            known = self._rows()
            new: Rows = {}
            for row in rows:
                key = self._key_of(row)
                if key not in known and key not in new:
                    new[key] = dict(row)
            if new:
                self._table().put_many(new)
            return len(new)

    def change(self, *key: str, **fields: Any) -> bool:
        with self._lock.hold():
            found = self._rows().get(":".join(key))
            if found is None:
                return False
            self._table().put_many({":".join(key): dict(found) | fields})
            return True

    def remove(self, *key: str) -> bool:
        return self._drop(lambda k, row: k == ":".join(key)) == 1

    def remove_where(self, **equal: Any) -> int:
        return self._drop(lambda k, row: matches(row, equal))

    def remove_below(self, field: str, value: Any) -> int:
        return self._drop(lambda k, row: row.get(field, value) < value)

    def _drop(self, gone: Callable[[str, Row], bool]) -> int:
        with self._lock.hold():
            keys = [key for key, row in self._rows().items() if gone(key, row)]
            if keys:
                self._table().put_many({}, remove=keys)
            return len(keys)
