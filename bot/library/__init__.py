"""The library of one data dir: the paper catalog and the per-user state, in TinyDB files.

"None of the callers deal directly with the file system": file safety is in `storage`, the
catalog's shards in `catalog`, each state table in `state`. This module opens them together:

- `catalog/YYMM.json` (one shard per arXiv month) and `catalog/listings.json`: the papers;
- `state.json`: saves, paper messages, the digest ledger, follows and seen event ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from bot.library.catalog import Catalog, UpsertResult, merge_paper, shard_of
from bot.library.state import DigestLedger, Follows, PaperMessages, Saves, SeenEvents
from bot.library.storage import DataDirLock, StoreError, StoreWriteError, exclusive
from bot.library.tables import SCHEMA_VERSION, check_schema, open_db
from bot.models import Paper

CATALOG_DIR = "catalog"
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
        self.catalog = Catalog(self.data_dir / CATALOG_DIR, self._lock)
        state_db = open_db(self.data_dir / STATE_FILE)
        check_schema(state_db, self.data_dir / STATE_FILE)
        self.saves = Saves(state_db, self._lock, clock)
        self.messages = PaperMessages(state_db, self._lock, clock)
        self.ledger = DigestLedger(state_db, self._lock, clock)
        self.follows = Follows(state_db, self._lock, clock)
        self.events = SeenEvents(state_db, self._lock, clock)
        with self._lock.hold():
            new = not (self.data_dir / CATALOG_DIR).exists()
            if new:
                (self.data_dir / CATALOG_DIR).mkdir()
            if state_db.atomic_storage.read() is None:
                state_db.keyed("_meta").put_many({"schema": {"version": SCHEMA_VERSION}})
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
        found = (self.get(paper_id) for paper_id, _ in self.saves.of_user(user))
        return [p for p in found if p is not None]

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


def load_sample_papers() -> list[Paper]:
    """The built-in sample library shipped inside the package."""
    text = resources.files("bot.data").joinpath("sample_papers.jsonl").read_text("utf-8")
    return [Paper.from_record(json.loads(line)) for line in text.splitlines() if line.strip()]


__all__ = [
    "CATALOG_DIR",
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
