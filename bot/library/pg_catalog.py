"""The paper catalog on PostgreSQL: the embedded catalog's interface and merge rules, shared
by every replica.

The change feed needs one thing PostgreSQL does not give for free: feed positions (`seq`) must
become visible in order, or a replica that caught up to 12 would never see 11 committed a
moment later. Writers therefore take turns (a transaction-level advisory lock), so each
transaction reads the highest `seq` after the previous one committed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.dialects.postgresql import insert

from bot.library.catalog import (
    Change,
    StoredText,
    UpsertResult,
    fold_duplicates,
    planned_changes,
)
from bot.library.pg_schema import (
    catalog_meta,
    fetched_days,
    fulltexts,
    listings,
    llm_calls,
    papers,
    psycopg_url,
    translated_errors,
)
from bot.models import Paper

log = logging.getLogger(__name__)
WRITER_LOCK = 0x63617461  # pg_advisory_xact_lock key: catalog writers take turns
IDS_PER_QUERY = 1_000


def _paper(record: Any) -> Paper | None:
    try:
        return Paper.from_record(record)
    except (TypeError, ValueError, AttributeError) as error:
        log.error("a catalog row is not a paper (%s): skipped; re-import it to restore it", error)
        return None


LAST_SEQ = select(func.coalesce(func.max(papers.c.seq), 0))


def _last_seq(conn: Any) -> int:
    return int(conn.execute(LAST_SEQ).scalar_one())


class PgCatalog:
    """The papers in PostgreSQL; safe for threads, processes and replicas."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=False)
        self.generation = 0  # bumped by every write from this process
        self.damaged: dict[str, str] = {}  # the database keeps its own files safe

    def _rows(self, statement: Any, params: dict[str, Any] | None = None) -> Sequence[Any]:
        with translated_errors("the catalog"), self.engine.connect() as conn:
            return conn.execute(statement, params or {}).all()

    # -- what the embedded catalog also answers --------------------------------------------

    def fetched_days(self, source: str) -> set[str]:
        rows = self._rows(select(fetched_days.c.day).where(fetched_days.c.source == source))
        return {str(day) for (day,) in rows}

    def fetched_records(self) -> list[dict[str, Any]]:
        query = select(fetched_days).order_by(fetched_days.c.source, fetched_days.c.day)
        return [row._asdict() for row in self._rows(query)]

    def load_fetched(self, records: list[dict[str, Any]]) -> int:
        if not records:
            return 0
        statement = insert(fetched_days).on_conflict_do_nothing().returning(fetched_days.c.day)
        with translated_errors("the catalog", write=True), self.engine.begin() as conn:
            return len(conn.execute(statement, records).all())

    def mark_fetched(self, source: str, day: str, rows: int, now: str) -> None:
        row = {"source": source, "day": day, "rows": rows, "at": now}
        statement = insert(fetched_days).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[fetched_days.c.source, fetched_days.c.day],
            set_={"rows": rows, "at": now},
        )
        with translated_errors("the catalog", write=True), self.engine.begin() as conn:
            conn.execute(statement)

    def take_llm_call(self, day: str, limit: int) -> bool:
        """Count one LLM call against `day`'s budget, atomically across replicas; False once
        `limit` calls were made that day."""
        if limit <= 0:
            return False
        counted = (
            insert(llm_calls)
            .values(day=day, calls=1)
            .on_conflict_do_update(
                index_elements=[llm_calls.c.day],
                set_={"calls": llm_calls.c.calls + 1},
                where=llm_calls.c.calls < limit,
            )
            .returning(llm_calls.c.calls)
        )
        with translated_errors("the catalog", write=True), self.engine.begin() as conn:
            return conn.execute(counted).first() is not None

    def full_text(self, paper_id: str) -> StoredText | None:
        query = select(fulltexts.c.status, fulltexts.c.at, fulltexts.c.body).where(
            fulltexts.c.id == paper_id
        )
        with translated_errors("the catalog"), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return StoredText(row[0], row[1], row[2]) if row else None

    def keep_full_text(self, paper_id: str, stored: StoredText) -> None:
        row = {"id": paper_id, "status": stored.status, "at": stored.at, "body": stored.body}
        statement = insert(fulltexts).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[fulltexts.c.id],
            set_={"status": stored.status, "at": stored.at, "body": stored.body},
        )
        with translated_errors("the catalog", write=True), self.engine.begin() as conn:
            conn.execute(statement)

    def exists(self) -> bool:
        """Whether this catalog was created before (it has its identity)."""
        return bool(self.identity())

    def create(self) -> None:
        """Give a new catalog its identity (see `Catalog.identity`)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(catalog_meta)
                .values(key="identity", value=f"c-{uuid.uuid4().hex}")
                .on_conflict_do_nothing()
            )

    def identity(self) -> str:
        """Read each time, never cached: a database restored from another library's dump
        under a running replica has another identity, and its index must notice."""
        rows = self._rows(select(catalog_meta.c.value).where(catalog_meta.c.key == "identity"))
        return str(rows[0][0]) if rows else ""

    def close(self) -> None:
        self.engine.dispose()

    def get(self, paper_id: str) -> Paper | None:
        rows = self._rows(select(papers.c.record).where(papers.c.id == paper_id))
        return _paper(rows[0][0]) if rows else None

    def get_many(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        ids = list(dict.fromkeys(paper_ids))
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            for (record,) in self._rows(select(papers.c.record).where(papers.c.id.in_(chunk))):
                paper = _paper(record)
                if paper is not None:
                    found[paper.id] = paper
        return found

    def by_nums(self, nums: Iterable[int]) -> dict[int, Paper]:
        keys = list(dict.fromkeys(nums))
        rows = self._rows(select(papers.c.num, papers.c.record).where(papers.c.num.in_(keys)))
        return {int(num): p for num, record in rows if (p := _paper(record)) is not None}

    def num_of(self, paper_id: str) -> int | None:
        rows = self._rows(select(papers.c.num).where(papers.c.id == paper_id))
        return int(rows[0][0]) if rows else None

    def nums_of(self, paper_ids: Iterable[str]) -> dict[str, int]:
        ids = list(dict.fromkeys(paper_ids))
        found: dict[str, int] = {}
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            query = select(papers.c.id, papers.c.num).where(papers.c.id.in_(chunk))
            found.update((str(i), int(n)) for i, n in self._rows(query))
        return found

    def count(self) -> int:
        return int(self._rows(select(func.count()).select_from(papers))[0][0])

    def all(self) -> dict[str, Paper]:
        return {change.paper.id: change.paper for change in self.changes_since(0)}

    def last_seq(self) -> int:
        return int(self._rows(LAST_SEQ)[0][0])

    def max_num(self) -> int:
        return int(self._rows(select(func.coalesce(func.max(papers.c.num), 0)))[0][0])

    def count_since(self, seq: int) -> int:
        query = select(func.count()).select_from(papers).where(papers.c.seq > seq)
        return int(self._rows(query)[0][0])

    def changes_since(self, seq: int, batch: int = 5_000) -> Iterator[Change]:
        position = seq
        while True:
            query = (
                select(papers.c.num, papers.c.seq, papers.c.record)
                .where(papers.c.seq > position)
                .order_by(papers.c.seq)
                .limit(batch)
            )
            rows = self._rows(query)
            for num, row_seq, record in rows:
                paper = _paper(record)
                if paper is not None:
                    yield Change(int(num), int(row_seq), paper)
            if len(rows) < batch:
                return
            position = int(rows[-1][1])

    def records_between(self, low: int, high: int) -> list[tuple[int, Paper]]:
        """Papers with `low <= num < high`, on a connection of its own: a build's worker
        process calls it after a fork, where the parent's pool must not be used."""
        import psycopg

        with psycopg.connect(psycopg_url(self.url)) as conn:
            rows = conn.execute(
                "SELECT num, record FROM papers WHERE num >= %s AND num < %s ORDER BY num",
                (low, high),
            ).fetchall()
        return [(int(num), p) for num, record in rows if (p := _paper(record)) is not None]

    # -- listing days ----------------------------------------------------------------------

    def listed_ids(self, after: str, until: str) -> list[str]:
        query = (
            select(listings.c.paper_id)
            .where(listings.c.day > after, listings.c.day <= until)
            .order_by(listings.c.day, listings.c.paper_id)
        )
        return [r[0] for r in self._rows(query)]

    def listed_ids_on(self, day: str) -> list[str]:
        query = (
            select(listings.c.paper_id).where(listings.c.day == day).order_by(listings.c.paper_id)
        )
        return [r[0] for r in self._rows(query)]

    def listings(self) -> dict[str, list[str]]:
        days: dict[str, list[str]] = {}
        for day, paper_id in self._rows(select(listings.c.day, listings.c.paper_id)):
            days.setdefault(day, []).append(paper_id)
        return days

    def latest_listing_day(self) -> str | None:
        rows = self._rows(select(func.max(listings.c.day)))
        return rows[0][0] if rows and rows[0][0] else None

    def listing_span(self) -> tuple[str | None, str | None]:
        rows = self._rows(select(func.min(listings.c.day), func.max(listings.c.day)))
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    # -- writes ----------------------------------------------------------------------------

    def upsert_many(self, batch: Iterable[Paper], now: str) -> UpsertResult:
        """Add or merge a batch in one transaction (the embedded catalog's merge rules)."""
        folded = fold_duplicates(batch)
        result = UpsertResult()
        if not folded:
            return result
        with self._writing() as conn:
            known = self._known(conn, list(folded))
            planned = planned_changes(folded, known, _last_seq(conn), now, result)
            rows = [{"id": p.paper_id, "seq": p.seq, "record": p.record} for p in planned]
            listed = [{"day": p.day, "paper_id": p.paper_id} for p in planned if p.day]
            self._write(conn, rows, listed)
        return result

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One write transaction, this writer's turn taken first (feed positions in commit
        order); any database error becomes a DatabaseWriteError, nothing written."""
        with translated_errors("the catalog", write=True), self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})
            yield conn
        self.generation += 1

    @staticmethod
    def _known(conn: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
        known: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            query = select(papers.c.id, papers.c.record).where(papers.c.id.in_(chunk))
            known.update((paper_id, dict(record)) for paper_id, record in conn.execute(query))
        return known

    @staticmethod
    def _write(conn: Any, rows: list[dict[str, Any]], listed: list[dict[str, str]]) -> None:
        if rows:
            statement = insert(papers)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[papers.c.id],
                    set_={"seq": statement.excluded.seq, "record": statement.excluded.record},
                ),
                rows,
            )
        if listed:
            conn.execute(insert(listings).on_conflict_do_nothing(), listed)

    def import_records(
        self, records: Iterable[dict[str, Any]], listings_by_day: dict[str, list[str]]
    ) -> None:
        """Bring in stored records as they are (`first_seen`, `updated` kept): `db copy`."""
        with self._writing() as conn:
            seq = _last_seq(conn)
            rows = [
                {"id": str(record["id"]), "seq": seq + n, "record": record}
                for n, record in enumerate(records, start=1)
            ]
            if rows:
                conn.execute(insert(papers).on_conflict_do_nothing(), rows)
            listed = [{"day": d, "paper_id": p} for d, ids in listings_by_day.items() for p in ids]
            if listed:
                conn.execute(insert(listings).on_conflict_do_nothing(), listed)
