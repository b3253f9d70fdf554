"""`papers-bot enrich [--since YYYY-MM-DD]`: Semantic Scholar's citation counts, venue and year
for the library's papers (those dated since the day, else all), 500 a request, one request a
second, with a progress bar on a terminal (a log line every 30 s otherwise). Resumable: a
paper asked less than a week ago (known to Semantic Scholar or not) is skipped.

`papers-bot citations --now`: the weekly citation alerts at once, for everyone subscribed in
every workspace (for cron users and tests)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.cli.opening import open_runtime, parse_day
from bot.ingest.enrich import EnrichReport, enrich, is_stale
from bot.library import Library
from bot.models import Paper
from bot.sources.semantic_scholar import BATCH_SIZE, ScholarClient

log = logging.getLogger(__name__)
LOG_EVERY = 30.0
SCAN = 10_000  # catalog rows read at a time


def enrich_command(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    since = parse_day(args.since, "--since", today).isoformat() if args.since else None
    runtime = open_runtime(args, "SEMANTIC_SCHOLAR_API_URL")
    settings = runtime.settings
    now = datetime.now(UTC)
    stale = [p.id for p in _papers(runtime.library) if _wanted(p, since) and is_stale(p, now)]
    print(
        f"{len(stale):,} papers to ask Semantic Scholar about"
        + (f" (since {since})" if since else "")
    )
    total = EnrichReport()
    bar = _bar(len(stale))
    started = logged = time.monotonic()
    with ScholarClient(settings.scholar_url, settings.scholar_key) as client:
        for start in range(0, len(stale), BATCH_SIZE):
            chunk = stale[start : start + BATCH_SIZE]
            report = enrich(runtime.library, client, chunk)
            total.found += report.found
            total.unknown += report.unknown
            total.failed += report.failed
            total.error = report.error or total.error
            if bar is not None:
                bar.update(len(chunk))
            elif time.monotonic() - logged >= LOG_EVERY or start + BATCH_SIZE >= len(stale):
                logged = time.monotonic()
                done = min(start + BATCH_SIZE, len(stale))
                log.info(
                    "enrich: %d/%d papers, %.0f a second",
                    done,
                    len(stale),
                    done / max(logged - started, 1e-9),
                )
    if bar is not None:
        bar.close()
    runtime.search.refresh()  # the index keeps nothing of the figures; the catalog changed
    print(
        f"found {len(total.found)}, unknown to Semantic Scholar {len(total.unknown)}, "
        f"failed {len(total.failed)}"
    )
    if total.failed:
        print(f"papers-bot enrich: {total.error}; run it again for the rest", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _papers(library: Library) -> Iterator[Paper]:
    top = library.catalog.max_num()
    for low in range(0, top + 1, SCAN):
        for _, paper in library.catalog.records_between(low, low + SCAN):
            yield paper


def _wanted(paper: Paper, since: str | None) -> bool:
    return since is None or (paper.date or "") >= since or (paper.listed or "") >= since


def _bar(total: int) -> Any:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="paper", desc="citations", file=sys.stderr)


def citations_command(args: argparse.Namespace) -> int:
    if not args.now:
        raise UsageError(
            "say when: `papers-bot citations --now` (the bot itself checks on Mondays)"
        )
    from bot.cli.digest_command import workspaces_for
    from bot.daily.workspaces import DueDigests

    runtime = open_runtime(args, "SEMANTIC_SCHOLAR_API_URL", "SLACK_API_URL")
    if not runtime.settings.enrich:
        raise UsageError("PAPERS_CITATIONS=0: citation alerts are off in this installation")
    workspaces = workspaces_for(runtime)
    if workspaces is None:
        return EXIT_FAILED
    job = DueDigests(runtime.settings, runtime, workspaces)
    now = datetime.now(UTC)
    status = EXIT_OK
    for team in workspaces.installed():
        outcome = job.check_citations(team, None, now)
        print(f"{team or 'this workspace'}: {outcome}")
        status = EXIT_FAILED if "failed" in outcome else status
    return status
