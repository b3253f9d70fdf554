"""A tiny run of the benchmark code, so `make bench` never rots (no figures are judged)."""

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
