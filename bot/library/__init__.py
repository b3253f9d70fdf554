"""The library of one data dir: the paper catalog (SQLite) and the per-user state (TinyDB).

"None of the callers deal directly with the file system": file safety is in `storage`, the
catalog in `catalog`, each state table in `state`. This module opens them together:

- `catalog.sqlite3`: the papers and the Daily Papers listing days, with a change feed;
- `state.json`: saves, paper messages, the digest ledger, follows and seen event ids.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from bot.library.catalog import (
    CATALOG_FILE,
    OLD_CATALOG_DIR,
    Catalog,
    Change,
    UpsertResult,
    merge_paper,
    shard_of,
)
from bot.library.state import DigestLedger, Follows, PaperMessages, Saves, SeenEvents
from bot.library.storage import DamagedFile, DataDirLock, StoreError, StoreWriteError, exclusive
from bot.library.tables import SCHEMA_VERSION, check_schema, open_db
from bot.models import Paper

log = logging.getLogger(__name__)
STATE_FILE = "state.json"
LOCK_FILE = ".papers.lock"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Library:
    """The papers and the per-user state of one data dir. Thread- and process-safe."""

    def __init__(
        self,
        data_dir: str | Path,
        sample_data: bool = True,
        clock: Callable[[], str] = utc_now,
    ):
        self.data_dir = Path(data_dir)
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise StoreError(
                f"the data dir {self.data_dir} is a file, not a folder: set PAPERS_DATA_DIR to "
                "a folder (it is created if missing)"
            )
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = error.strerror or str(error)
            raise StoreError(f"cannot create the data dir {self.data_dir}: {reason}") from error
        self.clock = clock
        self._lock = DataDirLock(self.data_dir / LOCK_FILE)
        self.catalog = Catalog(self.data_dir / CATALOG_FILE, self._lock)
        state_db = open_db(self.data_dir / STATE_FILE)
        check_schema(state_db, self.data_dir / STATE_FILE)
        self.saves = Saves(state_db, self._lock, clock)
        self.messages = PaperMessages(state_db, self._lock, clock)
        self.ledger = DigestLedger(state_db, self._lock, clock)
        self.follows = Follows(state_db, self._lock, clock)
        self.events = SeenEvents(state_db, self._lock, clock)
        with self._lock.hold():
            new = not self.catalog.exists()
            if state_db.atomic_storage.read() is None:
                state_db.keyed("_meta").put_many({"schema": {"version": SCHEMA_VERSION}})
            if new and (self.data_dir / OLD_CATALOG_DIR).is_dir():
                _move_month_files(self.data_dir / OLD_CATALOG_DIR, self.catalog)
            elif new and sample_data:
                self.catalog.upsert_many(load_sample_papers(), self.clock())

    # -- the catalog --------------------------------------------------------------------

    def papers(self) -> dict[str, Paper]:
        """All papers by id: reads the whole catalog (exports, tests; never while serving)."""
        return self.catalog.all()

    def get(self, paper_id: str) -> Paper | None:
        """One paper, by canonical id."""
        return self.catalog.get(paper_id)

    def get_many(self, paper_ids: Iterable[str]) -> list[Paper]:
        """The papers of `paper_ids` that the library has, in the order asked."""
        ids = list(paper_ids)
        found = self.catalog.get_many(ids)
        return [found[i] for i in ids if i in found]

    def __len__(self) -> int:
        return self.catalog.count()

    def listed_between(self, after: str, until: str) -> list[Paper]:
        """Papers whose Daily Papers day is in (after, until]."""
        return self.get_many(self.catalog.listed_ids(after, until))

    def listed_on(self, day: str) -> list[Paper]:
        return self.get_many(self.catalog.listed_ids_on(day))

    def latest_listing_day(self) -> str | None:
        return self.catalog.latest_listing_day()

    def latest_listing(self) -> tuple[str | None, list[Paper]]:
        """The latest Daily Papers day in the library and its papers, most upvoted first."""
        day = self.latest_listing_day()
        if day is None:
            return None, []
        return day, sorted(self.listed_on(day), key=lambda p: (-p.upvotes, p.id))

    def upsert_many(self, papers: Iterable[Paper]) -> UpsertResult:
        """Add or merge a batch: one atomic write per touched shard."""
        return self.catalog.upsert_many(papers, self.clock())

    def missing_parts(self) -> list[str]:
        """What was set aside as damaged since this process started ("arXiv month 26-07")."""
        return sorted(self.catalog.damaged.values())

    def saved_papers(self, user: str) -> list[Paper]:
        """The user's reading list as papers, newest save first."""
        return self.get_many(paper_id for paper_id, _ in self.saves.of_user(user))

    @contextmanager
    def run_alone(self, job: str) -> Iterator[bool]:
        """Yields True when no other thread or process runs `job` on this data dir now."""
        name = re.sub(r"[^A-Za-z0-9_-]", "_", job)[:100]
        with exclusive(self.data_dir / f".{name}.lock") as alone:
            yield alone

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the data-dir lock across several reads and writes (read-modify-write)."""
        with self._lock.hold():
            yield


def _move_month_files(folder: Path, catalog: Catalog) -> None:
    """A data dir of an older release: its JSON month files go into the SQLite catalog as they
    are (ids, `first_seen`, `updated` kept), then the folder is renamed, never deleted."""
    records: list[dict] = []
    listings: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            db = open_db(path)
            if path.stem == "listings":
                listings = {day: list(rec["ids"]) for day, rec in db.keyed("days").raw().items()}
            else:
                records.extend(r for r in db.keyed("papers").raw().values() if r.get("id"))
        except (DamagedFile, TypeError, KeyError, AttributeError) as error:
            log.error("%s could not be read (%s); it stays in %s", path, error, folder)
    catalog.import_records(records, listings)
    moved = folder.with_name(f"{folder.name}.before-sqlite")
    os.replace(folder, moved)
    log.info(
        "moved %d papers from %s into %s; the old files are in %s",
        len(records),
        folder,
        catalog.path,
        moved,
    )


def load_sample_papers() -> list[Paper]:
    """The built-in sample library shipped inside the package."""
    text = resources.files("bot.data").joinpath("sample_papers.jsonl").read_text("utf-8")
    return [Paper.from_record(json.loads(line)) for line in text.splitlines() if line.strip()]


__all__ = [
    "CATALOG_FILE",
    "Change",
    "SCHEMA_VERSION",
    "STATE_FILE",
    "Library",
    "StoreError",
    "StoreWriteError",
    "UpsertResult",
    "load_sample_papers",
    "merge_paper",
    "shard_of",
]
