"""Search by meaning (the `[semantic]` extra): the real packaged model on onnxruntime, real
vectors on disk, the real engine. The sample library (and the trap papers) is embedded once
for the module and copied for each test that changes it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_settings
from bot.ingest.importer import import_files
from bot.library import Library
from bot.library.storage import StoreError
from bot.models import Paper
from bot.runtime import Runtime, semantic_for
from bot.search import SearchEngine
from bot.search.query import parse_query
from bot.search.semantic import Semantic
from bot.search.semantic.fusion import LABEL, meaning_weight
from bot.search.semantic.model import Embedder, ModelMissing, model_folder
from bot.search.semantic.vectors import ANN, ROWS, STATE, State, folder_of
from tests.conftest import DATA, ROOT, fill_disk, small_tmpfs

TRAPS = ("9901.00001", "9901.00002", "9901.00003", "9901.00004", "9901.00005")


def sample_library(data_dir: Path) -> Library:
    library = Library(data_dir)
    import_files(library, [DATA / "trap_papers.jsonl"])
    return library


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the sample library, its index and its vectors, made once."""
    data_dir = tmp_path_factory.mktemp("embedded") / "data"
    library = sample_library(data_dir)
    SearchEngine(library).close()
    assert Semantic(data_dir, threads=os.cpu_count() or 1).catch_up(library) == len(library)
    return data_dir


@pytest.fixture
def data_dir(embedded: Path, tmp_path: Path) -> Path:
    """A copy of the embedded data dir (the built model graph shared by a hard link)."""
    copy = tmp_path / "data"
    shutil.copytree(embedded, copy, ignore=shutil.ignore_patterns("models"))
    shutil.copytree(
        folder_of(embedded) / "models", folder_of(copy) / "models", copy_function=os.link
    )
    return copy


def engines(data_dir: Path) -> tuple[SearchEngine, SearchEngine, Semantic]:
    library = Library(data_dir)
    semantic = Semantic(data_dir)
    return SearchEngine(library), SearchEngine(library, semantic=semantic), semantic


def ids(engine: SearchEngine, query: str, limit: int = 5) -> list[str]:
    return [r.paper.id for r in engine.search(query, limit).results]


# -- the model -----------------------------------------------------------------------------


def test_the_graph_gives_sentence_transformers_vectors() -> None:
    """tests/data/semantic/reference_vectors.json: what sentence-transformers (PyTorch) gave
    for six texts, the empty one and one far past 256 tokens among them."""
    reference = json.loads((DATA / "semantic" / "reference_vectors.json").read_text("utf-8"))
    ours = Embedder(model_folder(None)).embed(reference["texts"])
    theirs = np.array(reference["vectors"], dtype=np.float32)
    assert ours.shape == theirs.shape == (6, 384)
    assert np.abs(ours - theirs).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_a_batch_gives_each_text_the_vector_it_gets_alone() -> None:
    embedder = Embedder(model_folder(None))
    texts = ["graph neural networks", "a much longer text " * 30, "kan"]
    together = embedder.embed(texts, batch=3)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_a_model_setting_that_is_no_model_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelMissing, match="missing model.safetensors, tokenizer.json"):
        model_folder(str(tmp_path))


def test_a_broken_model_leaves_search_lexical(data_dir: Path, tmp_path: Path, caplog) -> None:
    (tmp_path / "model").mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (tmp_path / "model" / name).write_text("not a model")
    library = Library(data_dir)
    broken = SearchEngine(library, semantic=Semantic(data_dir, str(tmp_path / "model")))
    query = "finding weak spots in software from how its routines are named"
    assert ids(broken, query) == ids(SearchEngine(library), query)
    assert "search by meaning is off" in caplog.text


# -- which queries, and what they find ---------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "kan",
        "KANs",
        "transformer",
        "author:Liu",
        '"neural network"',
        "2408.08338",
        "kan since:2024",
    ],
)
def test_one_word_ids_filters_and_phrases_stay_lexical(data_dir: Path, query: str) -> None:
    assert meaning_weight(parse_query(query)) is None
    words, meant, _ = engines(data_dir)
    first, second = words.search(query, 10), meant.search(query, 10)
    assert [(r.paper.id, r.score) for r in first.results] == [
        (r.paper.id, r.score) for r in second.results
    ]
    assert first.total == second.total


@pytest.mark.parametrize("query", ["kan", "KANs", "kan networks", "kan layers"])
def test_kan_finds_no_kanban_kannada_or_kandinsky_with_meaning_on(
    data_dir: Path, query: str
) -> None:
    _, meant, _ = engines(data_dir)
    found = ids(meant, query)
    assert not set(found) & set(TRAPS), found
    assert "2408.08338" in found


