"""Proof under faults: SIGKILL at random moments, threads racing, full and read-only disks.

`make test` runs the quick versions; `make soak` (PAPERS_SOAK=1) the long ones: 200 kills.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.digest import run_digest
from bot.library import CATALOG_FILE, STATE_FILE, Library
from bot.library.storage import StoreWriteError
from bot.models import Paper
from bot.search import SearchEngine
from tests.conftest import fill_disk, small_tmpfs
from tests.slack.standin import TestSlack

SOAK = os.environ.get("PAPERS_SOAK") == "1"
KILLS = int(os.environ.get("PAPERS_KILLS", "200" if SOAK else "30"))

WORKER = """
import sys
from datetime import date, timedelta
from bot.config import Settings
from bot.digest import run_digest
from bot.models import Paper
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot

api_url, token, data_dir, round_ = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
settings = Settings(slack_bot_token=token, slack_api_url=api_url, data_dir=data_dir,
                    sample_data=False)
runtime = Runtime.open(settings)
slackbot = SlackBot(runtime, make_client(settings))
for i in range(10_000):
    day = date(2026, 1, 1) + timedelta(days=round_ * 50 + i)
    batch = [Paper(id=f"2601.{round_ * 5000 + i * 5 + k:05d}", title=f"Paper {round_} {i} {k}",
                   abstract="We propose a thing. " * 40, listed=day.isoformat(), upvotes=k)
             for k in range(5)]
    runtime.library.upsert_many(batch)
    user = f"U{round_}"
    runtime.library.saves.add(user, batch[0].id)
    print("saved", user, batch[0].id, flush=True)
    run_digest(runtime.library, slackbot, "C0PAPERS", day, 3, ["bookmark"], pace=0)
