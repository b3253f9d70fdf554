"""The library on real files: atomic writes, batching, separate state, locks, kills."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.library import CATALOG_DIR, SCHEMA_VERSION, STATE_FILE, Library, shard_of, storage
from bot.library.storage import StoreError, StoreWriteError
from bot.models import Paper


def paper(n: int, **fields) -> Paper:
    return Paper(id=f"2501.{n:05d}", title=f"Paper {n}", abstract=f"Abstract {n}.", **fields)


def test_new_data_dir_starts_with_the_sample_library(tmp_path: Path) -> None:
    library = Library(tmp_path / "d")
    assert len(library) == 111
    assert library.get("2408.08338").title.startswith("Activation Space Selectable")


def test_sample_data_can_be_turned_off(tmp_path: Path) -> None:
    assert len(Library(tmp_path / "d", sample_data=False)) == 0


def test_each_file_carries_a_schema_version(library: Library) -> None:
    files = [library.data_dir / STATE_FILE, *(library.data_dir / CATALOG_DIR).glob("*.json")]
    assert len(files) > 10
    for path in files:
        data = json.loads(path.read_text())
        assert data["_meta"]["schema"]["version"] == SCHEMA_VERSION


def test_the_catalog_is_sharded_by_arxiv_month(library: Library) -> None:
    assert shard_of("2408.08338") == "2408" and shard_of("hep-th/9901001") == "old"
    shard = json.loads((library.data_dir / CATALOG_DIR / "2408.json").read_text())
    assert "2408.08338" in shard["papers"]


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    Library(tmp_path / "d", sample_data=False)
    Library(tmp_path / "d", sample_data=False).upsert_many([paper(1)])
    path = tmp_path / "d" / CATALOG_DIR / "2501.json"
    data = json.loads(path.read_text())
    data["_meta"]["schema"]["version"] = SCHEMA_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="newer than this papers-bot understands"):
        Library(tmp_path / "d").get("2501.00001")
    state = tmp_path / "d" / STATE_FILE
    data = json.loads(state.read_text())
    data["_meta"]["schema"]["version"] = SCHEMA_VERSION + 1
    state.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="newer than this papers-bot understands"):
        Library(tmp_path / "d")


def test_a_torn_shard_is_set_aside_never_overwritten_and_the_rest_serves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Library(tmp_path / "d", sample_data=False).upsert_many(
        [paper(1), Paper(id="2502.00002", title="Paper 2")]
    )
    path = tmp_path / "d" / CATALOG_DIR / "2501.json"
    path.write_text('{"papers": {"2501.0')
    library = Library(tmp_path / "d")
    assert library.get("2501.00001") is None
    assert library.get("2502.00002") is not None
    [aside] = path.parent.glob("2501.json.damaged-*")
    assert aside.read_text() == '{"papers": {"2501.0'  # kept, byte for byte
    assert not path.exists()
    assert library.missing_parts() == ["arXiv month 25-01"]
    [record] = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert "2501.json" in record.getMessage() and "papers-bot import" in record.getMessage()
    assert set(Library(tmp_path / "d").papers()) == {"2502.00002"}  # a restart serves too
    Library(tmp_path / "d").upsert_many([paper(1)])  # the month can be restored
    assert Library(tmp_path / "d").get("2501.00001") is not None


def test_a_shard_of_the_wrong_shape_is_set_aside_not_a_traceback(tmp_path: Path) -> None:
    Library(tmp_path / "d", sample_data=False).upsert_many(
        [paper(1), Paper(id="2502.00002", title="Paper 2")]
    )
    path = tmp_path / "d" / CATALOG_DIR / "2501.json"
    path.write_text(json.dumps({"papers": {"2501.00001": {"abstract": "no title"}}}))
    listings = tmp_path / "d" / CATALOG_DIR / "listings.json"
    listings.write_text("[1, 2, 3]")
    library = Library(tmp_path / "d")
    assert set(library.papers()) == {"2502.00002"}
    assert library.latest_listing() == (None, [])
    assert library.missing_parts() == ["arXiv month 25-01", "the Daily Papers listing days"]


def test_a_batch_is_one_atomic_write_per_shard(
    empty_library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr(
        storage.os, "replace", lambda a, b: (replaced.append(str(b)), real_replace(a, b))[1]
    )
    result = empty_library.upsert_many(paper(n) for n in range(50))
    assert len(result.added) == 50
    assert [Path(p).name for p in replaced] == ["2501.json"]


def test_a_save_never_rewrites_the_catalog(library: Library) -> None:
    before = library.catalog.signatures()
    assert library.saves.add("U1", "2408.08338") is True
    assert library.catalog.signatures() == before
    assert library.saves.of_user("U1")[0][0] == "2408.08338"


def test_saves_are_set_membership(library: Library) -> None:
    assert library.saves.add("U1", "2408.08338") is True
    assert library.saves.add("U1", "2408.08338") is False
    assert library.saves.add("U2", "2408.08338") is True
    assert library.saves.remove("U1", "2408.08338") is True
    assert library.saves.remove("U1", "2408.08338") is False
    assert [p for p, _ in library.saves.of_user("U2")] == ["2408.08338"]
    assert library.saves.of_user("U1") == []


def test_upsert_merges_without_losing_anything(empty_library: Library) -> None:
    empty_library.upsert_many([paper(1, upvotes=5, github_repo="https://github.com/a/b")])
    result = empty_library.upsert_many([paper(1, upvotes=9, ai_summary="Short.")])
    assert result.updated == ["2501.00001"]
    merged = empty_library.get("2501.00001")
    assert (merged.upvotes, merged.github_repo, merged.ai_summary) == (
        9,
        "https://github.com/a/b",
        "Short.",
    )
    # An older snapshot arriving later never lowers a count.
    empty_library.upsert_many([paper(1, upvotes=2)])
    assert empty_library.get("2501.00001").upvotes == 9


def test_the_same_batch_twice_changes_nothing(empty_library: Library) -> None:
    empty_library.upsert_many([paper(1, upvotes=5)])
    before = empty_library.catalog.signatures()
    result = empty_library.upsert_many([paper(1, upvotes=5)])
    assert (result.added, result.updated, result.unchanged) == ([], [], ["2501.00001"])
    assert empty_library.catalog.signatures() == before


def test_retried_event_ids_are_recognised(library: Library) -> None:
    assert library.events.first_sighting("Ev1") is True
    assert library.events.first_sighting("Ev1") is False
    assert Library(library.data_dir).events.first_sighting("Ev1") is False


def test_threads_lose_no_saves(library: Library) -> None:
    def worker(user: str) -> None:
        for n in range(60):
            library.saves.add(user, f"2501.{n:05d}")
            if n % 3 == 0:
                library.saves.remove(user, f"2501.{n:05d}")

    threads = [threading.Thread(target=worker, args=(f"U{t}",)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for t in range(8):
        assert len(library.saves.of_user(f"U{t}")) == 40
    assert len(Library(library.data_dir).saves.rows()) == 8 * 40


CHILD = """
import sys
from bot.library import Library
from bot.models import Paper
library = Library(sys.argv[1], sample_data=False)
user, count = sys.argv[2], int(sys.argv[3])
for n in range(count):
    library.saves.add(user, f"2501.{n:05d}")
    if n % 10 == 0:
        library.upsert_many([Paper(id=f"2502.{n:05d}", title=f"{user} {n}", abstract="x " * 200)])
    print(n, flush=True)
