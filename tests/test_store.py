"""The library's behaviour on each backend (files and PostgreSQL: the `library` fixtures run
every test on both), and what only files have: atomic writes, locks, kills, a full disk."""

from __future__ import annotations

import errno
import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from bot.library import CATALOG_FILE, SCHEMA_VERSION, STATE_FILE, Library, storage
from bot.library.storage import StoreError, StoreWriteError
from bot.models import Paper
from tests.conftest import reopen


def paper(n: int, **fields) -> Paper:
    return Paper(id=f"2501.{n:05d}", title=f"Paper {n}", abstract=f"Abstract {n}.", **fields)


def test_new_data_dir_starts_with_the_sample_library(tmp_path: Path) -> None:
    library = Library(tmp_path / "d")
    assert len(library) == 111
    assert library.get("2408.08338").title.startswith("Activation Space Selectable")


def test_sample_data_can_be_turned_off(tmp_path: Path) -> None:
    assert len(Library(tmp_path / "d", sample_data=False)) == 0


def _catalog_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])


def test_each_file_carries_a_schema_version(file_library: Library) -> None:
    data = json.loads((file_library.data_dir / STATE_FILE).read_text())
    assert data["_meta"]["schema"]["version"] == SCHEMA_VERSION
    assert _catalog_version(file_library.data_dir / CATALOG_FILE) == SCHEMA_VERSION


def test_the_catalog_is_one_sqlite_file_with_a_change_feed(empty_library: Library) -> None:
    catalog = empty_library.catalog
    empty_library.upsert_many([paper(1), paper(2)])
    start = catalog.last_seq()
    empty_library.upsert_many([paper(2, upvotes=7), paper(3)])
    changed = [(c.paper.id, c.paper.upvotes) for c in catalog.changes_since(start)]
    assert changed == [("2501.00002", 7), ("2501.00003", 0)]  # only what changed, in order
    assert catalog.count_since(start) == 2 and catalog.last_seq() == start + 2
    num = catalog.num_of("2501.00002")
    assert num is not None and catalog.by_nums([num])[num].upvotes == 7  # the key never moves


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    Library(tmp_path / "d", sample_data=False).upsert_many([paper(1)])
    with closing(sqlite3.connect(tmp_path / "d" / CATALOG_FILE)) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION + 1,))
        conn.commit()
    with pytest.raises(StoreError, match="newer than this papers-bot understands"):
        Library(tmp_path / "d").get("2501.00001")
    state = tmp_path / "d" / STATE_FILE
    data = json.loads(state.read_text())
    data["_meta"]["schema"]["version"] = SCHEMA_VERSION + 1
    state.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="newer than this papers-bot understands"):
        Library(tmp_path / "d")


def test_a_damaged_catalog_is_set_aside_never_overwritten_and_the_rest_serves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = Library(tmp_path / "d", sample_data=False)
    first.upsert_many([paper(1)])
    first.saves.add("U1", "2501.00001")
    first.catalog.close()
    path = tmp_path / "d" / CATALOG_FILE
    garbage = b"not a database " * 100
    path.write_bytes(garbage)
    library = Library(tmp_path / "d")
    assert library.get("2501.00001") is None  # an answer, not a traceback
    [aside] = path.parent.glob(f"{CATALOG_FILE}.damaged-*")
    assert aside.read_bytes() == garbage  # kept, byte for byte
    assert library.missing_parts() == ["the paper catalog"]
    [record] = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert "papers-bot import" in record.getMessage()
    assert [p for p, _ in library.saves.of_user("U1")] == ["2501.00001"]  # state intact
    assert library.upsert_many([paper(1)]).added == ["2501.00001"]  # it can be restored
    assert Library(tmp_path / "d").get("2501.00001") is not None


def _spoil_record(library: Library, paper_id: str) -> None:
    """Make a stored row something other than a paper, behind the library's back."""
    sql = f"UPDATE papers SET record = '[1, 2]' WHERE id = '{paper_id}'"
    if library.database_url:
        import psycopg

        from bot.library.pg_schema import psycopg_url

        with psycopg.connect(psycopg_url(library.database_url), autocommit=True) as pg:
            pg.execute(sql)
        return
    with closing(sqlite3.connect(library.data_dir / CATALOG_FILE)) as conn:
        conn.execute(sql)
        conn.commit()


def test_a_row_that_is_not_a_paper_is_skipped_not_a_traceback(empty_library: Library) -> None:
    empty_library.upsert_many([paper(1), paper(2)])
    _spoil_record(empty_library, "2501.00001")
    assert set(reopen(empty_library).papers()) == {"2501.00002"}
    assert reopen(empty_library).get("2501.00001") is None


def test_a_data_dir_of_the_json_month_files_moves_into_sqlite_once(tmp_path: Path) -> None:
    """Releases before the SQLite catalog kept `catalog/YYMM.json`: nothing is lost."""
    old = tmp_path / "d" / "catalog"
    old.mkdir(parents=True)
    record = paper(1, upvotes=4).to_record() | {"listed": "2025-01-03", "updated": "2025-01-03"}
    meta = {"_meta": {"schema": {"version": SCHEMA_VERSION}}}
    (old / "2501.json").write_text(json.dumps(meta | {"papers": {record["id"]: record}}))
    listings = {"days": {"2025-01-03": {"ids": ["2501.00001"]}}}
    (old / "listings.json").write_text(json.dumps(meta | listings))
    library = Library(tmp_path / "d")
    moved = library.get("2501.00001")
    assert moved is not None and moved.upvotes == 4 and moved.updated == "2025-01-03"
    assert [p.id for p in library.listed_on("2025-01-03")] == ["2501.00001"]
    assert len(library) == 1  # the sample library is not added to a moved one
    assert not old.exists() and (tmp_path / "d" / "catalog.before-sqlite" / "2501.json").exists()


def test_a_save_never_rewrites_the_catalog(library: Library) -> None:
    before = _catalog_files(library)
    assert library.saves.add("U1", "2408.08338") is True
    assert _catalog_files(library) == before
    assert library.saves.of_user("U1")[0][0] == "2408.08338"


def _catalog_files(library: Library) -> list[tuple[str, bytes]]:
    folder = library.data_dir
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob(f"{CATALOG_FILE}*"))]


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
    before = empty_library.catalog.last_seq()
    result = empty_library.upsert_many([paper(1, upvotes=5)])
    assert (result.added, result.updated, result.unchanged) == ([], [], ["2501.00001"])
    assert empty_library.catalog.last_seq() == before  # nothing for the index to redo


def test_retried_event_ids_are_recognised(library: Library) -> None:
    assert library.events.first_sighting("Ev1") is True
    assert library.events.first_sighting("Ev1") is False
    assert reopen(library).events.first_sighting("Ev1") is False


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
    assert len(reopen(library).saves.rows()) == 8 * 40


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
    file_library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = file_library
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
