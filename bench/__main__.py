"""`make bench` / `python -m bench [SIZE ...]`: the benchmark table at 10,000 and 100,000 papers."""

import sys

from bench.measure import run

sizes = [int(s) for s in sys.argv[1:]] or [10_000, 100_000]
run(sizes)
