"""Paper vectors beside the search index: derived data, caught up with the catalog's change feed.

`PAPERS_DATA_DIR/vectors/` holds
- `rows.f16`: one float16 row per catalog key (`num`), the vectors themselves;
- `ann.usearch`: an HNSW graph over them (usearch, 8-bit), which searchers memory-map;
- `hashes.npy`: a digest of the text each row was made from (a paper whose upvotes changed is
  not embedded again), and `state.json`: the feed position, the catalog and the model.

A checkpoint writes the graph, then the digests, then `state.json`, each replaced atomically: a
process killed between two leaves them agreeing (what is ahead of `state.json` is done again).
One writer at a time (`.writer.lock`, an flock released when it dies). Delete the folder and
the vectors are made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from bot.library import Library
from bot.library.storage import StoreError, StoreWriteError, atomic_write_bytes, exclusive
from bot.models import Paper

if TYPE_CHECKING:
    import numpy as np
    from usearch.index import Index

log = logging.getLogger(__name__)

VECTORS_DIR = "vectors"
ROWS, ANN, HASHES, STATE, LOCK = (
    "rows.f16",
    "ann.usearch",
    "hashes.npy",
    "state.json",
    ".writer.lock",
)
CHECKPOINT_EVERY = 2_000  # papers embedded between checkpoints (about two minutes on one core)
EMBED_BATCH = 64  # papers read and embedded together
# HNSW: 16 links a node (usearch's default), a wide search at insert for a good graph; at query
# time `nearest` asks for 100 neighbours with a beam of 400: the balance of recall and time
# `python -m bench.semantic` measures (README, "Benchmarks", has the figures).
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 128, 400


class Embeds(Protocol):
    """What makes the vectors: `model.Embedder` (a stand-in in the benchmarks)."""

    name: str  # the model's fingerprint: vectors of another model are made again
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def folder_of(data_dir: Path) -> Path:
    return data_dir / VECTORS_DIR


def embedded_text(paper: Paper) -> str:
    """What a paper's vector is made of: its title and abstract, as the model was trained."""
    return f"{paper.title}. {paper.abstract}".strip()


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") or 1


