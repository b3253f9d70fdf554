"""Search quality, measured: nDCG@10 on the judged set, beside SQLite FTS5 (ir-measures)."""

from bench.search_quality import evaluate, judged_queries


def test_judged_set_is_big_and_varied() -> None:
    queries = judged_queries()
    assert len(queries) >= 40
    assert {"acronym", "alias", "typo", "hyphen", "id", "filter", "trap", "phrase"} <= {
        q["kind"] for q in queries
    }


# The numpy engine's score before the move to tantivy (2026-11-26): the engine must keep it.
PREVIOUS_ENGINE = 0.978


def test_ndcg_at_10_keeps_the_previous_engines_and_beats_fts5() -> None:
    report = evaluate()
    ours = report["engines"]["papers-bot"]["ndcg@10"]
    fts5 = report["engines"]["sqlite-fts5"]["ndcg@10"]
    print(f"nDCG@10 papers-bot {ours:.3f}, SQLite FTS5 {fts5:.3f}")
    assert ours >= PREVIOUS_ENGINE
    assert ours > fts5
