"""Search quality on the judged query set: papers-bot beside SQLite FTS5, scored by ir-measures.

`python -m bench.search_quality` prints nDCG@10 per engine and per query kind; the test suite
(tests/test_search_quality.py) requires papers-bot >= 0.90 and above FTS5.

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

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
MEASURE = nDCG @ 10


def judged_queries(name: str = "judged_queries.json") -> list[dict]:
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


def evaluate(name: str = "judged_queries.json") -> dict:
    queries = judged_queries(name)
    with tempfile.TemporaryDirectory() as tmp:
        library = build_library(Path(tmp))
        engine = SearchEngine(library)
        runs = {
            "papers-bot": papers_bot_run(engine, queries),
            "sqlite-fts5": fts5_run(library, queries),
        }
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
    return report


def main() -> None:
    for name in ("judged_queries.json", PARAPHRASES):
        show(evaluate(name), name)


def show(report: dict, name: str) -> None:
    print(f"{report['queries']} queries of {name}, {report['measure']}")
    kinds = list(next(iter(report["engines"].values()))["by_kind"])
    print(f"{'engine':<14}{'all':>7}" + "".join(f"{k:>9}" for k in kinds))
    for name, result in report["engines"].items():
        row = "".join(f"{result['by_kind'][k]:>9.3f}" for k in kinds)
        print(f"{name:<14}{result['ndcg@10']:>7.3f}{row}")


if __name__ == "__main__":
    main()
