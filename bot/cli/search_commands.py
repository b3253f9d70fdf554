"""`papers-bot search` and `papers-bot index`: the library's search from the terminal.

Kept apart from `import`/`fetch` so that a one-shot search imports no HTTP client: a cold
`papers-bot search` is mostly Python's own start.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bot.cli.errors import EXIT_OK, UsageError
from bot.cli.opening import open_runtime
from bot.library import Library
from bot.models import arxiv_url
from bot.render import paper_text
from bot.render.search_text import message_text, note_text
from bot.runtime import Runtime, semantic_for
from bot.search import SearchResponse
from bot.search.builder import brought_up_to_date
from bot.search.semantic import Semantic
from bot.search.semantic.model import ModelMissing, cpu_threads
from bot.summarize import keywords, tldr


def search_command(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise UsageError("--limit must be a whole number from 1 to 100")
    runtime = open_runtime(args)
    response = runtime.search.search(" ".join(args.query), limit=args.limit)
    if response.problem:  # not a query we can run: say so on stderr, exit 2, even with --json
        raise UsageError(message_text(response) or "that is not a query papers-bot can run")
    if args.json:
        print(json.dumps(search_json(response), ensure_ascii=False, indent=2))
        return EXIT_OK
    for note in response.notes:
        print(note_text(note))
    if response.message:
        print(message_text(response))
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
            "citations": r.paper.citations if r.paper.scholar_known else None,
            "code": r.paper.code_url,
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
    semantic = semantic_for(args.settings, threads=cpu_threads())
    if semantic is not None:
        _embed(semantic, library)
    return EXIT_OK


EMBED_IN_INGEST = 2_000  # papers `import`/`fetch` embed themselves: about two minutes


def embed_additions(runtime: Runtime) -> None:
    """After `import` or `fetch`: make the vectors of what came in, when it is a few papers
    (a day, a file); a big intake is left to a running bot's background or `papers-bot index`."""
    semantic = runtime.search.semantic
    todo = semantic.behind(runtime.library) if semantic is not None else 0
    if semantic is None or not todo or not semantic.available():  # the log said why not
        return
    if todo > EMBED_IN_INGEST:
        print(
            f"search by meaning: {todo:,} papers to embed; a running bot does it in the "
            "background, or run `papers-bot index`",
            file=sys.stderr,
        )
        return
    try:
        semantic.catch_up(runtime.library)
    except ModelMissing as error:
        print(f"search by meaning is off: {error}", file=sys.stderr)


def _embed(semantic: Semantic, library: Library) -> None:
    """Make the vectors search by meaning needs (a long job the first time: the progress is
    saved every few thousand papers, so an interrupted run resumes). Not when its native
    parts failed their check: the log said so, and the words' index is made all the same."""
    if not semantic.available():
        return
    todo = semantic.behind(library)
    start = time.perf_counter()
    try:
        made = semantic.catch_up(library, progress=_embedding_progress(todo))
    except ModelMissing as error:  # PAPERS_EMBEDDING_MODEL names no model: a setting to fix
        raise UsageError(str(error)) from error
    took = time.perf_counter() - start
    if made is None:
        print("vectors: another process is making them; search uses what it has meanwhile")
    else:
        print(f"vectors for search by meaning: {made:,} papers embedded in {took:.1f} s")


def _progress(total: int) -> Any:
    step = max(10_000, total // 10)
    last = [0]

    def report(done: int) -> None:
        if done - last[0] >= step or done == total:
            last[0] = done
            print(f"  analysed {done:,} of {total:,} papers", flush=True)

    return report


def _embedding_progress(total: int) -> Any:
    """Told each batch's size; prints a line every tenth (at least every 1,000 papers)."""
    step = max(1_000, total // 10)
    done = [0, 0]  # papers read, papers read at the last line

    def report(batch: int) -> None:
        done[0] += batch
        if done[0] - done[1] >= step or done[0] >= total:
            done[1] = done[0]
            print(f"  embedded {done[0]:,} of {total:,} papers", flush=True)

    return report
