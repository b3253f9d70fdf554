"""PostgreSQL beside the embedded files (`python -m bench.postgres [SIZE]`, in `make bench`).

At SIZE papers (default 100,000), both backends in the same run: `/papers` end to end through
the real HTTP endpoint, a save, and on PostgreSQL what replicas add: a replica catching up
after another one ingests a 50-paper day, a replica restarted (its index on its disk) and one
started from nothing (building its index from the database), and three `papers-bot run`
replicas under 50 concurrent `/papers` (every acknowledgement timed). A PostgreSQL 15 server is
started for the run (Debian's package), or DATABASE_URL is used when set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.measure import (
    RESULTS,
    ROOT,
    bench_env,
    last_line,
    papers_end_to_end,
    percentile,
    served_bot,
)
from bench.synth import make_papers, make_queries
from bot.library import Library
from bot.models import Paper

BATCH = 20_000
SAVES = 200
SERVING = """
import sys, time
from bot.config import Settings
from bot.runtime import Runtime
start = time.perf_counter()
settings = Settings(data_dir=sys.argv[1], sample_data=False, database_url=sys.argv[2])
runtime = Runtime.open(settings, serving=True)
runtime.warm_up()
runtime.search.search("kan", 10)
print(time.perf_counter() - start)
"""


def _save_ms(library: Library, papers: list[Paper]) -> dict[str, float]:
    times = []
    for n, paper in enumerate(papers[:SAVES]):
        start = time.perf_counter()
        library.saves.add(f"U{n % 20:03d}", paper.id)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(times, 50), "p95": percentile(times, 95)}


def _build_index(data_dir: Path, database_url: str | None) -> float:
    env = bench_env(data_dir) | ({"DATABASE_URL": database_url} if database_url else {})
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot.search", str(data_dir)], env=env, cwd=ROOT, check=True
    )
    return time.perf_counter() - start


def _catch_up_s(replica: Path, database_url: str, papers: list[Paper]) -> float:
    """Another replica ingests a 50-paper day; how long until this one can search it."""
    day = [
        Paper(id=f"2612.{90000 + i:05d}", title=f"Replica catch-up paper {i}", abstract=p.abstract)
        for i, p in enumerate(papers[:50])
    ]
    with served_bot(replica, background_refresh=True, database_url=database_url) as bot:
        engine = bot.runtime.search
        before = len(engine.index)
        other = Library(
            replica.parent / "other-replica", sample_data=False, database_url=database_url
        )
        start = time.perf_counter()
        other.upsert_many(day)
        while len(engine.index) < before + len(day) and time.perf_counter() - start < 60:
            time.sleep(0.01)
        return time.perf_counter() - start


def _ready_s(data_dir: Path, database_url: str) -> float:
    return float(last_line(SERVING, [str(data_dir), database_url], bench_env(data_dir)))


def _three_replicas_acks(
    work: Path, index_dir: Path, database_url: str, queries: list[str]
) -> dict:
    """Three `papers-bot run` processes (each with a copy of the built index), 50 concurrent
    signed `/papers` spread over them; every acknowledgement's time."""
    import httpx

    from bot.console.slack_requests import FORM, signed_headers, slash_command_body
    from tests.slack.standin import TestSlack
    from tests.slack.test_run_and_console import free_port

    standin = TestSlack(bot_token="xoxb-bench").start()
    urls, processes = [], []
    with ExitStack() as stack:
        stack.callback(standin.stop)
        for n in range(3):
            data = work / f"run-replica-{n}"
            shutil.copytree(index_dir, data / "index")
            port = free_port()
            env = bench_env(data) | {
                "DATABASE_URL": database_url,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": standin.api_url,
                "HF_API_URL": "http://127.0.0.1:9/api",
                "PORT": str(port),
            }
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            stack.callback(lambda p=process: (p.terminate(), p.wait()))
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)

        def one(n: int) -> float:
            body = slash_command_body(
                queries[n], f"U{n:03d}", "C1", standin.response_url(f"r{n}"), "t"
            )
            headers = signed_headers(body, "bench") | {"content-type": FORM}
            start = time.perf_counter()
            response = httpx.post(
                f"{urls[n % 3]}/slack/events", content=body, headers=headers, timeout=30
            )
            elapsed = time.perf_counter() - start
            return elapsed if response.status_code == 200 else float("inf")

        with ThreadPoolExecutor(max_workers=50) as pool:
            acks = list(pool.map(one, range(50)))
        standin.wait_for("response_url", 50, timeout=120)
    return {"ack_max_s": max(acks), "ack_p50_s": percentile(acks, 50), "answered": 50}


