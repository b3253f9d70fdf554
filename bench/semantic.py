"""Search by meaning, measured (`python -m bench.semantic [SIZE ...]`, part of `make bench`):

- embedding throughput of the real model (all-MiniLM-L6-v2 on onnxruntime), one core and all;
- at 100,000 papers: the vectors' graph built, the search latency it adds on the scale bench's
  200 mixed queries (beside tantivy's on the same queries: the arXiv-scale target is p95 <= 3x
  tantivy's, and meaning may add 10 ms), the serving process's memory, the files' size, and the
  recall of the 8-bit HNSW graph against exact cosine;
- the plan for 1,000,000: the graph's build time, size, latency and recall there, beside brute
  force over the float16 rows.

Embedding 100,000 papers takes the model about two hours on this machine's two cores (its
throughput is measured apart), so the vectors of the big libraries are made from 1,000 real
embeddings of synthetic papers, each paper's vector a random blend of three of them and noise
(`MixedEmbedder`): the graph and the fusion then work on vectors spread like real ones, and
each query is embedded by the real model, as in production.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import last_line, latency_ms, percentile, timed
from bench.scale import Tantivy, _env
from bench.synth import make_papers, make_queries
from bot.library import Library
from bot.search import SearchEngine
from bot.search.builder import brought_up_to_date
from bot.search.query import parse_query
from bot.search.semantic import Semantic
from bot.search.semantic.fusion import DEPTH, meaning_weight
from bot.search.semantic.model import Embedder, cpu_threads, model_folder
from bot.search.semantic.vectors import ANN, ROWS, catch_up, embedded_text, folder_of, new_graph

BASE = 1_000  # real embeddings the big libraries' vectors are mixed from
DIM = 384

SERVING = """
import json, sys
from bot.library import Library
from bot.search import SearchEngine
from bot.search.semantic import Semantic
semantic = Semantic(sys.argv[1]) if sys.argv[3] == "on" else None
engine = SearchEngine(Library(sys.argv[1], sample_data=False), semantic=semantic)
engine.warm_up()
for query in json.loads(sys.argv[2]):
    engine.search(query, 10)
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


class MixedEmbedder:
    """Vectors for synthetic papers, mixed from real embeddings (see the module's note)."""

    def __init__(self, base: np.ndarray, name: str):
        self.base, self.name, self.dim = base, name, base.shape[1]

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            rng = np.random.default_rng(seed)
            chosen = rng.integers(0, len(self.base), 3)
            weights = rng.uniform(0, 1, 3).astype(np.float32)
            noise = rng.standard_normal(self.dim).astype(np.float32) * 0.03
            vector = weights @ self.base[chosen] + noise
            out[row] = vector / np.linalg.norm(vector)
        return out


def throughput(papers: int = 256) -> dict[str, Any]:
    """Papers a second through the real model (title + abstract, up to 256 tokens)."""
    texts = [embedded_text(p) for p in make_papers(papers, seed=5)]
    result: dict[str, Any] = {"papers": papers}
    for threads in sorted({1, cpu_threads()}):
        embedder = Embedder(model_folder(None), threads=threads)
        embedder.embed(texts[:32])  # the first run allocates
        took = timed(lambda e=embedder: e.embed(texts))
        result[f"papers_per_s_{threads}_threads"] = papers / took
    query = Embedder(model_folder(None))
    times = [timed(lambda q=q: query.embed([q])) * 1000 for q in QUERIES * 5]
    result["query_embed_ms_p50"] = statistics.median(times)
    return result


QUERIES = [
    "questions about long videos",
    "making robot training data inside a game engine",
    "a model that repairs its own code from failing tests",
    "cheaper attention for long documents",
]


def base_vectors(count: int = BASE) -> np.ndarray:
    texts = [embedded_text(p) for p in make_papers(count, seed=3)]
    return Embedder(model_folder(None), threads=cpu_threads()).embed(texts)


