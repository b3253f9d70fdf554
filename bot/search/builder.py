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

import gc
import logging
import os
import queue
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import tantivy

from bot.library import Library, StoreError
from bot.library.storage import atomic_write_bytes, exclusive
from bot.library.stores import CatalogStore
from bot.search.documents import IndexedPaper, Vocabulary, prepare
from bot.search.index import (
    FORMAT_FILE,
    INDEX_FORMAT,
    PaperIndex,
    build_schema,
    is_index,
    open_index,
    to_document,
)
from bot.search.lexicon import LEXICON_FILE, Lexicon, save_words

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while papers are analysed: analysis makes no reference
    cycles (what it frees, reference counting frees), but its millions of short-lived strings
    and tuples set the collector off again and again over the analysis caches' long-lived
    objects: a quarter of a worker's time, measured at 100,000 papers."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _analysed(
    catalog: CatalogStore, low: int, high: int, vocabulary: Vocabulary
) -> list[IndexedPaper]:
    """Papers with `low <= num < high`, analysed, their words counted into `vocabulary`."""
    papers = [prepare(num, paper) for num, paper in catalog.records_between(low, high)]
    vocabulary.add(papers)
    for paper in papers:
        paper.pieces.clear()  # counted: not worth pickling back
    return papers


def _worker(catalog: CatalogStore, tasks: Queue, results: Queue, words: Path) -> None:
    """A build worker: analyses ranges until told to stop, then saves the words it counted
    to `words` and says so (a vocabulary per range would leave the building process merging
    ~15,000 counts a range)."""
    vocabulary = Vocabulary()
    with _collector_paused():
        for low, high in iter(tasks.get, None):
            results.put((_analysed(catalog, low, high, vocabulary), None))
        save_words(words, vocabulary)  # here, in parallel, not in the building process
    results.put(([], words))


class _Analysis(Protocol):
    """The catalog analysed: `papers` (each range's), then `word_files` (the words counted,
    saved by `lexicon.save_words`), then `close`."""

    def papers(self) -> Iterator[list[IndexedPaper]]: ...

    def word_files(self) -> list[Path]: ...

    def close(self) -> None: ...


class _InProcess:
    """The catalog analysed, range by range, in the building process (a small library)."""

    def __init__(self, catalog: CatalogStore, ranges: list[tuple[int, int]], folder: Path):
        self.catalog, self.ranges, self.folder = catalog, ranges, folder
        self.vocabulary = Vocabulary()

    def papers(self) -> Iterator[list[IndexedPaper]]:
        for low, high in self.ranges:
            yield _analysed(self.catalog, low, high, self.vocabulary)

    def word_files(self) -> list[Path]:
        path = self.folder / "words-0.sqlite3"
        save_words(path, self.vocabulary)
        return [path]

    def close(self) -> None:
        """Nothing to let go of: no process was started."""


class _InWorkers:
    """The catalog analysed by worker processes, each saving the words it counted to a file
    of its own once the ranges are done (`word_files` waits for them)."""

    def __init__(
        self, catalog: CatalogStore, ranges: list[tuple[int, int]], folder: Path, workers: int
    ):
        self.ranges = ranges
        import multiprocessing  # here: a process that only searches never pays its import

        # fork: the workers need nothing but this module; a build runs in a process of its
        # own (the CLI, or the one a serving bot starts), which has no threads to lose in a
        # fork.
        context = multiprocessing.get_context("fork")
        tasks: Queue = context.Queue()
        self.results: Queue = context.Queue(maxsize=2 * workers)  # analysed ranges wait, few
        for task in ranges:
            tasks.put(task)
        for _ in range(workers):
            tasks.put(None)
        self.files = [folder / f"words-{i}.sqlite3" for i in range(workers)]
        self.saved: set[Path] = set()
        self.processes = [
            context.Process(target=_worker, args=(catalog, tasks, self.results, words), daemon=True)
            for words in self.files
        ]
        for process in self.processes:
            process.start()

    def papers(self) -> Iterator[list[IndexedPaper]]:
        received = 0
        while received < len(self.ranges):
            papers, words = self._next()
            if words is None:
                received += 1
                yield papers
            else:
                self.saved.add(words)  # a worker done early, while another has ranges left

    def word_files(self) -> list[Path]:
        while len(self.saved) < len(self.files):
            words = self._next()[1]
            if words is not None:
                self.saved.add(words)
        return self.files  # in worker order: a word's term is that of the first file with it

    def _next(self) -> tuple[list[IndexedPaper], Path | None]:
        while True:
            try:
                return self.results.get(timeout=1.0)  # type: ignore[no-any-return]
            except queue.Empty:
                failed = [p.exitcode for p in self.processes if p.exitcode not in (None, 0)]
                if failed:
                    raise StoreError(
                        f"a search index worker stopped (exit {failed[0]}); the index was not "
                        "built, the one in use still serves"
                    ) from None

    def close(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()


@contextmanager
def _analysis(library: Library, folder: Path, workers: int) -> Iterator[_Analysis]:
    catalog, top = library.catalog, library.catalog.max_num()
    ranges = [(low, low + RANGE) for low in range(0, top + 1, RANGE)]
    analysis: _Analysis
    if workers <= 1 or len(library) < PARALLEL_FROM:
        analysis = _InProcess(catalog, ranges, folder)
    else:
        analysis = _InWorkers(catalog, ranges, folder, workers)
    try:
        yield analysis
    finally:
        analysis.close()


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
    lexicon = Lexicon(folder / LEXICON_FILE)
    lexicon.start_build()
    with _analysis(library, folder, workers or min(2, os.cpu_count() or 1)) as analysis:
        with _collector_paused():
            done = _write_papers(analysis.papers(), writer, lexicon, progress)
        # The last steps run in this process alone: these while the workers count their words.
        writer.commit()
        writer.wait_merging_threads()
        lexicon.count_definitions()
        word_files = analysis.word_files()
    lexicon.finish_build(word_files, seq, library.catalog.identity())
    lexicon.close()
    for path in word_files:
        path.unlink(missing_ok=True)
    (folder / FORMAT_FILE).write_text(f"{INDEX_FORMAT}\n")
    _make_current(root, folder)
    log.info("built the search index of %d papers in %s", done, folder)
    return folder


def _write_papers(
    batches: Iterator[list[IndexedPaper]],
    writer: tantivy.IndexWriter,
    lexicon: Lexicon,
    progress: Callable[[int], None] | None,
) -> int:
    done = 0
    for papers in batches:
        for paper in papers:
            writer.add_document(to_document(paper))
        lexicon.add_built(papers)
        done += len(papers)
        if progress and papers:
            progress(done)
    return done


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
        writer.add_document(to_document(paper))
    writer.commit()
    vocabulary = Vocabulary()
    vocabulary.add(batch)
    # After the commit: a crash in between re-applies this batch next time (harmless).
    index.lexicon.apply(batch, vocabulary, seq, replaced=[p.num for p in batch])


def index_follows_catalog(library: Library, index: PaperIndex) -> bool:
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
        built = index is None or not index_follows_catalog(library, index)
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
    # The catalog's database, when there is one, comes in the environment (never argv: a
    # password there would show in `ps`).
    library = Library(args[0], sample_data=False, database_url=os.environ.get("DATABASE_URL"))
    done = brought_up_to_date(library)
    log.info("the search index in %s is up to date (%d papers)", done.folder, len(library))
    return 0
