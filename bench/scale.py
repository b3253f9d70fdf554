"""papers-bot's engine beside tantivy, bm25s and SQLite FTS5 at 10,000 to 1,000,000 papers.

`python -m bench.scale 100000 1000000` prints and saves (bench/results.json, key "scale"):
search p50/p95 over the same 200 queries (top 10, median of 3 rounds, every engine in the same
run), the index build from nothing (a process of its own, peak memory of it and its workers),
a new replica's time to its first answer, the serving process's memory, a cold
`papers-bot search`, and a 50-paper day from upsert to searchable. The peers index the same
fields with the same boosts (title 3, keywords 1.5, abstract 1, authors 1) and their own
English stemming; they do less per query (no acronyms, typo correction or hyphen parts).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import RESULTS, ROOT, Fts5, last_line, latency_ms, machine, timed
from bench.synth import make_day, make_papers, make_queries
from bot.library import Library
from bot.models import Paper
from bot.search import SearchEngine
from bot.search.documents import FIELDS, field_texts

BOOSTS = dict(FIELDS)

SERVING = """
import json, sys, time
from bot.library import Library
from bot.search import SearchEngine
start = time.perf_counter()
engine = SearchEngine(Library(sys.argv[1], sample_data=False))
engine.warm_up()  # as `papers-bot run` does before it serves
engine.search(json.loads(sys.argv[2])[0], 10)
ready = time.perf_counter() - start
for query in json.loads(sys.argv[2]):
    engine.search(query, 10)
status = open("/proc/self/status").read()
print(json.dumps({"ready_s": ready, "peak_mb": int(status.split("VmHWM:")[1].split()[0]) / 1024}))
"""


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def measured_process(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak MB of the process tree sampled every 50 ms) of a command."""
    peak = 0.0
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    while process.poll() is None:
        peak = max(peak, _tree_rss_mb(process.pid))
        time.sleep(0.05)
    if process.returncode:
        raise RuntimeError(f"{args} failed with {process.returncode}")
    return time.perf_counter() - start, peak


def _env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERS_", "HF_"))}
    return keep | {"PYTHONPATH": str(ROOT), "PAPERS_SAMPLE_DATA": "0"}


# -- the peers -------------------------------------------------------------------------------


class Tantivy:
    """tantivy with its own English stemmer and query parser, top 10 ids per query."""

    def __init__(self, folder: Path, papers: list[Paper]):
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for name in BOOSTS:
            builder.add_text_field(name, tokenizer_name="en_stem")
        folder.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(builder.build(), str(folder))
        writer = self.index.writer(heap_size=400_000_000)
        for paper in papers:
            writer.add_document(tantivy.Document(id=paper.id, **field_texts(paper)))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, query: str) -> list[str]:
        parsed, _ = self.index.parse_query_lenient(query, list(BOOSTS), field_boosts=BOOSTS)
        hits = self.searcher.search(parsed, 10, count=False).hits
        return [self.searcher.doc(address)["id"][0] for _, address in hits]


class Bm25s:
    """bm25s (BM25 in scipy sparse matrices) over the four fields, title repeated 3 times."""

    def __init__(self, papers: list[Paper]):
        import bm25s

        self.bm25s = bm25s
        self.ids = [p.id for p in papers]
        corpus = [
            " ".join([p.title] * 3 + [" ".join(p.ai_keywords), p.abstract, " ".join(p.authors)])
            for p in papers
        ]
        self.retriever = bm25s.BM25()
        self.retriever.index(
            bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False
        )

    def search(self, query: str) -> list[str]:
        tokens = self.bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        found, _ = self.retriever.retrieve(tokens, k=10, show_progress=False)
        return [self.ids[i] for i in found[0]]


def _empty_memos(engine: SearchEngine) -> None:
    """Forget what the engine kept from earlier queries: each word's expansion (the lexicon's
    memo) and the papers shown. The typo vocabulary stays: a process loads it once."""
    engine.index.lexicon._memo = {}
    engine._shown = {}


# -- one size --------------------------------------------------------------------------------


