"""`/papers` acknowledgement and answer latency while another process imports papers.

The deployment README recommends: the bot, plus a cron `papers-bot import`/`fetch` on the same
data dir. This measures what a user sees then. A bot (the real app behind waitress, warmed up
and with its background refresher, as `papers-bot run` serves) answers a steady stream of
signed `/papers` commands (4 a second) in two phases, in one run:

- idle: nobody else writes the library;
- import: `papers-bot import` of N new papers runs in another process, until the bot has
  caught up with all of them.

*ack* is the HTTP round trip of the command (Slack needs it within 3 s); *answer* is the time
until the reply reaches the loopback response_url. Run: `python -m bench.outside_import [N]`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.measure import ROOT, ServedBot, bench_env, percentile, served_bot
from bench.synth import make_papers
from bot.library import Library
from bot.search import SearchEngine

PACE = 0.25  # seconds between commands
QUERIES = ["kan", "speculative decoding", "diffusion transformer", "agents", "rlhf"]


def _stream(bot: ServedBot, until: Callable[[], bool]) -> list[tuple[float, float]]:
    """Send commands every PACE seconds until `until()`; (ack ms, answer ms) of each."""
    results: list[tuple[float, float]] = []
    lock = threading.Lock()
    threads = []

    def one(n: int) -> None:
        reply_url = bot.standin.response_url(f"c{n}-{time.monotonic_ns()}")
        body, headers = bot.command(QUERIES[n % len(QUERIES)], reply_url)
        path = reply_url.removeprefix(bot.standin.base_url)
        start = time.perf_counter()
        with httpx.Client(timeout=30) as http:
            status = http.post(bot.url, content=body, headers=headers).status_code
        ack = (time.perf_counter() - start) * 1000
        calls = bot.standin.calls_to
        while not any(c.args.get("_path") == path for c in calls("response_url")):
            if time.perf_counter() - start > 60:
                break
            time.sleep(0.005)
        answer = (time.perf_counter() - start) * 1000
        with lock:
            results.append((ack if status == 200 else float("inf"), answer))

    n = 0
    while not until():
        thread = threading.Thread(target=one, args=(n,))
        thread.start()
        threads.append(thread)
        n += 1
        time.sleep(PACE)
    for thread in threads:
        thread.join(timeout=90)
    return results


def _figures(results: list[tuple[float, float]]) -> dict[str, float]:
    acks = [a for a, _ in results]
    answers = [b for _, b in results]
    return {
        "commands": len(results),
        "ack_p50_ms": percentile(acks, 50),
        "ack_p95_ms": percentile(acks, 95),
        "ack_max_ms": max(acks),
        "answer_p50_ms": percentile(answers, 50),
        "answer_p95_ms": percentile(answers, 95),
        "answer_max_ms": max(answers),
    }


def measure(new_papers: int, base_papers: int = 10_000, idle_seconds: float = 20) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="papers-bench-import-"))
    data = work / "data"
    library = Library(data, sample_data=True)
    library.upsert_many(make_papers(base_papers, seed=3))
    SearchEngine(library)  # the bot starts from a built index, as after an import
    batch = work / "batch.jsonl"
    fresh = make_papers(new_papers, seed=7)
    batch.write_text("\n".join(json.dumps(p.to_record()) for p in fresh), encoding="utf-8")
    with served_bot(data, background_refresh=True) as bot:
        target = len(set(bot.runtime.library.papers()) | {p.id for p in fresh})
        idle_until = time.monotonic() + idle_seconds
        idle = _stream(bot, lambda: time.monotonic() > idle_until)
        started = time.monotonic()
        importer = subprocess.Popen(
            [sys.executable, "-m", "bot", "import", str(batch)],
            env=bench_env(data),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def caught_up() -> bool:
            return importer.poll() is not None and len(bot.runtime.search.index) >= target

        during = _stream(bot, caught_up)
        took = time.monotonic() - started
    return {
        "library_papers": base_papers + 111,
        "imported_papers": new_papers,
        "import_and_catch_up_s": took,
        "idle": _figures(idle),
        "during_import": _figures(during),
    }


def table(result: dict[str, Any]) -> str:
    idle, during = result["idle"], result["during_import"]
    lines = [
        f"/papers while another process imports {result['imported_papers']:,} papers into a "
        f"library of {result['library_papers']:,} (import + catch-up "
        f"{result['import_and_catch_up_s']:.0f} s)",
        "",
        "| /papers (ms) | idle | during the import |",
        "|---|---|---|",
    ]
    for key, label in (
        ("ack_p50_ms", "ack p50"),
        ("ack_p95_ms", "ack p95"),
        ("ack_max_ms", "ack max"),
        ("answer_p50_ms", "answer p50"),
        ("answer_p95_ms", "answer p95"),
        ("answer_max_ms", "answer max"),
    ):
        lines.append(f"| {label} | {idle[key]:.0f} | {during[key]:.0f} |")
    lines.append(f"| commands sent | {idle['commands']} | {during['commands']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    result = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(table(result))