def test_a_description_finds_its_paper_and_says_it_matched_by_meaning(data_dir: Path) -> None:
    words, meant, _ = engines(data_dir)
    query = "removing a few feed-forward units to reduce prejudice about groups of people"
    assert "2607.28319" not in ids(words, query, 10)
    response = meant.search(query, 3)
    assert response.results[0].paper.id == "2607.28319"
    assert response.total >= len(response.results)
    # A paper no word of the query matched says how it was found; word matches say theirs.
    for result in response.results:
        assert result.matched, result.paper.id
        if result.coverage == 0:
            assert result.matched == [LABEL]


def test_two_word_queries_lean_on_their_words(data_dir: Path) -> None:
    assert meaning_weight(parse_query("activation functions")) == 0.3
    assert meaning_weight(parse_query("activation functions in transformers")) == 0.5
    words, meant, _ = engines(data_dir)
    # The two papers about activation functions stay on top, as by words alone.
    assert ids(words, "activation functions", 2) == ["2004.02967", "2411.03884"]
    assert {"2004.02967", "2411.03884"} <= set(ids(meant, "activation functions", 3))


def test_follow_alerts_search_by_words_alone(data_dir: Path) -> None:
    words, meant, _ = engines(data_dir)
    query = "removing a few feed-forward units to reduce prejudice about groups of people"
    assert ids(meant, query, 10) != ids(words, query, 10)
    alone = meant.search(query, 10, meaning=False)
    assert [r.paper.id for r in alone.results] == ids(words, query, 10)


# -- the vectors on disk ---------------------------------------------------------------------


def paper(paper_id: str, title: str, abstract: str, upvotes: int = 0) -> Paper:
    return Paper(
        id=paper_id, title=title, abstract=abstract, authors=["A. Author"], upvotes=upvotes
    )


ROBOT = paper(
    "2611.00001",
    "Grasping from Watching",
    "Robots learn to pick up household objects by watching videos of people doing it, "
    "without any teleoperated demonstrations.",
)


def test_only_changed_text_is_embedded_again(data_dir: Path) -> None:
    library = Library(data_dir)
    semantic = Semantic(data_dir)
    assert semantic.catch_up(library) == 0  # nothing changed since the module's embedding
    library.upsert_many([ROBOT])
    assert semantic.catch_up(library) == 1
    library.upsert_many([replace(ROBOT, upvotes=40)])  # the feed shows it; its text is the same
    assert semantic.behind(library) == 1
    assert semantic.catch_up(library) == 0
    library.upsert_many([replace(ROBOT, abstract=ROBOT.abstract + " It also folds laundry.")])
    assert semantic.catch_up(library) == 1
    meant = SearchEngine(library, semantic=Semantic(data_dir))
    assert ids(
        meant, "teaching a robot arm to pick things up by showing it recordings of humans", 3
    )[0] == (ROBOT.id)


def test_stopped_midway_it_resumes_where_it_stopped(tmp_path: Path) -> None:
    library = sample_library(tmp_path / "data")
    semantic = Semantic(tmp_path / "data")
    stop = threading.Event()
    batches: list[int] = []

    def after_a_batch(size: int) -> None:
        batches.append(size)
        stop.set()

    first = semantic.catch_up(library, progress=after_a_batch, stop=stop)
    state = State.read(folder_of(tmp_path / "data"))
    assert first == batches[0] < len(library)
    assert state is not None and 0 < state.seq < library.catalog.last_seq()
    assert semantic.catch_up(library) == len(library) - first


def test_another_model_or_catalog_makes_the_vectors_again(data_dir: Path) -> None:
    folder = folder_of(data_dir)
    state = State.read(folder)
    assert state is not None
    replace_state = state._replace(model="another-model")
    replace_state.write(folder)
    library = Library(data_dir)
    assert Semantic(data_dir).catch_up(library) == len(library)


