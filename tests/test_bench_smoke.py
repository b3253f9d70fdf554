"""A tiny run of the benchmark code, so `make bench` never rots (no figures are judged)."""

from bench import outside_import, scale
from bench.measure import run, table


def test_bench_runs_on_a_tiny_library() -> None:
    report = run([300], query_count=12, rounds=1, cold_runs=1, results_path=None)
    result = report["sizes"]["300"]
    for key in (
        "search_ms",
        "index_build_s",
        "cold_start_s",
        "import_s",
        "ingest_day_s",
        "save_ms",
        "papers_e2e_ms",
        "peak_rss_mb",
        "disk_mb",
    ):
        assert result[key]["papers-bot"] is not None, key
    assert result["search_ms"]["sqlite-fts5"]["p50"] >= 0
    assert "| search p50 (ms) |" in table(report)


def test_the_outside_import_bench_runs_on_a_tiny_library() -> None:
    result = outside_import.measure(300, base_papers=300, idle_seconds=1)
    for phase in ("idle", "during_import"):
        assert result[phase]["commands"] >= 1, phase
        assert result[phase]["ack_max_ms"] != float("inf"), phase  # every command acked
    assert "| ack p95 |" in outside_import.table(result)


def test_the_scale_bench_runs_on_a_tiny_library() -> None:
    report = scale.measure([300], queries=12, rounds=1)
    result = report["sizes"]["300"]
    assert set(result["search_ms"]) == {"papers-bot", "tantivy", "sqlite-fts5", "bm25s"}
    assert result["build_peak_mb"] > 0 and result["serving"]["peak_mb"] > 0
    assert result["day_s"] > 0 and result["cold_search_s"] > 0
    assert result["search_memos_emptied_ms"]["p50"] > 0
    table = scale.table(report["sizes"])
    assert "| search p50 / p95 (ms) |" in table and "memos emptied before each query" in table


def test_the_postgres_bench_runs_on_a_tiny_library(postgres_server: str, monkeypatch) -> None:
    from bench import postgres

    monkeypatch.setenv("DATABASE_URL", postgres_server)  # the run's server, not a new one
    result = postgres.measure(300)
    assert result["three_replicas"]["ack_max_s"] != float("inf")  # every command acked
    assert result["catch_up_s"] < 60 and result["restart_ready_s"] > 0
    assert "| save p50 / p95 (ms) |" in postgres.table(result)


def test_the_semantic_bench_runs_on_a_tiny_library() -> None:
    from bench import semantic

    report = semantic.measure([300], million=3_000, base=32, sample=16)
    result = report["sizes"]["300"]
    assert result["recall_at_100"] > 0.5 and result["graph_mb"] > 0
    assert set(result["search_ms"]) >= {"papers-bot", "papers-bot + meaning", "tantivy"}
    assert result["serving_peak_mb"]["on"] > result["serving_peak_mb"]["off"]
    assert report["million"]["recall_at_100"] > 0.5
    assert "papers/s" in semantic.table(report)
