"""What search knows about the library's words besides postings: acronyms and the typo vocabulary.

Kept beside the tantivy index in `lexicon.sqlite3` (derived data, like the index):

- `definitions`: each paper's "Long Form (ACRONYM)" pairs, by paper, so a changed paper replaces
  its own and the counts never depend on the order papers came in; `forms` counts them per
  (acronym, long form), looked up by acronym and by the long form's first two words: a typed
  long form finds its acronym without a scan of every alias (at a million papers, "model"
  starts thousands of long forms; "model predictive" a few).
- `surfaces`: every folded word of titles, keywords and abstracts with its index term and how
  many papers use it: typo correction's candidates and the words shown for a term.
- `meta`: the catalog change-feed position the index reflects (`seq`) and which catalog it was
  built from (`catalog`).

Queries read it with small indexed look-ups; only typo correction loads words, by length, once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from bot.library.catalog import read_only_connection
from bot.search.documents import IndexedPaper, Vocabulary

_MISSING = object()

LEXICON_FILE = "lexicon.sqlite3"

TABLES = """
CREATE TABLE IF NOT EXISTS definitions (
    num INTEGER NOT NULL, acronym TEXT NOT NULL, long_form TEXT NOT NULL, start TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS forms (
    acronym TEXT NOT NULL, long_form TEXT NOT NULL, start TEXT NOT NULL, papers INTEGER NOT NULL,
    PRIMARY KEY (acronym, long_form)
);
CREATE TABLE IF NOT EXISTS surfaces (surface TEXT PRIMARY KEY, term TEXT NOT NULL, df INTEGER);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL);
"""
# A full build loads the tables first and indexes them once at the end (`count_definitions`,
# `finish_build`): sorting a million rows once is several times faster than keeping three
# indexes in order.
DEFINITION_INDEXES = {
    "definitions_by_num": "definitions (num)",
    "forms_by_acronym": "forms (acronym, papers)",
    "forms_by_start": "forms (start, papers)",
}
WORD_INDEXES = {"surfaces_by_term": "surfaces (term, df)"}
INDEXES = DEFINITION_INDEXES | WORD_INDEXES
# A build worker's words, saved by the worker itself (`save_words`) for `finish_build` to add up.
WORDS_TABLE = (
    "CREATE TABLE words (surface TEXT PRIMARY KEY, term TEXT NOT NULL, df INTEGER) WITHOUT ROWID"
)
SCHEMA = TABLES + "".join(
    f"CREATE INDEX IF NOT EXISTS {name} ON {columns};\n" for name, columns in INDEXES.items()
)


class Defining(Protocol):
    """A paper as the lexicon needs it: its key and the acronyms it defines."""

    @property
    def num(self) -> int: ...

    @property
    def definitions(self) -> list[tuple[str, tuple[str, ...]]]: ...


class Lexicon:
    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._words: dict[tuple[int, str], list[str]] | None = None
        self._candidates: dict[tuple[int, int, str], list[str]] = {}  # (length, distance, start)
        self._df: dict[str, int] = {}
        self._guard = threading.Lock()
        # Answers to the per-word reads (long forms, surfaces, typo corrections, ...), kept
        # until the index is reloaded (`forget`): most queries share their words with earlier
        # ones, and each read is a SQL round trip (~6 µs, several per query word) or, for a
        # typo, a scan of thousands of words (0.1-1 ms).
        self._memo: dict[tuple[str, Any], Any] = {}

    MEMO_SIZE = 20_000

    def remembered(self, kind: str, key: Any, read: Callable[[], Any]) -> Any:
        """`read()`'s answer for `(kind, key)`, read once until `forget`."""
        found = self._memo.get((kind, key), _MISSING)
        if found is _MISSING:
            found = read()
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            self._memo[(kind, key)] = found
        return found

    def forget(self) -> None:
        """The index was reloaded: what the lexicon says may have changed."""
        self._memo = {}
        with self._guard:
            self._words = None  # the typo vocabulary is loaded again when next needed

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                # Derived data: a power cut may lose the last commit, which the next catch-up
                # redoes (its feed position is in the same commit); no fsync per build batch.
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(SCHEMA)
            except sqlite3.OperationalError:
                if not self.path.exists():
                    raise
                conn.close()
                conn = read_only_connection(self.path)  # a read-only disk: search still works
            self._local.conn = conn
        return conn

    # -- reads -----------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        return int(row[0]) if row else 0

    @property
    def catalog(self) -> str:
        """The identity of the catalog this index was built from."""
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
        return str(row[0]) if row else ""

    def long_forms(self, acronym: str) -> list[tuple[str, ...]]:
        """The long forms of an acronym, most often defined first (at most 3)."""
        return list(self.remembered("long_forms", acronym, lambda: self._long_forms(acronym)))

    def _long_forms(self, acronym: str) -> list[tuple[str, ...]]:
        rows = self._conn().execute(
            "SELECT long_form FROM forms WHERE acronym = ? AND papers > 0 "
            "ORDER BY papers DESC, long_form LIMIT 3",
            (acronym,),
        )
        return [tuple(r[0].split()) for r in rows]

    def acronyms_for(self, terms: tuple[str, ...]) -> list[str]:
        """Acronyms whose long form starts with `terms` (at least two thirds of its words)."""
        if len(terms) < 2:
            return []
        return list(self.remembered("acronyms_for", terms, lambda: self._acronyms_for(terms)))

    def _acronyms_for(self, terms: tuple[str, ...]) -> list[str]:
        found: list[str] = []
        rows = self._conn().execute(
            "SELECT acronym, long_form FROM forms WHERE start = ? AND papers > 0",
            (_start(terms),),
        )
        for acronym, long_form in rows:
            words = tuple(long_form.split())
            fits = words[: len(terms)] == terms and len(terms) * 3 >= len(words) * 2
            if fits and acronym not in found:
                found.append(acronym)
        return found

    def long_form_starts(self, terms: tuple[str, ...]) -> bool:
        """Whether some long form starts with the first two of `terms`."""
        if len(terms) < 2:
            return False
        start = _start(terms)
        return bool(self.remembered("starts", start, lambda: self._long_form_starts(start)))

    def _long_form_starts(self, start: str) -> bool:
        row = (
            self._conn()
            .execute("SELECT 1 FROM forms WHERE start = ? AND papers > 0 LIMIT 1", (start,))
            .fetchone()
        )
        return row is not None

    def acronyms(self) -> list[str]:
        rows = self._conn().execute("SELECT DISTINCT acronym FROM forms WHERE papers > 0")
        return [r[0] for r in rows]

    def surface_of(self, term: str) -> str:
        """The commonest word written for an index term (`network` for `network`)."""
        return str(self.remembered("surface_of", term, lambda: self._surface_of(term)))

    def _surface_of(self, term: str) -> str:
        row = (
            self._conn()
            .execute(
                "SELECT surface FROM surfaces WHERE term = ? ORDER BY df DESC, surface LIMIT 1",
                (term,),
            )
            .fetchone()
        )
        return str(row[0]) if row else term

    def term_of(self, surface: str) -> str | None:
        found = self.remembered("term_of", surface, lambda: self._term_of(surface))
        return str(found) if found is not None else None

    def _term_of(self, surface: str) -> str | None:
        row = (
            self._conn()
            .execute("SELECT term FROM surfaces WHERE surface = ?", (surface,))
            .fetchone()
        )
        return str(row[0]) if row else None

    def words_like(self, word: str, distance: int, start: int) -> tuple[list[str], dict]:
        """Typo candidates for `word`: alphabetic library words whose length is within
        `distance` and that begin with the same `start` letters (0, 1 or 2: people rarely
        mistype the first letters, and each cuts the candidates about 15-fold), with their
        paper counts. The vocabulary is loaded once per index change (`forget`), by length
        and start."""
        with self._guard:
            if self._words is None:
                buckets: dict[tuple[int, str], list[str]] = {}
                df: dict[str, int] = {}
                for surface, count in self._conn().execute("SELECT surface, df FROM surfaces"):
                    if len(surface) >= 3 and surface.isalpha():
                        buckets.setdefault((len(surface), surface[:2]), []).append(surface)
                        df[surface] = int(count)
                self._words, self._df = buckets, df
                self._candidates = {}
            key = (len(word), distance, word[:start])
            found = self._candidates.get(key)
            if found is None:
                lengths = range(len(word) - distance, len(word) + distance + 1)
                found = [
                    w
                    for (n, begin), ws in self._words.items()
                    if n in lengths and begin.startswith(word[:start])
                    for w in ws
                ]
                if len(self._candidates) < 5_000:
                    self._candidates[key] = found
            return found, self._df

    # -- writes (the index's writer only) ----------------------------------------------------

    def apply(
        self,
        papers: Iterable[IndexedPaper],
        vocabulary: Vocabulary,
        seq: int,
        replaced: Iterable[int] = (),
    ) -> None:
        """Record (re)indexed papers' acronyms, their words, and the feed position now
        reflected, in one transaction. `replaced` papers' earlier acronyms go first."""
        conn = self._conn()
        batch = list(papers)
        added = [
            (p.num, acronym, " ".join(long_form), _start(long_form))
            for p in batch
            for acronym, long_form in p.definitions
        ]
        conn.execute("BEGIN IMMEDIATE")
        try:
            gone = [(n,) for n in replaced]
            for acronym, long_form in self._definitions_of(conn, gone):
                conn.execute(
                    "UPDATE forms SET papers = papers - 1 WHERE acronym = ? AND long_form = ?",
                    (acronym, long_form),
                )
            conn.executemany("DELETE FROM definitions WHERE num = ?", gone)
            conn.executemany("INSERT INTO definitions VALUES (?, ?, ?, ?)", added)
            conn.executemany(
                "INSERT INTO forms VALUES (?, ?, ?, 1) ON CONFLICT (acronym, long_form) "
                "DO UPDATE SET papers = papers + 1",
                [(acronym, long_form, start) for _, acronym, long_form, start in added],
            )
            conn.executemany(
                "INSERT INTO surfaces VALUES (?, ?, ?) ON CONFLICT (surface) "
                "DO UPDATE SET df = df + excluded.df",
                vocabulary.rows(),
            )
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (seq,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self.forget()

    # -- a full build: loaded in bulk, counted once ------------------------------------------

    def start_build(self) -> None:
        """An empty lexicon about to be loaded: its tables are indexed once, at the end."""
        for name in INDEXES:
            self._conn().execute(f"DROP INDEX IF EXISTS {name}")

    def add_built(self, papers: Iterable[Defining]) -> None:
        rows = [
            (p.num, acronym, " ".join(long_form), _start(long_form))
            for p in papers
            for acronym, long_form in p.definitions
        ]
        conn = self._conn()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO definitions VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")

    def count_definitions(self) -> None:
        """Count the built definitions per long form and index them (a build does it while
        its workers still count their words)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO forms SELECT acronym, long_form, start, count(*) FROM definitions "
                "GROUP BY acronym, long_form"
            )
            for name, columns in DEFINITION_INDEXES.items():
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def finish_build(self, word_files: list[Path], seq: int, catalog: str) -> None:
        """Add up the build's words (`save_words`: a word's papers summed, its first file's
        term kept), index them, and record the feed position and the catalog, in one
        transaction."""
        conn = self._conn()
        names = [f"words{i}" for i in range(len(word_files))]
        for name, path in zip(names, word_files, strict=True):
            conn.execute("ATTACH DATABASE ? AS " + name, (str(path),))
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for name in names:
                    # In surface order, as the files keep them: each row lands at the end of
                    # the table's tree. (`WHERE true`: SQLite's rule for an upsert of a SELECT.)
                    conn.execute(
                        f"INSERT INTO surfaces SELECT surface, term, df FROM {name}.words "
                        "WHERE true ORDER BY surface "
                        "ON CONFLICT (surface) DO UPDATE SET df = df + excluded.df"
                    )
                for index, columns in WORD_INDEXES.items():
                    conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {columns}")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (seq,))
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('catalog', ?)", (catalog,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            for name in names:
                conn.execute("DETACH DATABASE " + name)

    @staticmethod
    def _definitions_of(conn: sqlite3.Connection, nums: list[tuple[int]]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for num in nums:
            found += conn.execute(
                "SELECT acronym, long_form FROM definitions WHERE num = ?", num
            ).fetchall()
        return found

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def save_words(path: Path, vocabulary: Vocabulary) -> None:
    """A build worker's words (surface, term, papers), in a file of their own for
    `Lexicon.finish_build`. The worker writes them itself, in parallel with the other, where
    sending them back left the building process alone to merge, sort and insert a million
    words (~4 s at a million, one core idle). Scratch data: no journal, no fsync."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(WORDS_TABLE)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO words VALUES (?, ?, ?)", vocabulary.rows())
        conn.execute("COMMIT")
    finally:
        conn.close()


def _start(terms: tuple[str, ...]) -> str:
    """A long form's first two words, the key it is looked up by."""
    return " ".join(terms[:2])
