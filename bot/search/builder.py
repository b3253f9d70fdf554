"""Writing the search index: a full build into a new generation, and catching up with the feed.

- `build` analyses the whole catalog in worker processes (analysis is pure Python and
  order-free: tantivy computes BM25 statistics at query time) and writes a new generation
  folder; `index/CURRENT` then names it, replaced atomically, so searchers switch between two
  whole indexes and never see half of one. The previous generation is kept until the next
  build (a process still reading it keeps working).
- `catch_up` applies the catalog's changes since the index's feed position (`seq`): each changed
  paper is deleted by its key and added again, then one commit; re-running it is harmless.

One writer at a time per data dir (`index/.writer.lock`, an flock: released when a writer
dies). Processes that only search never take it. `python -m bot.search DATA_DIR` (`main` here)
is the separate process a serving bot starts when an index has to be built from nothing.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import tantivy

from bot.library import Library
from bot.library.storage import atomic_write_bytes, exclusive
from bot.models import Paper
from bot.search.documents import IndexedPaper, Vocabulary, prepare
from bot.search.index import (
    FORMAT_FILE,
    INDEX_FORMAT,
    PaperIndex,
    build_schema,
    is_index,
    open_index,
)
from bot.search.index import to_document as _document
from bot.search.lexicon import LEXICON_FILE, Lexicon

log = logging.getLogger(__name__)

INDEX_DIR = "index"
CURRENT_FILE = "CURRENT"
WRITER_LOCK = ".writer.lock"
BUILD_HEAP = 400_000_000  # tantivy's indexing memory for a full build (bytes, all threads)
CATCH_UP_HEAP = 50_000_000
RANGE = 2_000  # papers per worker task
PARALLEL_FROM = 20_000  # smaller libraries are analysed in the building process itself
COMMIT_EVERY = 50_000  # changed papers per commit while catching up
OLD_INDEX_FILES = ("search.npz", "search.idx")  # earlier releases' indexes, replaced by this one


def index_root(data_dir: Path) -> Path:
    return data_dir / INDEX_DIR


def current_generation(data_dir: Path) -> Path | None:
    """The generation folder `index/CURRENT` names, if it holds an index of this release."""
    root = index_root(data_dir)
    try:
        name = (root / CURRENT_FILE).read_text("utf-8").strip()
    except OSError:
        return None
    folder = root / name
    return folder if name and "/" not in name and is_index(folder) else None


@contextmanager
def writer_turn(data_dir: Path, wait: bool = True) -> Iterator[bool]:
    """Become the data dir's one index writer; yields False when `wait` is off and another
    process or thread is writing."""
    root = index_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    if not wait:
        with exclusive(root / WRITER_LOCK) as alone:
            yield alone
        return
    while True:
        with exclusive(root / WRITER_LOCK) as alone:
            if alone:
                yield True
                return
        time.sleep(0.2)


# -- a full build --------------------------------------------------------------------------


def _prepare_range(task: tuple[str, int, int]) -> tuple[list[IndexedPaper], Vocabulary]:
    """A worker's share: papers with `low <= num < high`, read with a connection of its own
    (a connection never crosses a fork)."""
    path, low, high = task
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT num, record FROM papers WHERE num >= ? AND num < ? ORDER BY num", (low, high)
        ).fetchall()
    papers = [prepare(int(num), Paper.from_record(json.loads(rec))) for num, rec in rows]
    vocabulary = Vocabulary()
    vocabulary.add(papers)
    for paper in papers:
        paper.words.clear()  # counted: not worth pickling back
    return papers, vocabulary


def _ranges(catalog_path: Path, top: int) -> list[tuple[str, int, int]]:
    return [(str(catalog_path), low, low + RANGE) for low in range(0, top + 1, RANGE)]


def _prepared_batches(
    library: Library, workers: int
) -> Iterator[tuple[list[IndexedPaper], Vocabulary]]:
    tasks = _ranges(library.catalog.path, library.catalog.max_num())
    if workers <= 1 or len(library) < PARALLEL_FROM:
        for task in tasks:
            yield _prepare_range(task)
        return
    # fork: the workers need nothing but this module; a build runs in a process of its own
    # (the CLI, or the one a serving bot starts), which has no threads to lose in a fork.
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        yield from pool.imap(_prepare_range, tasks, chunksize=1)


def build(
    library: Library,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Index the whole catalog into a new generation and make it current. The caller holds
    `writer_turn`."""
    root = index_root(library.data_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = root / f"gen-{stamp}-{os.getpid()}"
    folder.mkdir(parents=True)
    seq = library.catalog.last_seq()  # changes after this are caught up afterwards
    index = tantivy.Index(build_schema(), str(folder))
    writer = index.writer(heap_size=BUILD_HEAP, num_threads=2)
    vocabulary = Vocabulary()
    lexicon = Lexicon(folder / LEXICON_FILE)
    done = 0
    for papers, found in _prepared_batches(library, workers or min(2, os.cpu_count() or 1)):
        for paper in papers:
            writer.add_document(_document(paper))
        lexicon.apply(papers, Vocabulary(), 0)
        vocabulary.merge(found)
        done += len(papers)
        if progress:
            progress(done)
    writer.commit()
    writer.wait_merging_threads()
    lexicon.apply([], vocabulary, seq)
    lexicon.built_from(library.catalog.identity())
    lexicon.close()
    (folder / FORMAT_FILE).write_text(f"{INDEX_FORMAT}\n")
    _make_current(root, folder)
    log.info("built the search index of %d papers in %s", done, folder)
    return folder


def _make_current(root: Path, folder: Path) -> None:
    previous = current_generation(root.parent)
    atomic_write_bytes(root / CURRENT_FILE, f"{folder.name}\n".encode())
    keep = {folder.name, previous.name if previous else ""}
    for old in root.iterdir():
        if old.is_dir() and old.name.startswith("gen-") and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    for name in OLD_INDEX_FILES:
        (root / name).unlink(missing_ok=True)


# -- catching up ---------------------------------------------------------------------------


def catch_up(library: Library, index: PaperIndex) -> int:
    """Apply the catalog's changes since `index.seq`; returns how many papers changed. The
    caller holds `writer_turn`; searchers see the changes after `index.reload()`."""
    start = index.seq
    writer = index.index.writer(heap_size=CATCH_UP_HEAP, num_threads=1)
    changed, batch, last = 0, [], start
    try:
        for change in library.catalog.changes_since(start):
            batch.append(prepare(change.num, change.paper))
            last = change.seq
            if len(batch) >= COMMIT_EVERY:
                _commit(writer, index, batch, last)
                changed += len(batch)
                batch = []
        if batch:
            _commit(writer, index, batch, last)
            changed += len(batch)
    finally:
        writer.wait_merging_threads()
    return changed


def _commit(
    writer: tantivy.IndexWriter, index: PaperIndex, batch: list[IndexedPaper], seq: int
) -> None:
    for paper in batch:
        writer.delete_documents_by_term("num", paper.num)
        writer.add_document(_document(paper))
    writer.commit()
    vocabulary = Vocabulary()
    vocabulary.add(batch)
    # After the commit: a crash in between re-applies this batch next time (harmless).
    index.lexicon.apply(batch, vocabulary, seq, replaced=[p.num for p in batch])


def follows(library: Library, index: PaperIndex) -> bool:
    """Whether `index` was built from this catalog (not one restored or started anew since,
    whose keys mean other papers) and can catch up with it."""
    same = index.lexicon.catalog == library.catalog.identity()
    return same and library.catalog.last_seq() >= index.seq


class UpToDate(NamedTuple):
    folder: Path  # the generation in use
    built: bool  # a new generation was built
    changed: int  # papers caught up with after it was opened or built


def brought_up_to_date(
    library: Library,
    workers: int | None = None,
    rebuild: bool = False,
    progress: Callable[[int], None] | None = None,
) -> UpToDate:
    """Build the index if there is none, it is of another catalog or `rebuild` asks, else
    catch up with the catalog. Takes the writer's turn."""
    with writer_turn(library.data_dir):
        folder = current_generation(library.data_dir)
        index = open_index(folder) if folder is not None and not rebuild else None
        built = index is None or not follows(library, index)
        if built:
            if index is not None:
                log.warning("the search index is of another catalog: rebuilding it")
                index.close()
            index = PaperIndex(build(library, workers, progress))
        assert index is not None  # opened, or just built
        try:
            # After a build: what changed while it ran.
            return UpToDate(index.folder, built, catch_up(library, index))
        finally:
            index.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.search DATA_DIR`: bring DATA_DIR's index up to date."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bot.search DATA_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    library = Library(args[0], sample_data=False)
    done = brought_up_to_date(library)
    log.info("the search index in %s is up to date (%d papers)", done.folder, len(library))
    return 0
