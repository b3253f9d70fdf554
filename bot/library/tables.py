"""TinyDB tables keyed by our own ids, in our atomic storage, with a schema version per file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from bot.library.storage import AtomicJSONStorage, StoreError

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
