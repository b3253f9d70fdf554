"""`papers-bot` (also `python -m bot`): the command line of the contract in DESIGN.md.

Exit codes: 0 done; 1 failed at work (network, Slack, disk); 2 bad usage or bad settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from bot.config import SettingsError, load_env_file, load_settings
from bot.models import arxiv_url
from bot.render import paper_text
from bot.storage import StoreError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage: exit code 2 with this message."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papers-bot",
        description="A Slack bot that keeps a research team on top of ML papers.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the Slack bot (Socket Mode or HTTP)")
    sub.add_parser("console", help="try every /papers command offline")
    search = sub.add_parser("search", help="search the library")
    search.add_argument("--json", action="store_true", help="print a JSON array")
    search.add_argument("--limit", type=int, default=10, help="how many results (default 10)")
    search.add_argument("query", nargs="+", help="what you remember of the paper")
    importer = sub.add_parser("import", help="import papers from JSON or JSONL files")
    importer.add_argument("paths", nargs="+", metavar="PATH")
    fetch = sub.add_parser("fetch", help="pull Daily Papers listings from Hugging Face")
    fetch.add_argument("--date", help="listing day, YYYY-MM-DD (default: today, UTC)")
    fetch.add_argument("--days", type=int, default=1, help="how many days back from --date")
    digest = sub.add_parser("digest", help="post the daily digest once, now")
    digest.add_argument("--channel", help="channel id (default: PAPERS_CHANNEL)")
    digest.add_argument("--date", help="digest day, YYYY-MM-DD (default: today)")
    digest.add_argument("--dry-run", action="store_true", help="print instead of posting")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    load_env_file()
    from bot.logs import install_secret_filter

    args.settings = load_settings()  # read once; every command uses these
    install_secret_filter(args.settings.secrets())
    try:
        return COMMANDS[args.command](args)
    except (SettingsError, UsageError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    except StoreError as error:
        print(f"papers-bot: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED


def _services(args: argparse.Namespace):  # noqa: ANN202 - Services, imported lazily
    from bot.services import Services

    args.settings.require_valid()
    return Services.open(args.settings)


def cmd_search(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise UsageError("--limit must be a whole number from 1 to 100")
    services = _services(args)
    response = services.search.search(" ".join(args.query), limit=args.limit)
    services.search.save_if_dirty()  # the next process starts from the up-to-date index
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


def search_json(response) -> list[dict]:  # noqa: ANN001 - SearchResponse
    from bot.summarize import keywords, tldr

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


def cmd_import(args: argparse.Namespace) -> int:
    from bot.importer import import_files

    services = _services(args)
    report = import_files(services.library, args.paths)
    services.search.refresh()
    services.search.save_if_dirty()
    for skip in report.skipped:
        print(f"skipped {skip}", file=sys.stderr)
    print(report.summary())
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from bot.slack.runner import run

    return run(args.settings)


def cmd_console(args: argparse.Namespace) -> int:
    from bot.console import run_console

    return run_console(args.settings)


def cmd_fetch(args: argparse.Namespace) -> int:
    from bot.ingest import run_fetch

    return run_fetch(_services(args), args.date, args.days)


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.digest import run_digest_command

    return run_digest_command(_services(args), args.channel, args.date, args.dry_run)


COMMANDS = {
    "search": cmd_search,
    "import": cmd_import,
    "run": cmd_run,
    "console": cmd_console,
    "fetch": cmd_fetch,
    "digest": cmd_digest,
}

if __name__ == "__main__":
    raise SystemExit(main())
