"""The library of one data dir: the paper catalog (SQLite) and the per-user state (TinyDB).

"None of the callers deal directly with the file system": file safety is in `storage`, the
catalog in `catalog`, each state table in `state`. This module opens them together:

- `catalog.sqlite3`: the papers and the Daily Papers listing days, with a change feed;
- `state.json`: saves, paper messages, the digest ledger, follows and seen event ids, and
  each workspace's digest setting; in multi-workspace mode, `state-T0123.json` holds the same
  per-user and per-channel tables of workspace T0123.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import threading
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
from bot.library.state import (
    ChannelDigests,
    CitationAlerts,
    DigestLedger,
    Follows,
    OpenRows,
    PaperMessages,
    Saves,
    SeenEvents,
    Shares,
    Spec,
    Tastes,
)
from bot.library.storage import DamagedFile, DataDirLock, StoreError, StoreWriteError, exclusive
from bot.library.stores import CatalogStore
from bot.library.tables import SCHEMA_VERSION, FileRows, KeyedTinyDB, check_schema, open_db
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
        database_url: str | None = None,
    ):
        """`data_dir` holds the search index and, without `database_url`, everything else;
        with it, the catalog and the state are in that PostgreSQL database."""
        self.data_dir = Path(data_dir)
        _make_data_dir(self.data_dir)
        self.clock = clock
        self.database_url = database_url
        self.team = ""  # the workspace whose state this view holds; see `for_team`
        self._root = self
        self._teams: dict[str, Library] = {}
        self._teams_lock = threading.Lock()
        self._lock = DataDirLock(self.data_dir / LOCK_FILE)
        if database_url:
            self._open_database(database_url, sample_data)
        else:
            self._open_files(sample_data)

    def _open_files(self, sample_data: bool) -> None:
        catalog = Catalog(self.data_dir / CATALOG_FILE, self._lock)
        self.catalog: CatalogStore = catalog
        state_db = self._bind_file_state("")
        self.channel_digests = ChannelDigests(self._file_rows(state_db), self.clock)
        with self._lock.hold():
            new = not catalog.exists()
            if new and (self.data_dir / OLD_CATALOG_DIR).is_dir():
                _move_month_files(self.data_dir / OLD_CATALOG_DIR, catalog)
            elif new and sample_data:
                catalog.upsert_many(load_sample_papers(), self.clock())

    def _bind_file_state(self, team: str) -> KeyedTinyDB:
        """The state stores of `team`, each workspace in a file of its own (token mode's
        only workspace, "", in state.json, as before workspaces existed)."""
        path = self.data_dir / state_file_of(team)
        state_db = open_db(path)
        check_schema(state_db, path)
        with self._lock.hold():
            if state_db.atomic_storage.read() is None:
                state_db.keyed("_meta").put_many({"schema": {"version": SCHEMA_VERSION}})
        self._bind_state(self._file_rows(state_db), team)
        return state_db

    def _file_rows(self, state_db: KeyedTinyDB) -> OpenRows:
        return lambda name, spec: FileRows(state_db, self._lock, name, spec.key)

    def _bind_state(self, open_rows: OpenRows, team: str) -> None:
        """The state tables of `team`, their rules in `state.py`, their rows in `open_rows`."""
        self.saves = Saves(open_rows, self.clock, team)
        self.messages = PaperMessages(open_rows, self.clock, team)
        self.ledger = DigestLedger(open_rows, self.clock, team)
        self.follows = Follows(open_rows, self.clock, team)
        self.events = SeenEvents(open_rows, self.clock, team)
        self.tastes = Tastes(open_rows, self.clock, team)
        self.shares = Shares(open_rows, self.clock, team)
        self.citation_alerts = CitationAlerts(open_rows, self.clock, team)

    def _open_database(self, url: str, sample_data: bool) -> None:
        from bot.library import pg_schema
        from bot.library.pg_catalog import PgCatalog

        engine = pg_schema.connect(url)
        pg_schema.upgrade_or_explain(engine, self.clock())
        self.engine = engine
        catalog = PgCatalog(engine)
        self.catalog = catalog
        self._bind_database_state("")
        self.channel_digests = ChannelDigests(self._database_rows(""), self.clock)
        if not catalog.exists():
            catalog.create()
            if sample_data and catalog.count() == 0:
                catalog.upsert_many(load_sample_papers(), self.clock())

    def _bind_database_state(self, team: str) -> None:
        self._bind_state(self._database_rows(team), team)

    def _database_rows(self, team: str) -> OpenRows:
        from bot.library.pg_state import PgRows

        def open_rows(name: str, spec: Spec) -> PgRows:
            return PgRows(self.engine, name, spec.key, team if spec.per_team else None)

        return open_rows

    # -- workspaces -----------------------------------------------------------------------

    def for_team(self, team: str) -> Library:
        """This library seen from one Slack workspace: the same catalog, that workspace's
        saves, follows, posted messages, digest ledger and seen events (made once, kept)."""
        root = self._root
        if team == root.team:
            return root
        with root._teams_lock:
            scoped = root._teams.get(team)
            if scoped is None:
                scoped = copy.copy(root)
                scoped.team = team
                if root.database_url:
                    scoped._bind_database_state(team)
                else:
                    scoped._bind_file_state(team)
                root._teams[team] = scoped
        return scoped

    def teams(self) -> list[str]:
        """Every workspace with state or a digest setting in this library ("" first: token
        mode's)."""
        if self.database_url:
            from bot.library.pg_state import teams_with_state

            found = set(teams_with_state(self.engine))
        else:
            found = {p.name[len(TEAM_STATE_PREFIX) : -5] for p in self._team_state_files()}
        found |= {row["team"] for row in self.channel_digests.all()}
        return [""] + sorted(found - {""})

    def _team_state_files(self) -> list[Path]:
        return sorted(self.data_dir.glob(f"{TEAM_STATE_PREFIX}*.json"))

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

    def papers_carried_by(self, channel: str, ts: str) -> list[Paper]:
        """The papers of message (channel, ts), as the bot knows them: a card it posted, or a
        person's message whose paper links it unfurled."""
        posted = self.messages.paper_for(channel, ts)
        return self.get_many([posted] if posted else self.shares.papers_in(channel, ts))

    def saved_papers(self, user: str) -> list[Paper]:
        """The user's reading list as papers, newest save first."""
        return self.get_many(paper_id for paper_id, _ in self.saves.of_user(user))

    @contextmanager
    def run_alone(self, job: str) -> Iterator[bool]:
        """Yields True when no other thread, process or replica runs `job` now."""
        if self.database_url:
            from bot.library.pg_locks import advisory_lock

            with advisory_lock(self.database_url, f"papers-bot job {job}") as alone:
                yield alone
            return
        name = re.sub(r"[^A-Za-z0-9_-]", "_", job)[:100]
        with exclusive(self.data_dir / f".{name}.lock") as alone:
            yield alone

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the data-dir lock across several reads and writes (read-modify-write). The
        database needs none: each of its writes is a transaction, its keys are unique."""
        if self.database_url:
            yield
            return
        with self._lock.hold():
            yield


TEAM_STATE_PREFIX = "state-"


def state_file_of(team: str) -> str:
    """The state file of a workspace: state.json for token mode's "", state-T0123.json for
    a workspace id (Slack's ids are letters and digits; anything else is refused)."""
    if team == "":
        return STATE_FILE
    if not re.fullmatch(r"[A-Z0-9]{1,40}", team):
        raise ValueError(f"{team!r} is not a Slack workspace id")
    return f"{TEAM_STATE_PREFIX}{team}.json"


def _make_data_dir(data_dir: Path) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(
            f"the data dir {data_dir} is a file, not a folder: set PAPERS_DATA_DIR to "
            "a folder (it is created if missing)"
        )
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or str(error)
        raise StoreError(f"cannot create the data dir {data_dir}: {reason}") from error


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