def measure(size: int = 100_000) -> dict[str, Any]:
    from tests.postgres_server import fresh_database, running_server

    papers = make_papers(size)
    queries = make_queries(papers, 200)
    work = Path(tempfile.mkdtemp(prefix="papers-pg-bench-"))
    result: dict[str, Any] = {"papers": size}
    try:
        with ExitStack() as stack:
            server = os.environ.get("DATABASE_URL") or stack.enter_context(running_server())
            database = fresh_database(server)
            files, pg = work / "files", work / "pg-replica"
            for name, library in (
                ("files", Library(files, sample_data=False)),
                ("postgres", Library(pg, sample_data=False, database_url=database)),
            ):
                start = time.perf_counter()
                for i in range(0, size, BATCH):
                    library.upsert_many(papers[i : i + BATCH])
                result[f"{name}_import_s"] = time.perf_counter() - start
            result["files_build_s"] = _build_index(files, None)
            result["postgres_build_s"] = _build_index(pg, database)
            index_copy = work / "built-index"
            shutil.copytree(pg / "index", index_copy)
            # As `papers-bot run` serves: catching up in the background, never in a request.
            result["papers_e2e_ms"] = {
                "files": papers_end_to_end(files, queries, background_refresh=True),
                "postgres": papers_end_to_end(pg, queries, database, background_refresh=True),
            }
            result["save_ms"] = {
                "files": _save_ms(Library(files, sample_data=False), papers),
                "postgres": _save_ms(Library(pg, sample_data=False, database_url=database), papers),
            }
            result["catch_up_s"] = _catch_up_s(pg, database, papers)
            result["restart_ready_s"] = _ready_s(pg, database)
            result["fresh_ready_s"] = _ready_s(work / "new-replica", database)
            result["three_replicas"] = _three_replicas_acks(work, index_copy, database, queries)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def table(result: dict[str, Any]) -> str:
    e2e, save = result["papers_e2e_ms"], result["save_ms"]

    def pair(figures: dict[str, float], digits: int) -> str:
        return f"{figures['p50']:.{digits}f} / {figures['p95']:.{digits}f}"

    rows = [
        (
            "/papers end to end p50 / p95 (ms)",
            pair(e2e["files"], 1),
            pair(e2e["postgres"], 1),
            "p95 within 1.5x",
        ),
        ("save p50 / p95 (ms)", pair(save["files"], 2), pair(save["postgres"], 2), "p95 < 20 ms"),
        (
            "catalog import (s)",
            f"{result['files_import_s']:.1f}",
            f"{result['postgres_import_s']:.1f}",
            "",
        ),
        (
            "index build from nothing (s)",
            f"{result['files_build_s']:.1f}",
            f"{result['postgres_build_s']:.1f}",
            "",
        ),
        (
            "a replica's catch-up after another ingests 50 papers (s)",
            "–",
            f"{result['catch_up_s']:.2f}",
            "< 2 s",
        ),
        (
            "a replica restarted, its index on disk: ready (s)",
            "–",
            f"{result['restart_ready_s']:.2f}",
            "< 5 s",
        ),
        (
            "a replica from nothing (builds its index): ready (s)",
            "–",
            f"{result['fresh_ready_s']:.1f}",
            "",
        ),
        (
            "3 replicas, 50 concurrent /papers: slowest ack (s)",
            "–",
            f"{result['three_replicas']['ack_max_s']:.2f}",
            "< 3 s",
        ),
    ]
    head = f"| {result['papers']:,} papers | files | PostgreSQL | target |\n|---|---|---|---|\n"
    return head + "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    result = measure(size)
    print(table(result))
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved["postgres"] = result
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


if __name__ == "__main__":
    main()
