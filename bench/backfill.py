"""`python -m bench.backfill`: a Daily Papers backfill of 900 days (about 30,000 papers) from
the loopback Hugging Face stand-in, recorded-shape rows under new ids: papers per second
ingested (fetch, parse, upsert; the rate limit off, so this measures papers-bot, not the
Hub's 500 requests per 5 minutes, which the tests hold it to) and the time the search index
takes to catch up with them, in batches as `papers-bot fetch --since` does."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.measure import RESULTS, ROOT, machine
from bot.ingest.backfill import backfill, days_between
from bot.library import Library
from bot.search import SearchEngine
from bot.sources.hf_client import HFClient
from tests.fakes.hf import HFStandIn

DATA = ROOT / "tests" / "data"


def measure(days: int = 900, per_day: int = 33) -> dict[str, Any]:
    until = date(2026, 11, 20)
    since = until - timedelta(days=days - 1)
    hf = HFStandIn(DATA).start()
    try:
        hf.add_history(since, until, per_day=per_day * 7 // 5)  # weekdays only
        with tempfile.TemporaryDirectory() as folder:
            library = Library(Path(folder), sample_data=False)
            engine = SearchEngine(library)
            catch_ups: list[float] = []

            def catch_up() -> None:
                start = time.perf_counter()
                engine.refresh()
                catch_ups.append(time.perf_counter() - start)

            start = time.perf_counter()
            with HFClient(hf.url) as client:
                report = backfill(
                    library, client, days_between(since, until), until + timedelta(1), catch_up
                )
            total = time.perf_counter() - start
            assert report.error is None, report.summary()
            papers = len(library)  # the synthetic days and the recorded ones in the range
            ingest = total - sum(catch_ups)
            return {
                "days": days,
                "papers": papers,
                "requests": len(hf.requests),
                "total_s": total,
                "ingest_s": ingest,
                "papers_per_s": papers / ingest,
                "index_catch_up_s": sum(catch_ups),
                "index_batches": len(catch_ups),
            }
    finally:
        hf.stop()


def table(result: dict[str, Any]) -> str:
    return (
        f"\nbackfill of {result['days']} Daily Papers days, {result['papers']:,} papers, "
        f"{result['requests']} requests (loopback, no rate limit)\n"
        f"| ingested (fetch, parse, upsert) | index catch-up ({result['index_batches']} "
        "batches) | total |\n|---|---|---|\n"
        f"| {result['papers_per_s']:,.0f} papers/s ({result['ingest_s']:.1f} s) "
        f"| {result['index_catch_up_s']:.1f} s | {result['total_s']:.1f} s |"
    )


def main() -> None:
    result = measure(*(int(a) for a in sys.argv[1:]))
    print(table(result))
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved["backfill"] = result | {"machine": machine()}
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


if __name__ == "__main__":
    main()
