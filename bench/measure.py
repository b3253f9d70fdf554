"""Benchmarks of papers-bot beside SQLite FTS5, on the same synthetic library, in one run.

Every figure is printed and saved to bench/results.json with the machine's description. These
machines are shared and noisy: latencies are percentiles over several rounds (the median round
is reported), one-off timings are medians of several runs, and each of ours sits beside FTS5's
from the same run. Nothing here passes or fails.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.synth import make_day, make_papers, make_queries
from bot.library import Library
from bot.models import Paper
from bot.search import SearchEngine
from bot.search.documents import FIELDS
from bot.search.query import parse_query

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def latency_figures(times: list[float]) -> dict[str, float]:
    """n, median, p95 and max of a list of timings (ms), for a latency table."""
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "max": max(times),
    }


def latency_rows(report: dict[str, Any], labels: dict[str, str], width: int) -> list[str]:
    """The table's heading and one row per measured kind (`labels` names them, in order)."""
    rows = [f"{'':{width}} {'n':>4} {'p50':>9} {'p95':>9} {'max':>9}"]
    for kind, label in labels.items():
        if kind in report:
            f = report[kind]
            rows.append(
                f"{label:{width}} {f['n']:>4} {f['p50']:>9.1f} {f['p95']:>9.1f} {f['max']:>9.1f}"
            )
    return rows


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def latency_ms(
    run: Callable[[str], Any],
    queries: list[str],
    rounds: int,
    before: Callable[[], Any] | None = None,
) -> dict[str, float]:
    """p50/p95/p99 in ms: per round over all queries; the median round of each is reported,
    and the first round's p50 too (no engine has seen the queries yet: caches are cold).
    `before` runs ahead of each query, untimed."""
    per_round = []
    for _ in range(rounds):
        times = []
        for query in queries:
            if before is not None:
                before()
            start = time.perf_counter()
            run(query)
            times.append((time.perf_counter() - start) * 1000)
        per_round.append({q: percentile(times, q) for q in (50, 95, 99)})
    figures = {f"p{q}": statistics.median(r[q] for r in per_round) for q in (50, 95, 99)}
    return figures | {"p50_first_round": per_round[0][50]}


def write_jsonl(papers: list[Paper], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for paper in papers:
            handle.write(json.dumps(paper.to_record(), ensure_ascii=False) + "\n")


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# -- SQLite FTS5, the tool a user would otherwise reach for --------------------------------


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class Fts5:
    """The papers in an FTS5 table: porter tokenizer, `bm25()` with papers-bot's field weights,
    free words OR-ed (an AND of every typed word finds nothing for most queries), "phrases" as
    FTS5 phrases, `author:` as a column filter, `since:` as a SQL condition."""

    def __init__(self, path: str | Path):
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.weights = ", ".join(
            str(FIELDS[f]) for f in ("title", "keywords", "abstract", "authors")
        )

    def create(self) -> None:
        self.db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS papers USING fts5(title, keywords, abstract, "
            "authors, id UNINDEXED, date UNINDEXED, upvotes UNINDEXED, "
            "tokenize='porter unicode61')"
        )

    def insert(self, papers: list[Paper]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT INTO papers VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.title,
                        " ; ".join(p.ai_keywords),
                        p.abstract,
                        " ; ".join(p.authors),
                        p.id,
                        p.date or "",
                        p.upvotes,
                    )
                    for p in papers
                ],
            )

    def import_jsonl(self, path: Path) -> None:
        with open(path, encoding="utf-8") as handle:
            papers = [Paper.from_record(json.loads(line)) for line in handle]
        self.create()
        self.insert(papers)
        self.db.execute("INSERT INTO papers(papers) VALUES('optimize')")
        self.db.commit()

    def search(self, raw: str, limit: int = 5) -> list[tuple]:
        parsed = parse_query(raw)
        words = re.findall(r"[^\W_]+", parsed.text if not parsed.paper_id else raw)
        parts = ["(" + " OR ".join(_quote(w) for w in words) + ")"] if words else []
        parts += [_quote(p) for p in parsed.phrases]
        parts += [f"authors : {_quote(a)}" for a in parsed.authors]
        if not parts:
            return []
        sql = (
            f"SELECT id, title FROM papers WHERE papers MATCH ? AND date >= ? "
            f"ORDER BY bm25(papers, {self.weights}) LIMIT ?"
        )
        try:
            return self.db.execute(sql, (" AND ".join(parts), parsed.since or "", limit)).fetchall()
        except sqlite3.OperationalError:
            return []


# -- cold starts, memory and /papers end to end, in fresh processes -------------------------

