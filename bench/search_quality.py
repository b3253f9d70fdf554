"""Search quality on the judged query set and the paraphrase set: papers-bot by its words and
with search by meaning (the `[semantic]` extra), beside SQLite FTS5, scored by ir-measures.

`python -m bench.search_quality` prints nDCG@10 per engine and per query kind, and the keyword
query that meaning costs the most; tests/test_search_quality.py holds the numbers.

FTS5 gets a fair configuration: the porter tokenizer, `bm25()` with the same field weights as
papers-bot, free words OR-ed (an AND of every word finds nothing for most typed queries),
"phrases" as FTS5 phrases, `author:` as a column filter and `since:` as a SQL condition.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import ir_measures
from ir_measures import nDCG

from bench.measure import Fts5
from bot.ingest.importer import parse_files
from bot.library import Library
from bot.search import SearchEngine
from bot.search.semantic import Semantic, installed
from bot.search.semantic.model import cpu_threads

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
MEASURE = nDCG @ 10


JUDGED = "judged_queries.json"
LEXICAL, MEANING, FTS5 = "papers-bot", "papers-bot + meaning", "sqlite-fts5"
MODEL_ALONE = "all-MiniLM-L6-v2 alone"  # the same vectors, no words: what fusion adds to


def judged_queries(name: str = JUDGED) -> list[dict]:
    return json.loads((DATA / name).read_text("utf-8"))


# Half-remembered descriptions that avoid each paper's own key terms ("splitting a big stock
# trade into small pieces" for parent-order execution), graded like the judged set: the set
# semantic search (issue #16) is measured on; lexical search and FTS5 are measured on it now.
PARAPHRASES = "paraphrase_queries.json"


def build_library(data_dir: Path) -> Library:
    library = Library(data_dir, sample_data=True)
    library.upsert_many(parse_files([DATA / "trap_papers.jsonl"]).papers)
    return library


def qrels(queries: list[dict]) -> list[ir_measures.Qrel]:
    return [
        ir_measures.Qrel(q["qid"], doc, grade)
        for q in queries
        for doc, grade in q["relevant"].items()
    ]


def papers_bot_run(engine: SearchEngine, queries: list[dict]) -> list[ir_measures.ScoredDoc]:
    run = []
    for q in queries:
        for rank, result in enumerate(engine.search(q["query"], limit=10).results):
            run.append(ir_measures.ScoredDoc(q["qid"], result.paper.id, 100.0 - rank))
    return run


def fts5_run(library: Library, queries: list[dict]) -> list[ir_measures.ScoredDoc]:
    """The same papers in SQLite FTS5 (bench.measure.Fts5: porter, bm25 with our weights)."""
    fts = Fts5(":memory:")
    fts.create()
    fts.insert(list(library.papers().values()))
    return [
        ir_measures.ScoredDoc(q["qid"], row[0], 100.0 - rank)
        for q in queries
        for rank, row in enumerate(fts.search(q["query"], limit=10))
    ]


def evaluate(name: str = JUDGED, meaning: bool = False) -> dict:
    return evaluate_all([name], meaning)[name]


def evaluate_all(names: list[str], meaning: bool = True) -> dict[str, dict]:
    """A report per query set, the library built (and, with `meaning`, embedded) once."""
    with tempfile.TemporaryDirectory() as tmp:
        library = build_library(Path(tmp))
        engines = {LEXICAL: SearchEngine(library)}
        semantic = None
        if meaning:
            semantic = Semantic(Path(tmp), threads=cpu_threads())
            semantic.catch_up(library)
            engines[MEANING] = SearchEngine(library, semantic=semantic)
        return {name: _report(judged_queries(name), engines, library, semantic) for name in names}


def model_alone_run(
    semantic: Semantic, library: Library, queries: list[dict]
) -> list[ir_measures.ScoredDoc]:
    """The ten nearest papers by meaning, for every query (no gate, no words)."""
    run = []
    for q in queries:
        nearest = semantic.nearest(q["query"], 10)
        papers = library.catalog.by_nums(num for num, _ in nearest)
        for rank, (num, _) in enumerate(nearest):
            run.append(ir_measures.ScoredDoc(q["qid"], papers[num].id, 100.0 - rank))
    return run


def _report(
    queries: list[dict],
    engines: dict[str, SearchEngine],
    library: Library,
    semantic: Semantic | None = None,
) -> dict:
    runs = {name: papers_bot_run(engine, queries) for name, engine in engines.items()}
    if semantic is not None:
        runs[MODEL_ALONE] = model_alone_run(semantic, library, queries)
    runs[FTS5] = fts5_run(library, queries)
    judged = qrels(queries)
    kinds = sorted({q["kind"] for q in queries})
    report: dict = {"queries": len(queries), "measure": str(MEASURE), "engines": {}}
    for name, run in runs.items():
        per_query = {m.query_id: m.value for m in ir_measures.iter_calc([MEASURE], judged, run)}
        by_kind = {
            kind: sum(per_query.get(q["qid"], 0.0) for q in queries if q["kind"] == kind)
            / sum(1 for q in queries if q["kind"] == kind)
            for kind in kinds
        }
        report["engines"][name] = {
            "ndcg@10": sum(per_query.get(q["qid"], 0.0) for q in queries) / len(queries),
            "by_kind": by_kind,
            "per_query": per_query,
        }
    if MEANING in report["engines"]:
        report["largest_loss"] = largest_loss(queries, report)
    return report


def largest_loss(queries: list[dict], report: dict) -> dict:
    """The query whose nDCG@10 meaning lowers the most (0 when none is lowered)."""
    words = report["engines"][LEXICAL]["per_query"]
    meant = report["engines"][MEANING]["per_query"]
    losses = [(words.get(q["qid"], 0.0) - meant.get(q["qid"], 0.0), q["query"]) for q in queries]
    loss, query = max(losses)
    return {"loss": max(loss, 0.0), "query": query}


def main() -> dict[str, dict]:
    reports = evaluate_all([JUDGED, PARAPHRASES], meaning=installed())
    for name, report in reports.items():
        show(report, name)
    return reports


def show(report: dict, name: str) -> None:
    print(f"{report['queries']} queries of {name}, {report['measure']}")
    kinds = list(next(iter(report["engines"].values()))["by_kind"])
    print(f"{'engine':<22}{'all':>7}" + "".join(f"{k:>11}" for k in kinds))
    for name, result in report["engines"].items():
        row = "".join(f"{result['by_kind'][k]:>11.3f}" for k in kinds)
        print(f"{name:<22}{result['ndcg@10']:>7.3f}{row}")
    if "largest_loss" in report:
        worst = report["largest_loss"]
        if worst["loss"]:
            print(f"meaning lowers no query by more than {worst['loss']:.3f} ({worst['query']!r})")
        else:
            print("meaning lowers no query")


if __name__ == "__main__":
    main()