"""


def test_two_processes_on_one_data_dir_both_work_without_loss(tmp_path: Path) -> None:
    data = tmp_path / "d"
    Library(data, sample_data=False)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data), user, "80"], text=True, stdout=subprocess.PIPE
        )
        for user in ("UA", "UB")
    ]
    for child in children:
        child.communicate(timeout=120)
        assert child.returncode == 0
    library = Library(data)
    assert len(library.saves.of_user("UA")) == 80 and len(library.saves.of_user("UB")) == 80
    assert len(library) == 8  # ids 2502.00000..00070 step 10, written by both


def test_kill_at_random_moments_never_tears_a_file_or_loses_an_acknowledged_save(
    tmp_path: Path,
) -> None:
    data = tmp_path / "d"
    Library(data, sample_data=False)
    rng = random.Random(7)
    acknowledged: set[str] = set()
    for round_ in range(12):
        user = f"U{round_}"
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data), user, "100000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.4, 1.2))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        acknowledged |= {f"{user}:2501.{int(n):05d}" for n in out.split()}
        library = Library(data)  # opens: neither file is torn
        saved = set(library.saves.rows())
        assert acknowledged <= saved
    assert acknowledged, "the child never got to save anything"


def test_a_full_disk_leaves_the_old_file_and_says_so(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    library.saves.add("U1", "2408.08338")
    state = library.data_dir / STATE_FILE
    before = state.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", full)
    with pytest.raises(StoreWriteError, match="the disk is full"):
        library.saves.add("U1", "2503.10632")
    monkeypatch.undo()
    assert state.read_bytes() == before
    assert [p for p, _ in library.saves.of_user("U1")] == ["2408.08338"]
    assert not [p for p in library.data_dir.iterdir() if p.name.endswith(".tmp")]
    assert library.saves.add("U1", "2503.10632") is True


def test_an_import_into_a_damaged_month_sets_it_aside_and_starts_it_anew(tmp_path: Path) -> None:
    Library(tmp_path / "d", sample_data=False).upsert_many([paper(1)])
    shard = tmp_path / "d" / CATALOG_DIR / "2501.json"
    for damage in ('{"papers": {"2501.0', json.dumps({"papers": [1, 2]})):
        shard.write_text(damage)
        result = Library(tmp_path / "d").upsert_many([paper(2)])
        assert result.added == ["2501.00002"]
        assert set(Library(tmp_path / "d").papers()) == {"2501.00002"}
    assert len(list(shard.parent.glob("2501.json.damaged-*"))) == 2  # each one kept
