"""`papers-bot search` and `papers-bot index`: the library's search from the terminal.

Kept apart from `import`/`fetch` so that a one-shot search imports no HTTP client: a cold
`papers-bot search` is mostly Python's own start.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bot.cli.errors import EXIT_OK, UsageError
from bot.cli.opening import open_runtime
from bot.library import Library
from bot.models import arxiv_url
from bot.render import paper_text
from bot.search import SearchResponse
from bot.search.builder import brought_up_to_date
from bot.summarize import keywords, tldr


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


def index_command(args: argparse.Namespace) -> int:
    """Bring the search index up to date with the catalog (`--rebuild`: a new one from
    nothing, swapped in when complete; searches go on meanwhile)."""
    args.settings.require_valid("PAPERS_SAMPLE_DATA", "DATABASE_URL")
    library = Library(
        args.settings.data_dir,
        sample_data=args.settings.sample_data,
        database_url=args.settings.database_url,
    )
    start = time.perf_counter()
    done = brought_up_to_date(library, rebuild=args.rebuild, progress=_progress(len(library)))
    print(
        f"search index {'built' if done.built else 'caught up'}: {len(library):,} papers, "
        f"{done.changed:,} changed since, in {time.perf_counter() - start:.1f} s ({done.folder})"
    )
    return EXIT_OK


def _progress(total: int) -> Any:
    step = max(10_000, total // 10)
    last = [0]

    def report(done: int) -> None:
        if done - last[0] >= step or done == total:
            last[0] = done
            print(f"  analysed {done:,} of {total:,} papers", flush=True)

    return report