def at_size(size: int, work: Path, base: np.ndarray, rounds: int = 3) -> dict[str, Any]:
    def log(message: str) -> None:
        print(f"  [meaning, {size:,}] {message}", flush=True)

    papers = make_papers(size)
    queries = make_queries(papers, 200)
    data = work / f"meaning-{size}"
    library = Library(data, sample_data=False)
    for start in range(0, size, 20_000):
        library.upsert_many(papers[start : start + 20_000])
    log("index, then the vectors' graph")
    brought_up_to_date(library)
    result: dict[str, Any] = {"papers": size, "vectors_from": f"{len(base)} real embeddings"}
    result["graph_build_s"] = timed(lambda: catch_up(library, MixedEmbedder(base, "mixed")))
    result["rows_mb"] = (folder_of(data) / ROWS).stat().st_size / 2**20
    result["graph_mb"] = (folder_of(data) / ANN).stat().st_size / 2**20
    log("search latency: words, words and meaning, tantivy")
    words = SearchEngine(library)
    meant = SearchEngine(library, semantic=Semantic(data))
    meant.search(queries[1], 10)  # loads the model, as warm_up does in a serving bot
    peer = Tantivy(work / f"tantivy-meaning-{size}", papers)
    fused = [q for q in queries if meaning_weight(parse_query(q)) is not None]
    result["fused_queries"] = len(fused)
    result["search_ms"] = {
        "papers-bot": latency_ms(lambda q: words.search(q, 10), queries, rounds),
        "papers-bot + meaning": latency_ms(lambda q: meant.search(q, 10), queries, rounds),
        "tantivy": latency_ms(peer.search, queries, rounds),
        "fused queries only, words": latency_ms(lambda q: words.search(q, 10), fused, rounds),
        "fused queries only, + meaning": latency_ms(lambda q: meant.search(q, 10), fused, rounds),
    }
    log("recall of the graph against exact cosine")
    result["recall_at_100"], result["nearest_10_found"] = graph_recall(data, meant, fused)
    log("the serving process's memory, without and with meaning")
    args = [str(data), json.dumps(queries)]
    result["serving_peak_mb"] = {
        side: int(last_line(SERVING, [*args, side], _env())) for side in ("off", "on")
    }
    return result


def graph_recall(data: Path, engine: SearchEngine, queries: list[str]) -> tuple[float, float]:
    """Share of the exact top 100 (cosine over the float16 rows) the graph returns, and of the
    exact 10 nearest (those that decide the fused top 10)."""
    semantic = engine.semantic
    assert semantic is not None
    rows = np.memmap(folder_of(data) / ROWS, dtype=np.float16, mode="r").reshape(-1, DIM)
    matrix = np.asarray(rows, dtype=np.float32)
    present = np.flatnonzero(np.abs(matrix).sum(axis=1) > 0)
    shares, nearest = [], []
    for query in queries[:100]:
        vector = semantic.embedder().embed([query])[0]
        ranked = present[np.argsort(-(matrix[present] @ vector))[:DEPTH]].tolist()
        found = {num for num, _ in semantic.vectors.nearest(vector, DEPTH)}
        shares.append(len(set(ranked) & found) / DEPTH)
        nearest.append(len(set(ranked[:10]) & found) / 10)
    return statistics.mean(shares), statistics.mean(nearest)


def million_plan(base: np.ndarray, size: int = 1_000_000) -> dict[str, Any]:
    """The graph alone at a million vectors: build, size, latency, recall; brute force beside."""
    print(f"  [meaning, {size:,}] the graph alone, and brute force", flush=True)
    mixer = MixedEmbedder(base, "mixed")
    vectors = np.vstack(
        [
            mixer.embed([f"paper {i}" for i in range(s, min(s + 50_000, size))])
            for s in range(0, size, 50_000)
        ]
    )
    graph = new_graph(DIM)
    result: dict[str, Any] = {"vectors": size}
    result["build_s"] = timed(lambda: graph.add(np.arange(size, dtype=np.uint64), vectors))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ANN
        graph.save(str(path))
        result["graph_mb"] = path.stat().st_size / 2**20
    result["float16_rows_mb"] = size * DIM * 2 / 2**20
    embedder = Embedder(model_folder(None))
    queries = [embedder.embed([q])[0] for q in QUERIES * 25]
    times, shares, nearest, brute = [], [], [], []
    halves = vectors.astype(np.float16)
    for vector in queries:
        start = time.perf_counter()
        found = graph.search(vector, DEPTH)
        times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        scores = halves @ vector.astype(np.float16) if len(brute) < 5 else None
        if scores is not None:
            brute.append((time.perf_counter() - start) * 1000)
        ranked = np.argsort(-(vectors @ vector))[:DEPTH].tolist()
        keys = {int(k) for k in found.keys}
        shares.append(len(set(ranked) & keys) / DEPTH)
        nearest.append(len(set(ranked[:10]) & keys) / 10)
    result["graph_ms_p50"] = percentile(times, 50)
    result["graph_ms_p95"] = percentile(times, 95)
    result["recall_at_100"] = statistics.mean(shares)
    result["nearest_10_found"] = statistics.mean(nearest)
    result["brute_force_float16_ms_p50"] = statistics.median(brute)
    start = time.perf_counter()
    for vector in queries[:20]:
        vectors @ vector
    result["brute_force_float32_ms_p50"] = (time.perf_counter() - start) / 20 * 1000
    return result


