"""Keeping the search index in step with the catalog: one `IndexKeeper` per process.

The index is derived data (`bot.search.builder`): built from the catalog in a process of its own
(`papers-bot index`, or the one a serving bot starts), kept in step with the catalog's change
feed (also when another process wrote it), and opened memory-mapped, so a new process answers
its first query in milliseconds. A rebuilt generation is swapped in under a lock; a serving bot
catches up on a background thread, a one-shot process (the CLI) before its query. Delete
`PAPERS_DATA_DIR/index` and it is rebuilt.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from bot.library import Library, StoreError
from bot.search.builder import (
    brought_up_to_date,
    catch_up,
    current_generation,
    index_follows_catalog,
    writer_turn,
)
from bot.search.index import PaperIndex, open_index

log = logging.getLogger(__name__)
# More changed papers than this are indexed by a separate process, not a serving bot's thread.
IN_PROCESS_LIMIT = 5_000


class IndexKeeper:
    """The current generation of the index, caught up with the catalog."""

    def __init__(self, library: Library, separate_builder: bool = False):
        """`separate_builder`: a serving bot never builds an index in its own process; it
        starts `python -m bot.search` and waits for it instead."""
        self.library = library
        self._separate = separate_builder
        self._lock = threading.RLock()
        self._refresh_lock = threading.Lock()  # one catch-up at a time
        self._checked_at = 0.0
        self._generation = -1
        self._background: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.index = self._open()
        self._reloaded_at = self.index.seq  # the feed position its searcher shows
        self.refresh()

    # -- opening and catching up -------------------------------------------------------------

    def _open(self) -> PaperIndex:
        index = self._current()
        if index is not None and index_follows_catalog(self.library, index):
            return index
        if index is not None:
            index.close()
        self._bring_up_to_date()
        index = self._current()
        if index is None:
            raise RuntimeError(f"the search index in {self.library.data_dir} could not be built")
        return index

    def _current(self) -> PaperIndex | None:
        folder = current_generation(self.library.data_dir)
        return open_index(folder) if folder is not None else None

    def _bring_up_to_date(self) -> None:
        if not self._separate:
            brought_up_to_date(self.library)
            return
        log.info("building the search index in a separate process")
        command = [sys.executable, "-m", "bot.search", str(self.library.data_dir)]
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        if self.library.database_url:
            env["DATABASE_URL"] = self.library.database_url
        finished = subprocess.run(command, check=False, env=env)
        if finished.returncode:
            raise StoreError(
                f"building the search index failed (exit {finished.returncode}); run "
                "`papers-bot index` to see why"
            )

    def refresh(self, wait: bool = True) -> int:
        """Catch up with the catalog (also another process's writes); returns how many
        papers changed. With `wait=False` it returns at once when a catch-up is running."""
        if not self._refresh_lock.acquire(blocking=wait):
            return 0
        try:
            return self._catch_up(wait)
        finally:
            self._refresh_lock.release()

    def _catch_up(self, wait: bool = True) -> int:
        folder = current_generation(self.library.data_dir)
        if folder is not None and folder != self.index.folder:
            fresh = open_index(folder)  # another process rebuilt the index
            if fresh is not None:
                self._swap(fresh)
        index = self.index
        if not index_follows_catalog(
            self.library, index
        ):  # the catalog was replaced: keys mean other papers
            self._bring_up_to_date()
            fresh = self._current()
            if fresh is not None:
                self._swap(fresh)
            index = self.index
        behind = self.library.catalog.count_since(index.seq)
        if behind > IN_PROCESS_LIMIT and self._separate:
            self._bring_up_to_date()
            return behind + self._catch_up(wait)
        if behind:
            # Without `wait` (a request's own refresh), another process's long build is not
            # waited for: the background refresher or the next call catches up.
            with writer_turn(self.library.data_dir, wait=wait) as mine:
                if mine and self.library.catalog.count_since(index.seq):  # not done already
                    catch_up(self.library, index)
        seen = index.seq
        if seen != self._reloaded_at:  # a commit, ours or another process's: show it
            index.reload()
            self._reloaded_at = seen
        return behind

    @property
    def shows(self) -> tuple[int, int]:
        """What searches see now: the generation open and the feed position it shows."""
        return id(self.index), self._reloaded_at

    def current(self) -> PaperIndex:
        """The generation to search now (a swap never changes it under a running query)."""
        with self._lock:
            return self.index

    def close(self) -> None:
        """Let go of the index's files (the process goes on without searching)."""
        self.stop_background_refresh()
        self.index.close()

    def _swap(self, fresh: PaperIndex) -> None:
        with self._lock:
            old, self.index = self.index, fresh
            self._reloaded_at = fresh.seq
        old.close()

    # -- catching up in the background (the serving bot) ---------------------------------

    def start_background_refresh(self, interval: float = 1.0) -> None:
        """Catch up with other processes' writes on a thread of its own, never in a request."""
        if self._background is not None:
            return
        self._stopping.clear()
        self._background = threading.Thread(
            target=self._refresh_loop, args=(interval,), name="index-refresh", daemon=True
        )
        self._background.start()

    def stop_background_refresh(self) -> None:
        thread, self._background = self._background, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join(timeout=30)

    def _refresh_loop(self, interval: float) -> None:
        while not self._stopping.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                changed = self.refresh()
            except Exception:  # a damaged file, a full disk: log, keep serving, try again
                log.exception("catching up with the catalog failed; the index serves as it is")
                continue
            if changed:
                log.info("the search index caught up with %d changed papers", changed)

    def maybe_refresh(self) -> None:
        # A tenth of a second of staleness is invisible to a person; a count per query is not
        # free at thousands of queries a second.
        now = time.monotonic()
        generation = self.library.catalog.generation
        if generation == self._generation and now - self._checked_at <= 0.1:
            return
        self._checked_at, self._generation = now, generation
        if self._background is not None:
            self._wake.set()  # the refresher catches up; this request never waits for it
        else:
            self.refresh()  # a one-shot process (the CLI): catch up now