def run_size(size: int, work: Path, query_count: int, rounds: int) -> dict[str, Any]:
    def log(message: str) -> None:
        print(f"  [{size:,}] {message}", flush=True)

    papers = make_papers(size)
    queries = make_queries(papers, query_count)
    data = work / f"ours-{size}"
    result: dict[str, Any] = {"papers": size}
    log("catalog import")
    library = Library(data, sample_data=False)
    result["catalog_import_s"] = timed(
        lambda: [library.upsert_many(papers[i : i + 20_000]) for i in range(0, size, 20_000)]
    )
    log("index build (a process of its own)")
    build = [sys.executable, "-m", "bot.search", str(data)]
    result["build_s"], result["build_peak_mb"] = measured_process(build, _env())
    log("peers")
    peers: dict[str, Callable[[str], Any]] = {}
    start = time.perf_counter()
    tantivy_peer = Tantivy(work / f"tantivy-{size}", papers)
    result["tantivy_build_s"] = time.perf_counter() - start
    peers["tantivy"] = tantivy_peer.search
    fts_path = work / f"fts-{size}.sqlite"
    fts = Fts5(fts_path)
    result["fts5_build_s"] = timed(lambda: (fts.create(), fts.insert(papers)))
    peers["sqlite-fts5"] = lambda q: fts.search(q, 10)
    if size <= 100_000:  # bm25s holds its whole matrix in memory: skipped at a million
        start = time.perf_counter()
        bm25 = Bm25s(papers)
        result["bm25s_build_s"] = time.perf_counter() - start
        peers["bm25s"] = bm25.search

    log("search latency, every engine in turn")
    # This process holds every paper and the peers' indexes; a serving bot holds none of
    # them, and freezes what it loaded at start (`Runtime.warm_up`). Frozen here too, for
    # every engine alike, so that no engine pays for the collector scanning them.
    gc.collect()
    gc.freeze()
    engine = SearchEngine(Library(data, sample_data=False))
    result["search_ms"] = {
        "papers-bot": latency_ms(lambda q: engine.search(q, 10), queries, rounds)
    }
    for name, search in peers.items():
        result["search_ms"][name] = latency_ms(search, queries, rounds)
    # Ours again, its memos emptied before each query (`_empty_memos`): what a query costs
    # when its words and papers are met for the first time, the disk's pages cached.
    result["search_memos_emptied_ms"] = latency_ms(
        lambda q: engine.search(q, 10), queries, rounds, before=lambda: _empty_memos(engine)
    )
    log("a new replica, and the serving process's memory")
    result["serving"] = json.loads(last_line(SERVING, [str(data), json.dumps(queries)], _env()))
    log("cold `papers-bot search`")
    # As installed (pip compiles a package's bytecode): a PYTHONDONTWRITEBYTECODE machine
    # would otherwise compile every changed module from source in each process.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot"], cwd=ROOT, check=True)
    cold = []
    for query in ("kan", "diffusion model", "transformer"):
        args = [sys.executable, "-m", "bot", "search", query]
        env = _env() | {"PAPERS_DATA_DIR": str(data)}
        cold.append(
            timed(
                lambda a=args, e=env: subprocess.run(
                    a, env=e, cwd=ROOT, check=True, capture_output=True
                )
            )
        )
    result["cold_search_s"] = statistics.median(cold)
    log("a 50-paper day, upsert to searchable")
    days = []
    for n in range(3):
        day = make_day(50, seed=300 + n, existing=90_000 + 50 * n)
        days.append(timed(lambda d=day: (engine.library.upsert_many(d), engine.refresh())))
        assert engine.search(day[0].id, 1).results, "the new day is searchable"
    result["day_s"] = statistics.median(days)
    return result


def table(results: dict[str, Any]) -> str:
    lines = []
    for size, r in results.items():
        search = r["search_ms"]
        names = list(search)
        lines.append(f"\n{int(size):,} papers")
        lines.append("| | " + " | ".join(names) + " |")
        lines.append("|---" * (len(names) + 1) + "|")
        lines.append(
            "| search p50 / p95 (ms) | "
            + " | ".join(f"{search[n]['p50']:.2f} / {search[n]['p95']:.2f}" for n in names)
            + " |"
        )
        lines.append(
            "| first round p50 (ms) | "
            + " | ".join(f"{search[n]['p50_first_round']:.2f}" for n in names)
            + " |"
        )
        builds = [r["build_s"], r["tantivy_build_s"], r["fts5_build_s"], r.get("bm25s_build_s")]
        lines.append(
            "| index build (s) | "
            + " | ".join("–" if b is None else f"{b:.1f}" for b in builds[: len(names)])
            + " |"
        )
        emptied = r.get("search_memos_emptied_ms")
        if emptied:
            lines.append(
                f"papers-bot with its memos emptied before each query: p50 / p95 "
                f"{emptied['p50']:.2f} / {emptied['p95']:.2f} ms"
            )
        lines.append(
            f"papers-bot: build peak {r['build_peak_mb']:.0f} MB (process tree), catalog import "
            f"{r['catalog_import_s']:.1f} s, replica ready {r['serving']['ready_s']:.2f} s, "
            f"serving peak {r['serving']['peak_mb']:.0f} MB, cold `papers-bot search` "
            f"{r['cold_search_s']:.2f} s, 50-paper day to searchable {r['day_s']:.3f} s"
        )
    return "\n".join(lines)


def measure(sizes: list[int], queries: int = 200, rounds: int = 3) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": machine(), "sizes": {}}
    work = Path(tempfile.mkdtemp(prefix="papers-scale-"))
    try:
        for size in sizes:
            result = run_size(size, work, queries, rounds)
            report["sizes"][str(size)] = result
            print(table({str(size): result}), flush=True)
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report


def main() -> None:
    """`python -m bench.scale [SIZE ...]`: this part alone, saved beside the rest."""
    report = measure([int(s) for s in sys.argv[1:]] or [10_000, 100_000])
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved["scale"] = report
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


if __name__ == "__main__":
    main()
