"""`papers-bot fulltext --since YYYY-MM-DD [--until YYYY-MM-DD]`: the full texts (arXiv HTML)
of the papers listed on those days, fetched and kept ahead of questions, one request a second,
with a progress bar on a terminal (a log line every 30 s otherwise). Resumable: a paper whose
text is kept, or that arXiv had no page for this week, is skipped."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime, timedelta

from bot.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.cli.opening import open_runtime, parse_day
from bot.ingest.fulltext import Reading, fill_full_texts

log = logging.getLogger(__name__)
LOG_EVERY = 30.0


def fulltext_command(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    since = parse_day(args.since, "--since", today)
    until = parse_day(args.until, "--until", today)
    if until < since:
        raise UsageError(f"--until {until} is before --since {since}")
    runtime = open_runtime(args, "ARXIV_HTML_URL")
    papers = runtime.library.listed_between((since - timedelta(days=1)).isoformat(), str(until))
    print(f"{len(papers):,} papers listed from {since} to {until}")
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(papers), unit="paper", desc="full texts", file=sys.stderr)
    done, started, logged = 0, time.monotonic(), time.monotonic()

    def advance(reading: Reading | None) -> None:
        nonlocal done, logged
        done += 1
        if bar is not None:
            bar.update(1)
        elif time.monotonic() - logged >= LOG_EVERY or done == len(papers):
            logged = time.monotonic()
            rate = done / max(logged - started, 1e-9)
            log.info("full texts: %d/%d papers, %.1f a second", done, len(papers), rate)

    try:
        report = fill_full_texts(runtime.settings, runtime.library, papers, advance)
    finally:
        if bar is not None:
            bar.close()
    print(
        f"kept {report.kept}, no HTML page {report.missing}, already kept {report.already}, "
        f"failed {report.failed}"
    )
    if report.failed:
        print("papers-bot fulltext: some pages could not be read; run it again", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