def measure(
    sizes: list[int], million: int | None = 1_000_000, base: int = BASE, sample: int = 256
) -> dict[str, Any]:
    """`million`: the size of the graph-alone plan (None: skipped); `base`: real embeddings
    the vectors are mixed from; `sample`: papers embedded to measure throughput."""
    print("search by meaning: embedding throughput", flush=True)
    report: dict[str, Any] = {"throughput": throughput(sample)}
    vectors = base_vectors(base)
    work = Path(tempfile.mkdtemp(prefix="papers-bench-meaning-"))
    try:
        report["sizes"] = {str(size): at_size(size, work, vectors) for size in sizes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if million:
        report["million"] = million_plan(vectors, million)
    return report


def table(report: dict[str, Any]) -> str:
    t = report["throughput"]
    rates = ", ".join(
        f"{v:.1f} papers/s on {k.split('_')[3]} thread(s)"
        for k, v in t.items()
        if k.startswith("papers_per_s")
    )
    lines = [
        f"Search by meaning: the model embeds {rates}; a query {t['query_embed_ms_p50']:.1f} ms",
    ]
    for size, r in report.get("sizes", {}).items():
        ms = r["search_ms"]
        lines += [
            f"at {int(size):,} papers ({r['fused_queries']} of 200 queries fused): graph built in "
            f"{r['graph_build_s']:.0f} s, {r['graph_mb']:.0f} MB (+ {r['rows_mb']:.0f} MB float16 "
            f"rows), recall@100 {r['recall_at_100']:.3f} (the 10 nearest: "
            f"{r['nearest_10_found']:.3f}); serving peak "
            f"{r['serving_peak_mb']['off']} MB -> {r['serving_peak_mb']['on']} MB",
            f"{'':4}{'engine':<32}{'p50':>8}{'p95':>8}",
        ]
        lines += [f"{'':4}{name:<32}{v['p50']:>8.2f}{v['p95']:>8.2f}" for name, v in ms.items()]
        target = 3 * ms["tantivy"]["p95"] + 10
        lines.append(
            f"{'':4}p95 with meaning {ms['papers-bot + meaning']['p95']:.2f} ms; the target "
            f"(3x tantivy's p95 + 10 ms) {target:.2f} ms"
        )
    if "million" in report:
        m = report["million"]
        lines.append(
            f"at {m['vectors']:,} vectors: graph built in {m['build_s']:.0f} s, "
            f"{m['graph_mb']:.0f} MB (float16 rows {m['float16_rows_mb']:.0f} MB, on disk only), "
            "search p50 "
            f"{m['graph_ms_p50']:.2f} / p95 {m['graph_ms_p95']:.2f} ms, recall@100 "
            f"{m['recall_at_100']:.3f} (the 10 nearest: {m['nearest_10_found']:.3f}); "
            f"brute force p50 {m['brute_force_float32_ms_p50']:.1f} ms "
            f"(float32 in memory), {m['brute_force_float16_ms_p50']:.0f} ms (numpy float16)"
        )
    return "\n".join(lines)


def main() -> None:
    sizes = [int(s) for s in sys.argv[1:]] or [100_000]
    report = measure(sizes, million=1_000_000 if len(sys.argv) == 1 else None)
    print(table(report))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