class State(NamedTuple):
    catalog: str
    model: str
    dim: int
    seq: int  # the catalog's feed position the checkpoint includes

    @classmethod
    def read(cls, folder: Path) -> State | None:
        try:
            raw = json.loads((folder / STATE).read_text("utf-8"))
            return cls(str(raw["catalog"]), str(raw["model"]), int(raw["dim"]), int(raw["seq"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, folder: Path) -> None:
        atomic_write_bytes(folder / STATE, json.dumps(self._asdict()).encode())


@contextmanager
def writer_turn(folder: Path) -> Iterator[bool]:
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive(folder / LOCK) as alone:
        yield alone


def usearch_index() -> type[Index]:
    """usearch's `Index`, with the model's runtime imported first. usearch 2.26.2 and later,
    imported before onnxruntime, crash the interpreter as onnxruntime loads (README, "Known
    issues"); this order is safe with every version, so where the vectors are opened first (a
    search opens them, then embeds the query) never decides whether the process lives."""
    with contextlib.suppress(ImportError):  # a stand-in embedder (the benchmarks) needs none
        import onnxruntime  # noqa: F401
    from usearch.index import Index

    return Index


def new_graph(dim: int) -> Index:
    return usearch_index()(
        ndim=dim,
        metric="cos",
        dtype="i8",  # 8-bit rows in the graph: 384 bytes a paper (float16 stays in rows.f16)
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


class _Writer:
    """One catch-up: the rows, digests and graph of the folder, open for writing."""

    def __init__(self, folder: Path, library: Library, embedder: Embeds):
        self.folder, self.library, self.embedder = folder, library, embedder
        fresh = State(library.catalog.identity(), embedder.name, embedder.dim, 0)
        state = State.read(folder)
        if state is None or (state.catalog, state.model) != (fresh.catalog, fresh.model):
            if state is not None:
                log.warning("the vectors are of another catalog or model: making them again")
            for name in (ROWS, ANN, HASHES, STATE):
                (folder / name).unlink(missing_ok=True)
            state = fresh
        self.state = state
        self.hashes = _load_hashes(folder)
        self.graph = new_graph(embedder.dim)
        if state.seq and not self._loaded():
            log.warning("the vectors' graph is missing or damaged: making the vectors again")
            self.state, self.hashes, self.graph = fresh, self.hashes[:0], new_graph(embedder.dim)
        self._digests_for(max(library.catalog.max_num() + 1, 1))

    def _loaded(self) -> bool:
        """Load the saved graph, to add to it; False when it is missing, empty or damaged."""
        try:
            self.graph.load(str(self.folder / ANN))
        except (RuntimeError, ValueError, OSError):
            return False
        return len(self.graph) > 0

    def _digests_for(self, count: int) -> None:
        """Make room for the digests of keys below `count`."""
        import numpy as np

        if len(self.hashes) < count:
            self.hashes = np.concatenate([self.hashes, np.zeros(count - len(self.hashes), "u8")])

    def _write_rows(self, nums: list[int], vectors: np.ndarray) -> None:
        """Each vector as float16 at its key's place in rows.f16. Plain writes, not a memory
        map: a full disk is then an error (ENOSPC), not a SIGBUS that kills the process."""
        import numpy as np

        halves = vectors.astype(np.float16)
        size = halves.shape[1] * 2
        fd = os.open(self.folder / ROWS, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            for num, row in zip(nums, halves, strict=True):
                os.pwrite(fd, row.tobytes(), num * size)
        finally:
            os.close(fd)

    def apply(self, batch: list[tuple[int, Paper]], seq: int) -> int:
        """Embed the papers of `batch` whose text changed; returns how many were embedded."""
        import numpy as np

        self._digests_for(max(num for num, _ in batch) + 1)
        changed: dict[int, tuple[int, str, int]] = {}  # by key: one vector a paper
        for num, paper in batch:
            text = embedded_text(paper)
            digest = _digest(text)
            if int(self.hashes[num]) != digest:
                changed[num] = (num, text, digest)
        todo = list(changed.values())
        if todo:
            nums = [num for num, _, _ in todo]
            vectors = self.embedder.embed([text for _, text, _ in todo])
            self._write_rows(nums, vectors)
            present = [num for num in nums if self.graph.contains(num)]
            if present:
                self.graph.remove(present)
            self.graph.add(np.array(nums, dtype=np.uint64), vectors)
            self.hashes[nums] = [digest for _, _, digest in todo]
        self.state = self.state._replace(seq=seq)
        return len(todo)

    def checkpoint(self) -> None:
        rows = os.open(self.folder / ROWS, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.fsync(rows)
        finally:
            os.close(rows)
        partial = self.folder / f"{ANN}.partial"
        try:
            self.graph.save(str(partial))
        except RuntimeError as error:  # usearch's own words ("Failed to serialize into stream")
            partial.unlink(missing_ok=True)
            full = shutil.disk_usage(self.folder).free < self.graph.serialized_length
            reason = "the disk is full" if full else str(error)
            raise StoreError(
                f"could not write {partial}: {reason}; the last vectors are intact (search by "
                "meaning goes on with them; free some space and they catch up)"
            ) from error
        with partial.open("rb+") as file:  # on disk before it replaces the last good graph
            os.fsync(file.fileno())
        os.replace(partial, self.folder / ANN)
        _save_hashes(self.folder, self.hashes)
        self.state.write(self.folder)


def _load_hashes(folder: Path) -> np.ndarray:
    import numpy as np

    try:
        return np.asarray(np.load(folder / HASHES), dtype="u8")
    except (OSError, ValueError):
        return np.zeros(0, dtype="u8")


def _save_hashes(folder: Path, hashes: np.ndarray) -> None:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, hashes)
    atomic_write_bytes(folder / HASHES, buffer.getvalue())


def behind(library: Library) -> int:
    """How many catalog changes the vectors have not seen (all of them when there are none)."""
    state = State.read(folder_of(library.data_dir))
    seq = state.seq if state is not None and state.catalog == library.catalog.identity() else 0
    return library.catalog.count_since(seq)


def catch_up(
    library: Library,
    embedder: Embeds,
    stop: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> int | None:
    """Embed what changed in the catalog since the last checkpoint; returns how many papers
    were embedded, or None when another process is doing it. `stop` ends it at the next batch
    (after a checkpoint); `progress` is told how many papers each batch read."""
    folder = folder_of(library.data_dir)
    try:
        return _catch_up(folder, library, embedder, stop, progress)
    except OSError as error:  # a full or read-only disk: the last checkpoint is intact
        raise StoreWriteError(folder, error) from error


def _catch_up(
    folder: Path,
    library: Library,
    embedder: Embeds,
    stop: threading.Event | None,
    progress: Callable[[int], None] | None,
) -> int | None:
    with writer_turn(folder) as mine:
        if not mine:
            return None
        writer = _Writer(folder, library, embedder)
        embedded = since_checkpoint = 0
        batch: list[tuple[int, Paper]] = []
        for change in library.catalog.changes_since(writer.state.seq):
            batch.append((change.num, change.paper))
            if len(batch) < EMBED_BATCH:
                continue
            done = writer.apply(batch, change.seq)
            embedded, since_checkpoint = embedded + done, since_checkpoint + done
            if progress is not None:
                progress(len(batch))
            batch = []
            if since_checkpoint >= CHECKPOINT_EVERY:
                writer.checkpoint()
                since_checkpoint = 0
            if stop is not None and stop.is_set():
                break
        else:
            if batch:
                embedded += writer.apply(batch, library.catalog.last_seq())
                if progress is not None:
                    progress(len(batch))
        writer.checkpoint()
        return embedded


class VectorSearch:
    """The nearest papers to a vector, from the last checkpoint's graph (memory-mapped).
    A newer checkpoint is picked up within a second."""

    def __init__(self, data_dir: Path):
        self.folder = folder_of(data_dir)
        self._graph: Index | None = None
        self._state: tuple[int, int] | None = None  # state.json's (mtime_ns, size) it shows
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """Whether any vectors are made (a checkpoint exists)."""
        graph = self._current()
        return graph is not None and len(graph) > 0

    def nearest(self, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
        """Up to `count` (catalog key, cosine) pairs, the most similar first."""
        graph = self._current()
        if graph is None or len(graph) == 0:
            return []
        found: Any = graph.search(vector, min(count, len(graph)))
        return [
            (int(key), 1.0 - float(distance))
            for key, distance in zip(found.keys, found.distances, strict=True)
        ]

    def _current(self) -> Index | None:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return self._graph
        with self._lock:
            self._checked = now
            try:
                stat = (self.folder / STATE).stat()
            except OSError:
                return self._graph
            signature = (stat.st_mtime_ns, stat.st_size)
            if signature != self._state:
                self._graph = self._open()
                self._state = signature
            return self._graph

    def _open(self) -> Index | None:
        try:
            graph = usearch_index().restore(str(self.folder / ANN), view=True)
        except (OSError, RuntimeError, ValueError) as error:
            log.warning("the vectors' graph could not be opened (%s): search stays lexical", error)
            return None
        if graph is not None:
            # A restored graph forgets its beam width; usearch has a setter mypy misses.
            graph.expansion_search = EXPANSION_SEARCH  # type: ignore[misc]
        return graph