COLD_OURS = "import sys; from bot.cli import main; sys.exit(main(['search', '--json', 'kan']))"
COLD_FTS5 = """
import sys, sqlite3
db = sqlite3.connect(sys.argv[1])
query = "SELECT id, title FROM papers WHERE papers MATCH 'kan' ORDER BY bm25(papers) LIMIT 5"
print(db.execute(query).fetchall())
"""
# Peak memory is the child's VmHWM: ru_maxrss would be wrong here, since Linux carries it across
# exec from the fork of this (large) benchmark process.
BOT_WORKLOAD = """
import json, sys
from bot.config import load_settings
from bot.commands import Commands
from bot.runtime import Runtime
settings = load_settings()
runtime = Runtime.open(settings, serving=True)
runtime.warm_up()  # as `papers-bot run` does before serving
commands = Commands(runtime)
for query in json.loads(sys.argv[1]):
    commands.reply("U1", query)
commands.reply("U1", "trending")
commands.reply("U1", "saved")
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) * 1024)
"""


def bench_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERS_", "HF_"))}
    return env | {
        "PAPERS_DATA_DIR": str(data_dir),
        "PAPERS_SAMPLE_DATA": "0",
        "PYTHONPATH": str(ROOT),
    }


def cold_start(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, *args], env=env, cwd=ROOT, check=True, capture_output=True, timeout=300
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass
class ServedBot:
    """The real app behind waitress on 127.0.0.1, talking to the tests' Slack stand-in."""

    url: str
    standin: Any
    runtime: Any

    def command(self, query: str, response_url: str) -> tuple[str, dict[str, str]]:
        """A signed `/papers QUERY` body and its headers."""
        from bot.console.slack_requests import FORM, signed_headers, slash_command_body

        body = slash_command_body(query, "U1", "C1", response_url, "trigger")
        return body, signed_headers(body, "bench") | {"content-type": FORM}


@contextlib.contextmanager
def served_bot(
    data_dir: Path,
    background_refresh: bool = False,
    database_url: str | None = None,
    **changes: Any,
) -> Iterator[ServedBot]:
    """A bot on `data_dir`, warmed up as `papers-bot run` does before serving (and catching up
    with other processes in the background, when asked)."""
    from bot.config import Settings
    from bot.runtime import Runtime
    from bot.slack.app import create_app
    from bot.slack.client import make_client
    from bot.slack.http import create_server
    from tests.slack.standin import TestSlack

    standin = TestSlack(bot_token="xoxb-bench").start()
    settings = Settings(
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench",
        slack_api_url=standin.api_url,
        data_dir=data_dir,
        sample_data=False,
        hf_api_url="http://127.0.0.1:9/api",  # offline: nothing listens there
        database_url=database_url,
    )
    settings = replace(settings, **changes)
    runtime = Runtime.open(settings, serving=True)  # as `papers-bot run` opens it
    runtime.warm_up()
    if background_refresh:
        runtime.search.start_background_refresh()
    # waitress logs a traceback for connections still open when it is closed: noise here.
    logging.getLogger("waitress").setLevel(logging.CRITICAL)
    server = create_server(create_app(settings, make_client(settings), runtime), "127.0.0.1", 0)
    threading.Thread(target=lambda: _serve(server), daemon=True).start()
    try:
        yield ServedBot(f"http://127.0.0.1:{server.effective_port}/slack/events", standin, runtime)
    finally:
        runtime.search.stop_background_refresh()
        server.close()
        standin.stop()


def papers_end_to_end(
    data_dir: Path,
    queries: list[str],
    database_url: str | None = None,
    background_refresh: bool = False,
) -> dict[str, float]:
    """Signed `/papers` requests into the real HTTP endpoint, until the reply reaches a
    loopback response_url."""
    import httpx

    bot_on = served_bot(data_dir, background_refresh, database_url)
    times = []
    with bot_on as bot, httpx.Client(timeout=30) as http:
        for n, query in enumerate(queries):
            body, headers = bot.command(query, bot.standin.response_url(f"b{n}"))
            start = time.perf_counter()
            http.post(bot.url, content=body, headers=headers)
            bot.standin.wait_for("response_url", n + 1, timeout=30)
            times.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(times, 50), "p95": percentile(times, 95)}


def _serve(server) -> None:
    with contextlib.suppress(OSError):
        server.run()


def peak_rss(data_dir: Path, queries: list[str]) -> int:
    return int(last_line(BOT_WORKLOAD, [json.dumps(queries)], bench_env(data_dir), timeout=600))


