"""Convert seed_papers/ and hf_fixtures/ into bot/data/sample_papers.jsonl, once.

Run from the repository root: `python scripts/build_sample.py [DATA_DIR]` (default tests/data,
which holds copies of both). The output is
committed; a test checks it still matches what this conversion gives.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.ingest.importer import parse_files
from bot.library import merge_paper

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "data" / "sample_papers.jsonl"


def sample_sources(data: Path) -> list[Path]:
    seed = data / "seed_papers" / "papers.jsonl"
    return [seed, *sorted((data / "hf_fixtures").glob("*.json"))]


def build(data: Path) -> str:
    report = parse_files(sample_sources(data))
    if report.skipped:
        raise SystemExit("sample data has unusable rows: " + "; ".join(map(str, report.skipped)))
    merged: dict[str, dict] = {}
    for paper in report.papers:
        record = paper.to_record()
        record["source"] = "sample"
        merged[paper.id] = merge_paper(merged[paper.id], record) if paper.id in merged else record
    lines = [json.dumps(merged[key], ensure_ascii=False, sort_keys=True) for key in merged]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data"
    OUT.write_text(build(data_dir), "utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