def test_a_damaged_graph_keeps_search_lexical_and_is_made_again(data_dir: Path, caplog) -> None:
    (folder_of(data_dir) / ANN).write_bytes(b"\x00garbage" * 100)
    (folder_of(data_dir) / STATE).touch()  # searchers look again
    words, meant, semantic = engines(data_dir)
    query = "removing a few feed-forward units to reduce prejudice about groups of people"
    assert ids(meant, query) == ids(words, query)
    assert "could not be opened" in caplog.text
    library = Library(data_dir)
    assert semantic.catch_up(library) == len(library)
    fresh = SearchEngine(library, semantic=Semantic(data_dir))
    assert ids(fresh, query, 1) == ["2607.28319"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """160 MB: the model's graph alone is 90 MB; the test fills the rest."""
    with small_tmpfs(tmp_path, "160m") as disk:
        yield disk


def test_a_full_disk_stops_embedding_with_a_clear_error_and_loses_nothing(
    embedded: Path, small_disk: Path
) -> None:
    data_dir = small_disk / "data"
    shutil.copytree(embedded, data_dir)
    library = Library(data_dir)
    library.upsert_many([ROBOT])
    words, meant, semantic = engines(data_dir)
    before = {p.name: p.read_bytes() for p in folder_of(data_dir).iterdir() if p.is_file()}
    filler = fill_disk(small_disk)
    with pytest.raises(StoreError, match="the disk is full"):
        semantic.catch_up(library)
    after = {p.name: p.read_bytes() for p in folder_of(data_dir).iterdir() if p.is_file()}
    assert after.keys() - {ROWS} == before.keys() - {ROWS}  # no partial graph left behind
    assert {k: v for k, v in after.items() if k != ROWS} == {
        k: v for k, v in before.items() if k != ROWS
    }
    query = "removing a few feed-forward units to reduce prejudice about groups of people"
    assert ids(meant, query, 1) == ["2607.28319"]  # the last checkpoint still serves
    filler.unlink()
    assert semantic.catch_up(library) == 1
    fresh = SearchEngine(library, semantic=Semantic(data_dir))
    robot = "teaching a robot arm to pick things up by showing it recordings of humans"
    assert ids(fresh, robot, 1) == [ROBOT.id]


def test_a_killed_embedding_run_is_finished_by_the_next(tmp_path: Path) -> None:
    """`papers-bot index` SIGKILLed while embedding (a real process), then run again: every
    paper has one vector, none twice."""
    data_dir = tmp_path / "data"
    library = sample_library(data_dir)
    env = {**os.environ, "PAPERS_DATA_DIR": str(data_dir), "PAPERS_SEMANTIC": "1"}
    command = [sys.executable, "-u", "-m", "bot", "index"]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:  # killed once it is embedding (after the index is built)
        if "search index" in line:
            time.sleep(1.0)
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    finished = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert "vectors for search by meaning" in finished.stdout
    state = State.read(folder_of(data_dir))
    assert state is not None and state.seq == library.catalog.last_seq()
    from usearch.index import Index

    graph = Index.restore(str(folder_of(data_dir) / ANN))
    assert graph is not None and len(graph) == len(library)
    nums = sorted(library.catalog.nums_of(library.papers()).values())
    assert sorted(int(k) for k in graph.keys) == nums


def test_papers_bot_import_embeds_the_papers_it_added(data_dir: Path, tmp_path: Path) -> None:
    from bench.measure import write_jsonl

    write_jsonl([ROBOT], tmp_path / "robot.jsonl")
    env = {**os.environ, "PAPERS_DATA_DIR": str(data_dir), "PAPERS_SEMANTIC": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import", str(tmp_path / "robot.jsonl")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    library = Library(data_dir)
    assert Semantic(data_dir).behind(library) == 0
    meant = SearchEngine(library, semantic=Semantic(data_dir))
    assert ids(
        meant, "teaching a robot arm to pick things up by showing it recordings of humans", 1
    ) == [ROBOT.id]


def test_a_serving_bot_embeds_new_papers_in_the_background(data_dir: Path) -> None:
    library = Library(data_dir)
    semantic = Semantic(data_dir)
    meant = SearchEngine(library, semantic=semantic)
    query = "teaching a robot arm to pick things up by showing it recordings of humans"
    semantic.start_background(library, interval=0.1)
    try:
        library.upsert_many([ROBOT])
        deadline = time.monotonic() + 60
        while ROBOT.id not in ids(meant, query, 3) and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        semantic.stop_background()
    assert ids(meant, query, 3)[0] == ROBOT.id


# -- settings ---------------------------------------------------------------------------------


def test_installed_it_is_on_and_papers_semantic_0_turns_it_off(tmp_path: Path) -> None:
    on = load_settings({"PAPERS_DATA_DIR": str(tmp_path)})
    assert on.semantic and semantic_for(on) is not None
    off = load_settings({"PAPERS_DATA_DIR": str(tmp_path), "PAPERS_SEMANTIC": "0"})
    assert semantic_for(off) is None
    runtime = Runtime.open(off)
    assert runtime.search.semantic is None


def test_a_bad_model_setting_fails_papers_bot_index_clearly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_SEMANTIC": "1",
        "PAPERS_EMBEDDING_MODEL": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "index"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "PAPERS_EMBEDDING_MODEL" in done.stderr and "Traceback" not in done.stderr
