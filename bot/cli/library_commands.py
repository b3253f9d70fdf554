"""`papers-bot search`, `import` and `fetch`: the library from the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.ingest.fetch import days_back, fetch
from bot.ingest.importer import import_files, unreadable
from bot.models import arxiv_url
from bot.render import paper_text
from bot.runtime import Runtime
from bot.search import SearchResponse
from bot.sources.hf_client import HFClient
from bot.summarize import keywords, tldr


def open_runtime(args: argparse.Namespace, *settings_used: str) -> Runtime:
    """The library, after checking the settings this command uses (the data dir's own)."""
    args.settings.require_valid("PAPERS_SAMPLE_DATA", *settings_used)
    return Runtime.open(args.settings)


EARLIEST_DAY = date(1991, 8, 14)  # arXiv's first day: nothing to fetch or post before it


def parse_day(value: str | None, option: str, default: date) -> date:
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError as error:
        raise UsageError(f"{option} must be YYYY-MM-DD, not {value!r}") from error
    if day < EARLIEST_DAY:
        raise UsageError(f"{option} {day} is before arXiv began ({EARLIEST_DAY}); use a later day")
    return day


def search_command(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise UsageError("--limit must be a whole number from 1 to 100")
    runtime = open_runtime(args)
    response = runtime.search.search(" ".join(args.query), limit=args.limit)
    if response.problem:  # not a query we can run: say so on stderr, exit 2, even with --json
        raise UsageError(response.message or "that is not a query papers-bot can run")
    if args.json:
        print(json.dumps(search_json(response), ensure_ascii=False, indent=2))
        return EXIT_OK
    for note in response.notes:
        print(note)
    if response.message:
        print(response.message)
    if response.suggestions:
        print("Did you mean: " + ", ".join(response.suggestions) + "?")
    for rank, result in enumerate(response.results, start=1):
        print(paper_text(rank, result.paper, result.matched))
        print()
    return EXIT_OK


def search_json(response: SearchResponse) -> list[dict[str, Any]]:
    return [
        {
            "rank": rank,
            "id": r.paper.id,
            "title": r.paper.title,
            "score": r.score,
            "tldr": tldr(r.paper),
            "url": arxiv_url(r.paper.id),
            "hf_url": r.paper.hf_url,
            "authors": r.paper.authors,
            "date": r.paper.date,
            "upvotes": r.paper.upvotes,
            "keywords": keywords(r.paper),
            "matched": r.matched,
        }
        for rank, r in enumerate(response.results, start=1)
    ]


def import_command(args: argparse.Namespace) -> int:
    """Exit 2 when a path is not a readable file (nothing is imported), 1 when rows were
    skipped (the good ones are imported), 0 when every row was imported."""
    problems = [p for p in (unreadable(Path(path)) for path in args.paths) if p]
    if problems:
        raise UsageError("papers-bot import: " + "; ".join(problems))
    runtime = open_runtime(args)
    report = import_files(runtime.library, args.paths)
    runtime.search.refresh()
    for skip in report.skipped:
        print(f"skipped {skip}", file=sys.stderr)
    for path in report.empty_files:
        print(f"warning: {path} holds no papers", file=sys.stderr)
    print(report.summary())
    return EXIT_FAILED if report.skipped else EXIT_OK


def fetch_command(args: argparse.Namespace) -> int:
    end = parse_day(args.date, "--date", datetime.now(UTC).date())
    if not 1 <= args.days <= 366:
        raise UsageError("--days must be a whole number from 1 to 366")
    runtime = open_runtime(args, "HF_API_URL")
    with HFClient(runtime.settings.hf_api_url) as client:
        report = fetch(runtime.library, days_back(end, args.days), client)
    runtime.search.refresh()
    for day_report in report.days:
        print(day_report.summary())
        for skip in day_report.skipped:
            print(f"  skipped {skip}", file=sys.stderr)
    if report.error:
        print(f"papers-bot fetch: {report.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
