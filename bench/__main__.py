"""`make bench` / `python -m bench [SIZE ...]`: the benchmark table at 10,000 and 100,000 papers,
then `/papers` latency while another process imports 100,000 papers (bench/outside_import.py)."""

import json
import sys

from bench import outside_import
from bench.measure import RESULTS, run

sizes = [int(s) for s in sys.argv[1:]] or [10_000, 100_000]
report = run(sizes)
imported = outside_import.measure(100_000)
print(outside_import.table(imported))
report["outside_import"] = imported
RESULTS.write_text(json.dumps(report, indent=2) + "\n")
