"""The paper catalog: papers keyed by canonical arXiv id, sharded by arXiv month.

`catalog/YYMM.json` holds the papers of one arXiv month (`old.json` the old-style ids) and
`catalog/listings.json` maps each Daily Papers day to its paper ids. Shards are read lazily, so
opening a library reads none, and a day's ingest rewrites one or two small shards.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.library.storage import DamagedFile, DataDirLock, file_signature
from bot.library.tables import KeyedTable, KeyedTinyDB, check_schema, open_db, put_rows
from bot.models import PAPER_FIELDS, Paper

log = logging.getLogger(__name__)
LISTINGS_SHARD = "listings"  # catalog/listings.json: Daily Papers day -> paper ids
# Counts that only rise over time: an older snapshot imported later must not lower them.
RISING_COUNTS = ("upvotes", "comments", "github_stars")
# Fields whose first value is kept: when we first saw the paper and where it came from.
FIRST_VALUE_WINS = ("first_seen", "source", "listed", "published")


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


def _fold_duplicates(batch: list[Paper]) -> dict[str, tuple[dict[str, Any], int]]:
    """Paper id -> (its rows merged in order, how many rows). Two rows for one paper in one
    batch become one record before it meets the stored one, so re-importing the same file
    finds nothing to change."""
    folded: dict[str, tuple[dict[str, Any], int]] = {}
    for paper in batch:
        record = paper.to_record()
        if paper.id in folded:
            earlier, rows = folded[paper.id]
            folded[paper.id] = (merge_paper(earlier, record), rows + 1)
        else:
            folded[paper.id] = (record, 1)
    return folded


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
        self.damaged: dict[str, str] = {}  # shard set aside -> what is missing, for users

    def _db(self, key: str) -> KeyedTinyDB:
        with self._guard:
            db = self._dbs.get(key)
            if db is None:
                db = self._dbs[key] = open_db(self.folder / f"{key}.json")
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
        return {key: file_signature(self.folder / f"{key}.json") for key in self.keys()}

    def shard(self, key: str) -> dict[str, Paper]:
        """The papers of one shard, from memory unless its file changed."""
        db = self._db(key)
        signature = db.atomic_storage.signature
        with self._guard:
            cached = self._papers.get(key)
            if cached is not None and cached[0] == signature:
                return cached[1]
            try:
                papers = self._read_shard(db, key)
            except DamagedFile as error:
                damage = str(error)
            except (TypeError, ValueError, AttributeError, KeyError) as error:
                damage = f"its records are not papers ({type(error).__name__}: {error})"
            else:
                current = db.atomic_storage.signature
                if current == signature:  # not replaced while we read it
                    self._papers[key] = (current, papers)
                return papers
        # Outside the guard: setting aside takes the data-dir lock, and a writer holding that
        # lock may be waiting for the guard.
        self._set_aside(key, signature, damage)
        with self._guard:
            if db.atomic_storage.signature is None:  # set aside: the month reads as empty
                self._papers[key] = (None, {})
        return {}

    def _read_shard(self, db: KeyedTinyDB, key: str) -> dict[str, Paper]:
        # Each shard's schema is checked when it is first read: opening a library reads no
        # shard at all, which keeps a new process's start fast at 100,000 papers.
        check_schema(db, self.folder / f"{key}.json")
        raw = db.keyed("papers").raw()
        papers = {str(pid): Paper.from_record(rec) for pid, rec in raw.items()}
        # Keep the Paper objects, not also the parsed JSON: half the memory at 100,000
        # papers; a write to this shard re-reads its file (a few milliseconds).
        db.atomic_storage.forget()
        return papers

    def _set_aside(self, key: str, signature: object, reason: str) -> None:
        """Move a damaged shard out of the way (renamed, never deleted) and serve the rest.

        The operator is told once, with the month that is missing and how to restore it.
        """
        path = self.folder / f"{key}.json"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")  # two in a second never collide
        aside = path.with_name(f"{path.name}.damaged-{stamp}")
        with self._lock.hold():
            self._db(key).atomic_storage.forget()
            if file_signature(path) != signature:
                return  # replaced by another process meanwhile: read again next time
            try:
                os.replace(path, aside)
                where = f"moved to {aside}"
            except OSError as error:
                where = f"left in place, it could not be moved ({error.strerror or error})"
        month = "old-style ids" if key == "old" else f"arXiv month {key[:2]}-{key[2:]}"
        if key == LISTINGS_SHARD:
            month = "the Daily Papers listing days"
        self.damaged[key] = month
        log.error(
            "%s is damaged (%s); %s. The rest of the library serves; %s is missing until you "
            "restore it: `papers-bot import` a backup of those papers, or `papers-bot fetch` "
            "their days again.",
            path,
            reason,
            where,
            month,
        )

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
        return self._db(LISTINGS_SHARD).keyed("days")

    def _add_listings(self, listed: dict[str, set[str]]) -> None:
        days = self._listings()
        known = days.raw()
        changes = {
            day: {"ids": sorted(set(known.get(day, {}).get("ids", [])) | ids)}
            for day, ids in listed.items()
            if not ids <= set(known.get(day, {}).get("ids", []))
        }
        if changes:
            put_rows(self._db(LISTINGS_SHARD), "days", changes)

    def listing_days(self) -> dict[str, list[str]]:
        """Daily Papers day -> ids listed that day (empty, and set aside, when damaged)."""
        signature = self._db(LISTINGS_SHARD).atomic_storage.signature
        try:
            return {str(day): list(rec["ids"]) for day, rec in self._listings().raw().items()}
        except (DamagedFile, TypeError, KeyError, AttributeError) as error:
            self._set_aside(LISTINGS_SHARD, signature, str(error))
            return {}

    def _upsert_shard(
        self,
        key: str,
        batch: list[Paper],
        now: str,
        result: UpsertResult,
        listed: dict[str, set[str]],
    ) -> None:
        db = self._db(key)
        try:
            known = db.keyed("papers").raw()
            if not isinstance(known, dict) or not all(isinstance(r, dict) for r in known.values()):
                raise DamagedFile(
                    f"{self.folder / f'{key}.json'} holds records that are not papers"
                )
        except DamagedFile as error:  # set aside, as a reader would; the batch starts it anew
            self._set_aside(key, db.atomic_storage.signature, str(error))
            known = {}
        changes: dict[str, dict[str, Any]] = {}
        for paper_id, (record, rows) in _fold_duplicates(batch).items():
            old = known.get(paper_id)
            if old is None:
                record["first_seen"] = record.get("first_seen") or now
                record["updated"] = now
                changes[paper_id] = record
                result.added.append(paper_id)
                continue
            merged = merge_paper(old, record)
            if merged == old:
                result.unchanged.extend([paper_id] * rows)  # counted per row read
                continue
            merged["updated"] = now
            result.updated.append(paper_id)
            changes[paper_id] = merged
        if not changes:
            return
        for paper_id, record in changes.items():
            if record.get("listed"):
                listed.setdefault(record["listed"], set()).add(paper_id)
        put_rows(db, "papers", changes)  # one write per shard
        self.generation += 1