def last_line(script: str, args: list[str], env: dict[str, str], timeout: float = 900) -> str:
    """Run a Python snippet in a new process; the last line it printed (its figure)."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return out.stdout.strip().splitlines()[-1]


# -- one size --------------------------------------------------------------------------------


def run_size(size: int, query_count: int, rounds: int, cold_runs: int, work: Path) -> dict:
    def log(msg: str) -> None:
        print(f"  [{size:,}] {msg}", flush=True)

    papers = make_papers(size)
    queries = make_queries(papers, query_count)
    jsonl = work / f"papers-{size}.jsonl"
    write_jsonl(papers, jsonl)
    ours_dir, fts_path = work / f"ours-{size}", work / f"fts-{size}.sqlite"
    result: dict[str, Any] = {"papers": size, "queries": len(queries)}

    log("import")
    from bot.ingest.importer import import_files

    result["import_s"] = {
        "papers-bot": timed(lambda: import_files(Library(ours_dir, sample_data=False), [jsonl])),
        "sqlite-fts5": timed(lambda: Fts5(fts_path).import_jsonl(jsonl)),
    }
    library = Library(ours_dir, sample_data=False)
    log("index build")
    engine_box: list[SearchEngine] = []
    result["index_build_s"] = {
        "papers-bot": timed(lambda: engine_box.append(SearchEngine(library))),  # builds
        "sqlite-fts5": result["import_s"]["sqlite-fts5"],  # FTS5 indexes as it inserts
    }
    engine = engine_box[0]
    fts = Fts5(fts_path)
    log("search latency")
    result["search_ms"] = {
        "papers-bot": latency_ms(lambda q: engine.search(q, 5), queries, rounds),
        "sqlite-fts5": latency_ms(lambda q: fts.search(q, 5), queries, rounds),
    }
    log("save")
    saves = []
    for n in range(200):
        paper_id = papers[n % len(papers)].id
        user = f"U{n % 7}"
        saves.append(timed(lambda pid=paper_id, u=user: library.saves.add(u, pid)) * 1000)
    result["save_ms"] = {"papers-bot": {"p50": percentile(saves, 50), "p95": percentile(saves, 95)}}
    log("ingest of one 50-paper day")
    ours_days, fts_days = [], []
    for n in range(3):
        day = make_day(50, seed=100 + n, existing=1 + 50 * n)
        ours_days.append(timed(lambda d=day: (library.upsert_many(d), engine.refresh())))
        fts_days.append(timed(lambda d=day: fts.insert(d)))
    result["ingest_day_s"] = {
        "papers-bot": statistics.median(ours_days),
        "sqlite-fts5": statistics.median(fts_days),
    }
    log("cold start")
    env = bench_env(ours_dir)
    result["cold_start_s"] = {
        "papers-bot": cold_start(["-c", COLD_OURS], env, cold_runs),
        "sqlite-fts5": cold_start(["-c", COLD_FTS5, str(fts_path)], env, cold_runs),
    }
    log("/papers end to end")
    result["papers_e2e_ms"] = {"papers-bot": papers_end_to_end(ours_dir, queries[:50])}
    log("peak memory")
    result["peak_rss_mb"] = {"papers-bot": peak_rss(ours_dir, queries) / 2**20}
    result["disk_mb"] = {
        "papers-bot": dir_size(ours_dir) / 2**20,
        "sqlite-fts5": fts_path.stat().st_size / 2**20,
    }
    return result


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }


def run(
    sizes: list[int],
    query_count: int = 200,
    rounds: int = 3,
    cold_runs: int = 5,
    results_path: Path | None = RESULTS,
) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "sizes": {}}
    work = Path(tempfile.mkdtemp(prefix="papers-bench-"))
    try:
        for size in sizes:
            report["sizes"][str(size)] = run_size(size, query_count, rounds, cold_runs, work)
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(table(report))
    if results_path is not None:
        results_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def table(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"papers-bot benchmarks, {m['date']}, {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB, Python {m['python']}, SQLite {m['sqlite']}",
        "",
    ]
    header = (
        "| measure | "
        + " | ".join(f"papers-bot {int(s):,} | FTS5 {int(s):,}" for s in report["sizes"])
        + " |"
    )
    lines += [header, "|---" * (1 + 2 * len(report["sizes"])) + "|"]

    def row(label: str, key: str, sub: str | None = None, fmt: str = "{:.1f}") -> None:
        cells = []
        for result in report["sizes"].values():
            for engine in ("papers-bot", "sqlite-fts5"):
                value = result.get(key, {}).get(engine)
                if isinstance(value, dict):
                    value = value.get(sub)
                cells.append(fmt.format(value) if value is not None else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for q in ("p50", "p95", "p99"):
        row(f"search {q} (ms)", "search_ms", q, "{:.2f}")
    row("index build from empty (s)", "index_build_s", fmt="{:.2f}")
    row("cold start to first answer (s)", "cold_start_s", fmt="{:.2f}")
    row("import whole library (s)", "import_s", fmt="{:.2f}")
    row("ingest one 50-paper day (s)", "ingest_day_s", fmt="{:.3f}")
    row("save p50 (ms)", "save_ms", "p50", "{:.2f}")
    row("save p95 (ms)", "save_ms", "p95", "{:.2f}")
    row("/papers end to end p50 (ms)", "papers_e2e_ms", "p50")
    row("/papers end to end p95 (ms)", "papers_e2e_ms", "p95")
    row("peak RSS of the bot (MB)", "peak_rss_mb", fmt="{:.0f}")
    row("size on disk (MB)", "disk_mb", fmt="{:.0f}")
    return "\n".join(lines)
