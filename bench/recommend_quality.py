"""For you, measured: simulated people from the judged query set, and the cost at 100,000 papers.

People: each topic of the judged set with at least three relevant papers (graded 1 or 2) over
the sample library and the trap papers is a person who saved those papers; a "two-interest"
person also saved every relevant paper of the next topic. Leave one out: one relevant paper of
the first topic is held out, the rest are the saves, and the held-out paper must come back among
the person's top 5 of every paper they did not save. Hit rate@5 and nDCG@5 (the held-out paper's
grade), beside:

- arxiv-sanity-lite's recommender: its TF-IDF (words and bigrams) and its linear SVM, the saves
  against every other paper of the library (its settings);
- "More like this" from the person's most recent save (the search engine's `more_like`).

Then at 100,000 synthetic papers (`bench.synth`): building the features, and one person's
five picks of the whole library (`ForYou.picks`, 10 saves each) right after a save (the model
refitted) and warm (the model kept), p50 and p95 over 20 people.
`python -m bench.recommend_quality [SIZE]`; tests/test_for_you.py holds the targets.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.svm import LinearSVC

from bot.library import Library
from bot.models import Paper
from bot.search import SearchEngine
from bot.taste import features as taste_features
from bot.taste import model
from bot.taste.picks import ForYou

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TOP = 5
Ranker = Callable[[list[int]], list[int]]  # saved rows -> every other row, best first


def judged_library(data: Path, folder: Path) -> Library:
    library = Library(folder, sample_data=True)
    traps = [Paper.from_record(json.loads(line)) for line in (data / "trap_papers.jsonl").open()]
    library.upsert_many(traps)
    return library


def people(data: Path, ids: set[str]) -> list[dict[str, int]]:
    """The judged topics with at least three relevant papers, each once."""
    seen: set[frozenset[str]] = set()
    topics = []
    for query in json.loads((data / "judged_queries.json").read_text()):
        relevant = {p: g for p, g in query["relevant"].items() if g >= 1 and p in ids}
        if len(relevant) >= 3 and frozenset(relevant) not in seen:
            seen.add(frozenset(relevant))
            topics.append(relevant)
    return topics


def leave_one_out(
    topics: list[dict[str, int]], row_of: dict[str, int], rank: Ranker, two_interests: bool
) -> dict[str, float]:
    hits, gains = [], []
    for number, topic in enumerate(topics):
        other = topics[(number + 1) % len(topics)] if two_interests else {}
        for held, grade in topic.items():
            saved = [row_of[p] for p in topic if p != held] + [row_of[p] for p in other]
            top = [r for r in rank(saved) if r not in saved][:TOP]
            found = row_of[held] in top
            hits.append(found)
            gains.append(1 / math.log2(top.index(row_of[held]) + 2) if found else 0.0)
            del grade  # every held-out paper counts as fully relevant once found
    return {"hit_rate": statistics.mean(hits), "ndcg": statistics.mean(gains), "cases": len(hits)}


def sanity_ranker(texts: list[str]) -> Ranker:
    """arxiv-sanity-lite: its vectoriser and SVM, trained on the whole library each time."""
    vectoriser = taste_features.sanity_words(len(texts))
    matrix = vectoriser.fit_transform(texts)

    def rank(saved: list[int]) -> list[int]:
        labels = np.zeros(matrix.shape[0])
        labels[saved] = 1
        svm = LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.01)
        svm.fit(matrix, labels)
        return list(np.argsort(-svm.decision_function(matrix), kind="stable"))

    return rank


def ours_ranker(features: taste_features.TasteFeatures) -> Ranker:
    def rank(saved: list[int]) -> list[int]:
        taste = model.fit(features, saved, [], seed="bench")
        assert taste is not None
        return list(np.argsort(-taste.scores(features.matrix), kind="stable"))

    return rank


def more_like_ranker(engine: SearchEngine, ids: list[str], row_of: dict[str, int]) -> Ranker:
    def rank(saved: list[int]) -> list[int]:
        latest = ids[saved[-1]]
        found = engine.more_like(latest, limit=TOP + len(saved))
        return [row_of[r.paper.id] for r in found if r.paper.id in row_of]

    return rank


def quality(data: Path = DATA) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        library = judged_library(data, Path(folder))
        features = taste_features.build(library)
        by_num = library.catalog.by_nums(features.nums)
        ids = [by_num[n].id for n in features.nums]
        row_of = {paper_id: row for row, paper_id in enumerate(ids)}
        texts = [taste_features.taste_text(by_num[n]) for n in features.nums]
        topics = people(data, set(ids))
        engine = SearchEngine(library)
        try:
            rankers = {
                "papers-bot": ours_ranker(features),
                "arxiv-sanity SVM": sanity_ranker(texts),
                "More like this (latest save)": more_like_ranker(engine, ids, row_of),
            }
            return {
                name: {
                    "one interest": leave_one_out(topics, row_of, rank, False),
                    "two interests": leave_one_out(topics, row_of, rank, True),
                }
                for name, rank in rankers.items()
            }
        finally:
            engine.close()


def cost(size: int = 100_000, people_count: int = 20) -> dict[str, float]:
    """`size` synthetic papers: build the features, then each person's `/papers foryou` (five
    picks of the whole library) right after a save (the model refitted) and again (warm)."""
    from bench.synth import make_papers

    with tempfile.TemporaryDirectory() as folder:
        library = Library(folder, sample_data=False)
        library.upsert_many(make_papers(size))
        for_you = ForYou(library)
        started = time.perf_counter()
        features = for_you.features.current(wait=True)
        built = time.perf_counter() - started
        assert features is not None
        ids = [p.id for p in library.catalog.by_nums(features.nums[:50_000]).values()]
        generator = np.random.default_rng(7)
        after_save, warm = [], []
        for person in range(people_count):
            user = f"U{person:04d}"
            for paper_id in generator.choice(ids, 10, replace=False).tolist():
                library.saves.add(user, paper_id)
            started = time.perf_counter()
            first = for_you.picks(user, TOP)
            after_save.append(time.perf_counter() - started)
            started = time.perf_counter()
            again = for_you.picks(user, TOP)
            warm.append(time.perf_counter() - started)
            assert len(first) == TOP and [p.paper.id for p in again] == [p.paper.id for p in first]
        return {
            "papers": size,
            "features_s": built,
            "matrix_mb": (features.matrix.data.nbytes + features.matrix.indices.nbytes) / 2**20,
            "after_save_p50_ms": statistics.median(after_save) * 1000,
            "after_save_p95_ms": _p95(after_save) * 1000,
            "warm_p50_ms": statistics.median(warm) * 1000,
            "warm_p95_ms": _p95(warm) * 1000,
        }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def show_quality(result: dict[str, Any]) -> None:
    print(f"For you, leave-one-out over the judged topics (hit rate@{TOP} / nDCG@{TOP}):")
    print(f"  {'':30} {'one interest':>16} {'two interests':>16}")
    for name, kinds in result.items():
        cells = [f"{k['hit_rate']:.3f} / {k['ndcg']:.3f}" for k in kinds.values()]
        print(f"  {name:30} {cells[0]:>16} {cells[1]:>16}")
    cases = next(iter(result.values()))["one interest"]["cases"]
    print(f"  ({cases} held-out papers each)")


def show_cost(result: dict[str, float]) -> None:
    print(
        f"At {result['papers']:,} papers: features built in {result['features_s']:.1f} s "
        f"({result['matrix_mb']:.0f} MB); a person's five picks of the whole library right "
        f"after a save (model refitted) {result['after_save_p50_ms']:.0f} ms p50, "
        f"{result['after_save_p95_ms']:.0f} ms p95; warm {result['warm_p50_ms']:.0f} ms p50, "
        f"{result['warm_p95_ms']:.0f} ms p95"
    )


def main() -> dict[str, Any]:
    result: dict[str, Any] = {"quality": quality()}
    show_quality(result["quality"])
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    result["cost"] = cost(size)
    show_cost(result["cost"])
    return result


if __name__ == "__main__":
    main()
