"""The check a process runs, in a child (`bot.probe`), before it first searches by meaning: our
own code opening vectors and running the model, in each order a process can take them, with
every answer checked. A crash, a hang or a wrong answer here turns search by meaning off, not
the bot (README, "Troubleshooting").
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bot.probe import Part
from bot.search.semantic.model import Embedder, ModelMissing, model_folder
from bot.search.semantic.vectors import State, VectorSearch, folder_of, new_graph

if TYPE_CHECKING:
    import numpy as np

SEARCH_BY_MEANING = Part(
    name="search by meaning",
    modules=("onnxruntime", "usearch", "numkong", "tokenizers", "onnx", "safetensors", "numpy"),
    distributions=("onnxruntime", "usearch", "numkong", "tokenizers", "onnx", "safetensors"),
    check="bot.search.semantic.selftest:check",
    # A search opens the vectors and then embeds the query; a bot's warm-up and
    # `papers-bot index` load the model first.
    variants=("vectors first", "model first"),
)
# Two sentences that mean nearly the same and one about something else: any sentence model
# puts the first two closer together.
TEXTS = (
    "A convolutional network classifies photographs of animals.",
    "Pictures of cats and dogs are labelled by a deep vision model.",
    "Medieval farmers rotated wheat, barley and fallow fields.",
)
RANDOM_ROWS = 64


class WrongAnswer(RuntimeError):
    """The part ran, and answered wrong."""


class ModelSettingBroken(RuntimeError):
    """PAPERS_EMBEDDING_MODEL names a folder whose model does not load: a setting to fix."""

    fix = "set PAPERS_EMBEDDING_MODEL to a sentence-transformers BERT folder, or unset it"


def check(order: str, folder: str = "", model: str = "") -> None:
    """`order`: one of SEARCH_BY_MEANING's variants; `folder`: the model's (empty: the
    packaged one); `model`: its fingerprint, which the loaded model must have."""
    where = model_folder(folder or None)
    with tempfile.TemporaryDirectory(prefix="papers-bot-probe-") as scratch:
        data_dir = Path(scratch)
        if order == "vectors first":
            _graph_finds_its_rows(data_dir, _dimension(where))
            vectors = _embedded(where, model, bool(folder))
        else:
            vectors = _embedded(where, model, bool(folder))
            _graph_finds_its_rows(data_dir, _dimension(where))
        _graph_finds_its_rows(data_dir / "embedded", vectors.shape[1], vectors)


def _dimension(folder: Path) -> int:
    return int(json.loads((folder / "config.json").read_text("utf-8"))["hidden_size"])


def _embedded(folder: Path, model: str, from_setting: bool) -> np.ndarray:
    """The TEXTS' vectors by the model in `folder` (of fingerprint `model`), checked."""
    try:
        embedder = Embedder(folder, cache=None, threads=1)
    except Exception as error:  # what `Semantic.embedder` reports as ModelMissing
        if from_setting:
            raise ModelSettingBroken(f"the model in {folder} cannot be loaded: {error}") from error
        raise ModelMissing(f"the packaged model cannot be loaded: {error}") from error
    if model and embedder.name != model:
        raise WrongAnswer(f"the model loaded is {embedder.name}, not {model}")
    try:
        return _checked(embedder.embed(list(TEXTS)), embedder.dim)
    except WrongAnswer as error:  # a model of the setting's own: the folder is to blame
        if from_setting:
            raise ModelSettingBroken(f"the model in {folder} answers wrong: {error}") from error
        raise


def _checked(vectors: np.ndarray, dim: int) -> np.ndarray:
    """`vectors` when they are what a sentence model gives: finite, of unit length, the two
    sentences of one meaning closer than the unrelated one."""
    import numpy as np

    if vectors.shape != (len(TEXTS), dim) or not np.isfinite(vectors).all():
        raise WrongAnswer(f"the model gave vectors of shape {vectors.shape} or not numbers")
    if not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3):
        raise WrongAnswer("the model's vectors are not of unit length")
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    if not similar > unrelated + 0.05:
        raise WrongAnswer(
            f"the model finds two sentences of one meaning no closer ({similar:.2f}) than "
            f"unrelated ones ({unrelated:.2f})"
        )
    return vectors


def _graph_finds_its_rows(data_dir: Path, dimension: int, rows: np.ndarray | None = None) -> None:
    """A graph made, saved and opened the ways `vectors` does, then asked for its own rows:
    each must come back first."""
    import numpy as np

    if rows is None:
        rows = np.random.default_rng(7).standard_normal((RANDOM_ROWS, dimension))
        rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    folder = folder_of(data_dir)
    folder.mkdir(parents=True)
    graph = new_graph(dimension)
    graph.add(np.arange(len(rows), dtype=np.uint64), rows)
    graph.save(str(folder / "ann.usearch"))
    State("probe", "probe", dimension, 1).write(folder)
    search = VectorSearch(data_dir)
    for key in range(0, len(rows), max(1, len(rows) // 8)):
        found = search.nearest(rows[key], 3)
        if not found or found[0][0] != key:
            raise WrongAnswer(f"the vectors' graph did not find row {key} it holds (got {found})")
