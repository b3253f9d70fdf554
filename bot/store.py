"""The library: the paper catalog and the per-user state, in TinyDB files.

"None of the callers deal directly with the file system": file safety is in `bot.storage`,
this module says what is stored. The catalog (`catalog/YYMM.json`, one shard per arXiv month,
plus `catalog/listings.json`) holds papers keyed by canonical arXiv id; the state
(`state.json`) holds saves, posted messages, the digest ledger, follows and seen event ids.
A save rewrites only the small state file, never the catalog.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from bot.models import PAPER_FIELDS, Paper
from bot.storage import AtomicJSONStorage, DataDirLock, StoreError

SCHEMA_VERSION = 1
CATALOG_DIR = "catalog"
LISTINGS_SHARD = "listings"  # catalog/listings.json: Daily Papers day -> paper ids
STATE_FILE = "state.json"
LOCK_FILE = ".papers.lock"
# Slack retries an event for about 5 minutes; a day of event ids is plenty to drop duplicates.
EVENT_MEMORY = timedelta(days=1)
# Counts that only rise over time: an older snapshot imported later must not lower them.
RISING_COUNTS = ("upvotes", "comments", "github_stars")
# Fields whose first value is kept: when we first saw the paper and where it came from.
FIRST_VALUE_WINS = ("first_seen", "source", "listed", "published")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KeyedTable(Table):
    """A TinyDB table keyed by our own string ids (paper ids, "user:paper", ...)."""

    document_id_class = str

    def _get_next_id(self) -> str:  # pragma: no cover - a programming error, not user input
        raise TypeError("KeyedTable documents are always written with an explicit key")

    def put_many(self, documents: dict[str, dict[str, Any]], remove: Iterable[str] = ()) -> None:
        """Insert or replace `documents` and drop `remove`, in one file write."""
        removed = list(remove)

        def updater(table: dict[str, Any]) -> None:
            table.update(documents)
            for key in removed:
                table.pop(key, None)

        # One _update_table call is one storage write: a whole batch lands atomically.
        self._update_table(updater)

    def raw(self) -> dict[str, dict[str, Any]]:
        """The table's documents as stored, read from memory; callers must not mutate them."""
        return self._read_table()


class KeyedTinyDB(TinyDB):
    table_class = KeyedTable


def _open_db(path: Path) -> KeyedTinyDB:
    return KeyedTinyDB(path, storage=AtomicJSONStorage)


def _check_schema(db: TinyDB, path: Path) -> None:
    meta = db.table("_meta").raw().get("schema")
    version = (meta or {}).get("version")
    if version is None:
        return
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version!r}, newer than this papers-bot understands "
            f"({SCHEMA_VERSION}); upgrade papers-bot or use another PAPERS_DATA_DIR"
        )


@dataclass
class UpsertResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return self.added + self.updated


