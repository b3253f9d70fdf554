"""`papers-bot import` and `fetch`: filling the library from the terminal."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.cli.opening import open_runtime, parse_day
from bot.cli.progress import BackfillProgress
from bot.cli.search_commands import embed_additions
from bot.config import ARXIV_CATEGORY_RE
from bot.ingest.arxiv_fetch import fetch_category
from bot.ingest.backfill import backfill, days_between
from bot.ingest.fetch import days_back, fetch
from bot.ingest.importer import import_files, unreadable
from bot.sources.arxiv_client import arxiv_client_for
from bot.sources.hf_client import client_for


def import_command(args: argparse.Namespace) -> int:
    """Exit 2 when a path is not a readable file (nothing is imported), 1 when rows were
    skipped (the good ones are imported), 0 when every row was imported."""
    problems = [p for p in (unreadable(Path(path)) for path in args.paths) if p]
    if problems:
        raise UsageError("papers-bot import: " + "; ".join(problems))
    runtime = open_runtime(args)
    report = import_files(runtime.library, args.paths)
    runtime.search.refresh()
    embed_additions(runtime)
    for skip in report.skipped:
        print(f"skipped {skip}", file=sys.stderr)
    for path in report.empty_files:
        print(f"warning: {path} holds no papers", file=sys.stderr)
    print(report.summary())
    return EXIT_FAILED if report.skipped else EXIT_OK


def fetch_command(args: argparse.Namespace) -> int:
    if args.arxiv is not None:
        return arxiv_command(args)
    if args.since or args.until:
        return backfill_command(args)
    end = parse_day(args.date, "--date", datetime.now(UTC).date())
    if not 1 <= args.days <= 366:
        raise UsageError("--days must be a whole number from 1 to 366")
    runtime = open_runtime(args, "HF_API_URL")
    with client_for(runtime.settings) as client:
        report = fetch(runtime.library, days_back(end, args.days), client)
    runtime.search.refresh()
    embed_additions(runtime)
    for day_report in report.days:
        print(day_report.summary())
        for skip in day_report.skipped:
            print(f"  skipped {skip}", file=sys.stderr)
    if report.error:
        print(f"papers-bot fetch: {report.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def backfill_command(args: argparse.Namespace) -> int:
    """`fetch --since DAY [--until DAY]`: resumable; progress on a terminal, log lines else."""
    today = datetime.now(UTC).date()
    if not args.since or args.date or args.days != 1:
        raise UsageError("use --since DAY [--until DAY] for a backfill, or --date/--days")
    since = parse_day(args.since, "--since", today)
    until = parse_day(args.until, "--until", today)
    if since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    days = days_between(since, until)
    runtime = open_runtime(args, "HF_API_URL", "HF_TOKEN", "HF_RATE_LIMIT")
    with client_for(runtime.settings) as client, BackfillProgress() as progress:
        report = backfill(runtime.library, client, days, today, runtime.search.refresh, progress)
    print(report.summary())
    embed_additions(runtime)
    if report.error:
        print(
            f"papers-bot fetch: {report.error}; run the same command again to go on",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


ARXIV_DEFAULT_DAYS = 7


def arxiv_command(args: argparse.Namespace) -> int:
    """`fetch --arxiv CATEGORIES [--since DAY] [--until DAY]`: each category's submissions."""
    today = datetime.now(UTC).date()
    categories = [c.strip() for c in args.arxiv.split(",") if c.strip()]
    wrong = [c for c in categories if not ARXIV_CATEGORY_RE.fullmatch(c)]
    if not categories or wrong:
        raise UsageError(f"--arxiv takes categories such as cs.LG,cs.CL, not {args.arxiv!r}")
    if args.date or args.days != 1:
        raise UsageError("--arxiv takes --since and --until, not --date or --days")
    since = parse_day(args.since, "--since", today - timedelta(days=ARXIV_DEFAULT_DAYS))
    until = parse_day(args.until, "--until", today)
    if since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    runtime = open_runtime(args, "ARXIV_API_URL")
    failed = False
    with arxiv_client_for(runtime.settings) as client:
        for category in categories:
            report = fetch_category(runtime.library, client, category, since, until)
            print(report.summary())
            if report.error:
                print(f"papers-bot fetch: arXiv {category}: {report.error}", file=sys.stderr)
                failed = True
    runtime.search.refresh()
    embed_additions(runtime)
    return EXIT_FAILED if failed else EXIT_OK