"""


@pytest.fixture
def slack() -> Iterator[TestSlack]:
    standin = TestSlack().start()
    yield standin
    standin.stop()


def _assert_files_whole(data_dir: Path) -> None:
    json.loads((data_dir / STATE_FILE).read_text())  # raises on a torn file
    with closing(sqlite3.connect(data_dir / CATALOG_FILE)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_sigkill_at_random_moments(tmp_path: Path, slack: TestSlack) -> None:
    data = tmp_path / "data"
    Library(data, sample_data=False)
    rng = random.Random(2026)
    acknowledged: set[tuple[str, str]] = set()
    rounds = max(1, KILLS // 10)
    kills = 0
    for round_ in range(rounds):
        # One worker process per round is killed several times; each restart goes on.
        for _ in range(10):
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    slack.api_url,
                    slack.bot_token,
                    str(data),
                    str(round_ * 10 + kills % 10),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(rng.uniform(0.3, 1.5))
            child.send_signal(signal.SIGKILL)
            out, _ = child.communicate()
            kills += 1
            for line in out.splitlines():
                # Only a whole "saved USER PAPER" line acknowledges a save; anything else on the
                # child's stdout (a fresh clone's first run once wrote a one-word line) does not.
                words = line.split()
                if len(words) == 3 and words[0] == "saved":
                    acknowledged.add((words[1], words[2]))
            _assert_files_whole(data)
            library = Library(data)
            saved = {(r["user"], r["paper"]) for r in library.saves.rows().values()}
            assert acknowledged <= saved, "an acknowledged save was lost"
    assert kills == rounds * 10 and acknowledged
    # Rerun every interrupted digest: nothing is posted twice, ever.
    library = Library(data)
    from bot.config import Settings
    from bot.runtime import Runtime
    from bot.slack.client import make_client
    from bot.slack.slackbot import SlackBot

    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_api_url=slack.api_url,
        data_dir=data,
        sample_data=False,
    )
    slackbot = SlackBot(Runtime.open(settings), make_client(settings))
    from datetime import date

    for record in list(library.ledger.digests().values()):
        run_digest(
            library,
            slackbot,
            "C0PAPERS",
            date.fromisoformat(record["day"]),
            3,
            ["bookmark"],
            pace=0,
        )
    cards = [m for m in slack.messages.get("C0PAPERS", []) if m.get("thread_ts")]
    papers = [c["blocks"][-1]["elements"][0]["value"] for c in cards]
    assert len(papers) == len(set(papers)), "a paper was posted twice"
    headers = [m["text"] for m in slack.messages.get("C0PAPERS", []) if not m.get("thread_ts")]
    assert len(headers) == len(set(headers)), "a digest header was posted twice"
    print(f"{kills} kills, {len(acknowledged)} acknowledged saves, {len(papers)} cards")


def test_threads_give_the_state_a_serial_run_gives(tmp_path: Path) -> None:
    threads, ops_per_thread = 8, 500

    def plan(t: int) -> list[tuple[str, str]]:
        rng = random.Random(t)
        ops = []
        for n in range(ops_per_thread):
            kind = rng.choice(["save", "save", "unsave", "search", "ingest"])
            if kind == "ingest":
                ops.append(("ingest", f"2602.{t * 1000 + n:05d}"))
            elif kind == "search":
                ops.append(("search", rng.choice(["kan", "speculative decoding", "agents"])))
            else:
                ops.append((kind, f"2602.{t * 1000 + rng.randrange(n + 1):05d}"))
        return ops

    def apply(library: Library, engine: SearchEngine, user: str, op: tuple[str, str]) -> None:
        kind, arg = op
        if kind == "save":
            library.saves.add(user, arg)
        elif kind == "unsave":
            library.saves.remove(user, arg)
        elif kind == "search":
            engine.search(arg, 5)
        else:
            library.upsert_many([Paper(id=arg, title=f"Agents {arg}", abstract="Agents.")])

    def final_state(library: Library) -> tuple:
        saves = sorted((r["user"], r["paper"]) for r in library.saves.rows().values())
        return saves, sorted(library.papers())

    concurrent = Library(tmp_path / "concurrent")
    engine = SearchEngine(concurrent)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for op in plan(t):
                apply(concurrent, engine, f"U{t}", op)
        except BaseException as error:  # reported below
            errors.append(error)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    serial = Library(tmp_path / "serial")
    serial_engine = SearchEngine(serial)
    for t in range(threads):
        for op in plan(t):
            apply(serial, serial_engine, f"U{t}", op)
    assert final_state(Library(tmp_path / "concurrent")) == final_state(serial)


# -- full and read-only disks: a real small tmpfs when this machine lets us mount one ----------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path, "4m") as disk:
        yield disk


def test_full_disk_keeps_old_files_says_so_and_search_still_works(small_disk: Path) -> None:
    library = Library(small_disk / "data")
    engine = SearchEngine(library)
    library.saves.add("U1", "2408.08338")
    before = {p.name: p.read_bytes() for p in (small_disk / "data").rglob("*.json")}
    filler = fill_disk(small_disk)
    with pytest.raises(StoreWriteError, match="the disk is full"):
        library.saves.add("U1", "2503.10632")
    with pytest.raises(StoreWriteError, match="the disk is full"):
        library.upsert_many([Paper(id="2408.99999", title="New " * 200, abstract="x " * 5000)])
    after = {p.name: p.read_bytes() for p in (small_disk / "data").rglob("*.json")}
    assert after == before
    assert not list((small_disk / "data").rglob("*.tmp"))
    assert library.get("2408.99999") is None and len(library) == 111  # rolled back whole
    assert [r.paper.id for r in engine.search("kan", 2).results]
    assert [p for p, _ in Library(small_disk / "data").saves.of_user("U1")] == ["2408.08338"]
    filler.unlink()
    assert library.saves.add("U1", "2503.10632") is True


def test_read_only_disk(small_disk: Path) -> None:
    library = Library(small_disk / "data")
    engine = SearchEngine(library)
    # A disk remounts read-only only with no file open for writing: the databases let go
    # (as when the kernel turns a failing disk read-only, they reopen on the next use).
    library.catalog.close()
    engine.index.lexicon.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StoreWriteError, match="read-only"):
        library.saves.add("U1", "2408.08338")
    assert engine.search("kan", 2).results
    reopened = Library(small_disk / "data")  # opening a library on a read-only disk works
    assert reopened.get("2408.08338") is not None
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