def merge_paper(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Merge a fresh record into a known one without losing anything already known."""
    merged = dict(old)
    for name in PAPER_FIELDS:
        if name in ("id", "updated"):
            continue
        value = new.get(name)
        if value in (None, "", [], {}):
            continue
        if name in RISING_COUNTS:
            merged[name] = max(value, old.get(name) or 0)
        elif name in FIRST_VALUE_WINS and old.get(name):
            continue
        else:
            merged[name] = value
    return merged


def shard_of(paper_id: str) -> str:
    """The catalog shard of a paper: its arXiv YYMM (`2607` for 2607.28582), `old` otherwise.

    A Daily Papers day lists papers of the last weeks, so a day's ingest touches one or two
    small shards instead of rewriting the whole catalog.
    """
    head = paper_id.split(".", 1)[0]
    return head if len(head) == 4 and head.isdigit() else "old"


class Catalog:
    """The papers, sharded by arXiv month into TinyDB files under `catalog/`, loaded lazily."""

    def __init__(self, folder: Path, lock: DataDirLock):
        self.folder = folder
        self._lock = lock
        self._dbs: dict[str, KeyedTinyDB] = {}
        self._papers: dict[str, tuple[object, dict[str, Paper]]] = {}
        self._all: tuple[object, dict[str, Paper]] | None = None
        self._guard = threading.RLock()
        self.generation = 0  # bumped by every write from this process

    def _db(self, key: str) -> KeyedTinyDB:
        with self._guard:
            db = self._dbs.get(key)
            if db is None:
                db = self._dbs[key] = _open_db(self.folder / f"{key}.json")
            return db

    def keys(self) -> list[str]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(
            n[:-5]
            for n in names
            if n.endswith(".json") and not n.startswith(".") and n[:-5] != LISTINGS_SHARD
        )

    def signatures(self) -> dict[str, object]:
        """Shard -> signature; a signature changes whenever that shard file is replaced."""
        return {key: _file_signature(self.folder / f"{key}.json") for key in self.keys()}

    def shard(self, key: str) -> dict[str, Paper]:
        """The papers of one shard, from memory unless its file changed."""
        db = self._db(key)
        signature = db.storage.signature
        with self._guard:
            cached = self._papers.get(key)
            if cached is not None and cached[0] == signature:
                return cached[1]
            # Each shard's schema is checked when it is first read: opening a library reads no
            # shard at all, which keeps a new process's start fast at 100,000 papers.
            _check_schema(db, self.folder / f"{key}.json")
            raw = db.table("papers").raw()  # type: ignore[attr-defined]
            papers = {pid: Paper.from_record(rec) for pid, rec in raw.items()}
            # Keep the Paper objects, not also the parsed JSON: half the memory at 100,000
            # papers; a write to this shard re-reads its file (a few milliseconds).
            db.storage.forget()  # type: ignore[attr-defined]
            self._papers[key] = (signature, papers)
            return papers

    def get(self, paper_id: str) -> Paper | None:
        # A missing shard reads as empty: shard() stats the file once, no separate exists().
        return self.shard(shard_of(paper_id)).get(paper_id)

    def all(self) -> dict[str, Paper]:
        signatures = self.signatures()
        with self._guard:
            if self._all is not None and self._all[0] == signatures:
                return self._all[1]
            merged: dict[str, Paper] = {}
            for key in signatures:
                merged.update(self.shard(key))
            self._all = (signatures, merged)
            return merged

    def upsert_many(self, papers: Iterable[Paper], now: str) -> UpsertResult:
        by_shard: dict[str, list[Paper]] = {}
        for paper in papers:
            by_shard.setdefault(shard_of(paper.id), []).append(paper)
        result = UpsertResult()
        listed: dict[str, set[str]] = {}
        with self._lock.hold():
            self.folder.mkdir(exist_ok=True)
            for key, batch in sorted(by_shard.items()):
                self._upsert_shard(key, batch, now, result, listed)
            if listed:
                self._add_listings(listed)
        return result

    # -- listing days: a small secondary index, so trending and the digest never load every
    # shard to find the papers of a day ----------------------------------------------------

    def _listings(self) -> KeyedTable:
        return self._db(LISTINGS_SHARD).table("days")  # type: ignore[return-value]

    def _add_listings(self, listed: dict[str, set[str]]) -> None:
        days = self._listings()
        known = days.raw()
        changes = {
            day: {"ids": sorted(set(known.get(day, {}).get("ids", [])) | ids)}
            for day, ids in listed.items()
            if not ids <= set(known.get(day, {}).get("ids", []))
        }
        if changes:
            _put(self._db(LISTINGS_SHARD), "days", changes)

    def listing_days(self) -> dict[str, list[str]]:
        """Daily Papers day -> ids listed that day."""
        return {day: rec["ids"] for day, rec in self._listings().raw().items()}

    def _upsert_shard(
        self,
        key: str,
        batch: list[Paper],
        now: str,
        result: UpsertResult,
        listed: dict[str, set[str]],
    ) -> None:
        db = self._db(key)
        table = db.table("papers")
        known = table.raw()  # type: ignore[attr-defined]
        changes: dict[str, dict[str, Any]] = {}
        for paper in batch:
            record = paper.to_record()
            old = changes.get(paper.id) or known.get(paper.id)
            if old is None:
                record["first_seen"] = record.get("first_seen") or now
                record["updated"] = now
                changes[paper.id] = record
                result.added.append(paper.id)
                continue
            merged = merge_paper(old, record)
            if merged == old:
                if paper.id not in changes:
                    result.unchanged.append(paper.id)
                continue
            merged["updated"] = now
            if paper.id not in changes:
                result.updated.append(paper.id)
            changes[paper.id] = merged
        if not changes:
            return
        for paper_id, record in changes.items():
            if record.get("listed"):
                listed.setdefault(record["listed"], set()).add(paper_id)
        _put(db, "papers", changes)  # one write per shard
        self.generation += 1


def _put(db: KeyedTinyDB, table: str, changes: dict[str, dict[str, Any]]) -> None:
    """Write `changes` into `table` in one file write; a new file gets its schema in it too."""
    if db.storage.read() is None:
        db.storage.write({"_meta": {"schema": {"version": SCHEMA_VERSION}}, table: changes})
        db.table(table).clear_cache()
    else:
        db.table(table).put_many(changes)  # type: ignore[attr-defined]


def _file_signature(path: Path) -> object:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class Library:
    """The papers and the per-user state of one data dir. Thread- and process-safe."""

    def __init__(
        self,
        data_dir: str | Path,
        sample_data: bool = True,
        clock: Callable[[], str] = utc_now,
    ):
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the data dir {self.data_dir}: {error}") from error
        self.clock = clock
        self._lock = DataDirLock(self.data_dir / LOCK_FILE)
        self.catalog = Catalog(self.data_dir / CATALOG_DIR, self._lock)
        self._state_db = _open_db(self.data_dir / STATE_FILE)
        _check_schema(self._state_db, self.data_dir / STATE_FILE)
        with self._lock.hold():
            new = not (self.data_dir / CATALOG_DIR).exists()
            if new:
                (self.data_dir / CATALOG_DIR).mkdir()
            if self._state_db.storage.read() is None:
                self._state_db.table("_meta").put_many({"schema": {"version": SCHEMA_VERSION}})
            if new and sample_data:
                self.catalog.upsert_many(load_sample_papers(), self.clock())

    # -- the catalog --------------------------------------------------------------------

    def papers(self) -> dict[str, Paper]:
        """All papers by id (loads every shard the first time)."""
        return self.catalog.all()

    def get(self, paper_id: str) -> Paper | None:
        """One paper; loads only its shard."""
        return self.catalog.get(paper_id)

    def __len__(self) -> int:
        return len(self.papers())

    def listed_between(self, after: str, until: str) -> list[Paper]:
        """Papers whose Daily Papers day is in (after, until], loading only their shards."""
        ids = [
            paper_id
            for day, day_ids in self.catalog.listing_days().items()
            if after < day <= until
            for paper_id in day_ids
        ]
        return [p for p in (self.get(i) for i in ids) if p is not None]

    def listed_on(self, day: str) -> list[Paper]:
        ids = self.catalog.listing_days().get(day, [])
        return [p for p in (self.get(i) for i in ids) if p is not None]

    def latest_listing_day(self) -> str | None:
        days = self.catalog.listing_days()
        return max(days) if days else None

    def upsert_many(self, papers: Iterable[Paper]) -> UpsertResult:
        """Add or merge a batch: one atomic write per touched shard."""
        return self.catalog.upsert_many(papers, self.clock())

    # -- saves --------------------------------------------------------------------------

    def _state(self, name: str) -> KeyedTable:
        return self._state_db.table(name)  # type: ignore[return-value]

    def save(self, user: str, paper_id: str) -> bool:
        """Add the paper to the user's reading list; False if it was already there."""
        key = f"{user}:{paper_id}"
        with self._lock.hold():
            saves = self._state("saves")
            if key in saves.raw():
                return False
            saves.put_many({key: {"user": user, "paper": paper_id, "saved_at": self.clock()}})
            return True

    def unsave(self, user: str, paper_id: str) -> bool:
        """Remove the paper from the user's list; False if it was not there."""
        key = f"{user}:{paper_id}"
        with self._lock.hold():
            saves = self._state("saves")
            if key not in saves.raw():
                return False
            saves.put_many({}, remove=[key])
            return True

    def is_saved(self, user: str, paper_id: str) -> bool:
        return f"{user}:{paper_id}" in self._state("saves").raw()

    def saved(self, user: str) -> list[tuple[str, str]]:
        """(paper id, saved at) of the user's reading list, newest first."""
        rows = [
            (rec["paper"], rec["saved_at"])
            for rec in self._state("saves").raw().values()
            if rec.get("user") == user
        ]
        return sorted(rows, key=lambda row: row[1], reverse=True)

    # -- posted messages ----------------------------------------------------------------

    def record_post(self, channel: str, ts: str, paper_id: str, kind: str) -> None:
        """Remember that message (channel, ts) carries `paper_id`, so reactions can save it."""
        with self._lock.hold():
            self._state("posts").put_many(
                {
                    f"{channel}:{ts}": {
                        "channel": channel,
                        "ts": ts,
                        "paper": paper_id,
                        "kind": kind,
                        "posted_at": self.clock(),
                    }
                }
            )

    def paper_for_message(self, channel: str, ts: str) -> str | None:
        record = self._state("posts").raw().get(f"{channel}:{ts}")
        return record["paper"] if record else None

    # -- event ids ----------------------------------------------------------------------

    def first_sighting(self, event_id: str, now: datetime | None = None) -> bool:
        """Record `event_id`; True the first time it is seen, False for a retry."""
        now = now or datetime.now(UTC)
        with self._lock.hold():
            events = self._state("events")
            raw = events.raw()
            if event_id in raw:
                return False
            horizon = (now - EVENT_MEMORY).timestamp()
            stale = [key for key, rec in raw.items() if rec.get("at", 0) < horizon]
            events.put_many({event_id: {"at": now.timestamp()}}, remove=stale)
            return True

    # -- generic state, for features that keep a small keyed table ------------------------

    def state_rows(self, table: str) -> dict[str, dict[str, Any]]:
        return self._state(table).raw()

    def put_state(
        self, table: str, rows: dict[str, dict[str, Any]], remove: Iterable[str] = ()
    ) -> None:
        with self._lock.hold():
            self._state(table).put_many(rows, remove)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the data-dir lock across several reads and writes (read-modify-write)."""
        with self._lock.hold():
            yield


def load_sample_papers() -> list[Paper]:
    """The built-in sample library shipped inside the package."""
    text = resources.files("bot.data").joinpath("sample_papers.jsonl").read_text("utf-8")
    return [Paper.from_record(json.loads(line)) for line in text.splitlines() if line.strip()]
