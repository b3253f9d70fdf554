"""`make bench` / `python -m bench [SIZE ...]`: the benchmark table beside SQLite FTS5 at 10,000
and 100,000 papers (bench/measure.py), the engine beside tantivy, bm25s and FTS5 up to a million
papers (bench/scale.py), then `/papers` latency while another process imports 100,000 papers
(bench/outside_import.py), the PostgreSQL backend beside the files at 100,000 papers
(bench/postgres.py), a 900-day Daily Papers backfill (bench/backfill.py), and the TL;DRs and
key phrases against Hugging Face's (bench/summary_quality.py), and For you against
arxiv-sanity's SVM with its cost at 100,000 papers (bench/recommend_quality.py); search
quality with and without meaning (bench/search_quality.py), and what search by meaning costs
at 100,000 papers with the plan for a million (bench/semantic.py); and how fast a pasted
paper link gets its card (bench/unfurl.py); asking a paper: the judged questions
(bench/ask_quality.py) and the answer's latency on a 60-page paper (bench/ask_latency.py); and
500 channel digests in 100 workspaces due at one minute, on PostgreSQL
(bench/channel_digests.py)."""

import json
import sys

from bench import (
    ask_latency,
    ask_quality,
    backfill,
    channel_digests,
    outside_import,
    postgres,
    recommend_quality,
    scale,
    search_quality,
    semantic,
    summary_quality,
    unfurl,
)
from bench.measure import RESULTS, run

sizes = [int(s) for s in sys.argv[1:]] or [10_000, 100_000]
report = run(sizes)
report["scale"] = scale.measure(sizes + ([1_000_000] if len(sys.argv) == 1 else []))
imported = outside_import.measure(100_000)
print(outside_import.table(imported))
report["outside_import"] = imported
on_postgres = postgres.measure(100_000)
print(postgres.table(on_postgres))
report["postgres"] = on_postgres
history = backfill.measure()
print(backfill.table(history))
report["backfill"] = history
report["search_quality"] = search_quality.main()
meaning = semantic.measure([100_000], million=1_000_000 if len(sys.argv) == 1 else None)
print(semantic.table(meaning))
report["semantic"] = meaning
report["summaries"] = summary_quality.main()
report["for_you"] = {"quality": recommend_quality.quality(), "cost": recommend_quality.cost()}
recommend_quality.show_quality(report["for_you"]["quality"])
recommend_quality.show_cost(report["for_you"]["cost"])
links = unfurl.measure()
print(unfurl.table(links))
report["unfurl"] = links
asked = {"quality": ask_quality.measure(), "latency": ask_latency.measure()}
print(ask_quality.table(asked["quality"]))
print(ask_latency.table(asked["latency"]))
report["ask"] = asked
digests = channel_digests.measure()
print(channel_digests.table(digests))
report["channel_digests"] = digests
RESULTS.write_text(json.dumps(report, indent=2) + "\n")
