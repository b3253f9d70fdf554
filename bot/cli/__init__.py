"""`papers-bot` (also `python -m bot`): the command line of the contract (README, "Commands").

Exit codes: 0 done; 1 failed at work (network, Slack, disk); 2 bad usage or bad settings.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from bot.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from bot.config import SettingsError, load_env_file, load_settings
from bot.library import StoreError
from bot.logs import install_secret_filter


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
    fetch.add_argument(
        "--since", help="backfill every day from YYYY-MM-DD (Daily Papers begin 2023-05-04)"
    )
    fetch.add_argument("--until", help="with --since: the last day (default: today, UTC)")
    fetch.add_argument(
        "--arxiv",
        metavar="CATEGORIES",
        help="arXiv categories instead (cs.LG,cs.CL): papers first submitted --since (default: "
        "7 days ago) to --until",
    )
    index = sub.add_parser("index", help="bring the search index up to date with the library")
    index.add_argument("--rebuild", action="store_true", help="build a new one from nothing")
    digest = sub.add_parser("digest", help="post the daily digest once, now")
    digest.add_argument("--channel", help="channel id (default: PAPERS_CHANNEL)")
    digest.add_argument("--date", help="digest day, YYYY-MM-DD (default: today)")
    digest.add_argument("--dry-run", action="store_true", help="print instead of posting")
    fulltext = sub.add_parser(
        "fulltext", help="fetch and keep the full texts (arXiv HTML) of days' papers, for asking"
    )
    fulltext.add_argument("--since", required=True, help="the first listing day, YYYY-MM-DD")
    fulltext.add_argument("--until", help="the last listing day (default: today, UTC)")
    enrich = sub.add_parser(
        "enrich", help="Semantic Scholar's citation counts, venue and year for the library"
    )
    enrich.add_argument("--since", help="only papers dated since this day, YYYY-MM-DD")
    citations = sub.add_parser(
        "citations", help="send the weekly citation alerts now, to everyone subscribed"
    )
    citations.add_argument("--now", action="store_true", help="at once (required)")
    db = sub.add_parser("db", help="the PostgreSQL database: upgrade its schema, copy a library")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="create or migrate the schema of DATABASE_URL")
    copy = db_sub.add_parser("copy", help="copy a library between a data dir and a database")
    copy.add_argument("--from", dest="source", required=True, metavar="PATH-OR-URL")
    copy.add_argument("--to", dest="target", required=True, metavar="PATH-OR-URL")
    doctor = sub.add_parser(
        "doctor", help="check the install, the data, the settings and the services"
    )
    doctor.add_argument(
        "--network",
        action="store_true",
        help="also ask Hugging Face, arXiv, Semantic Scholar, the LLM",
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
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
    args.settings = load_settings()  # read once; every command uses these
    install_secret_filter(args.settings.secrets())
    try:
        return HANDLERS[args.command](args)
    except (SettingsError, UsageError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    except StoreError as error:
        print(f"papers-bot: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:
        # `papers-bot search kan | head -1`: the reader left, which is not our error. Python
        # would report the pipe again when it flushes stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def search_command(args: argparse.Namespace) -> int:
    from bot.cli.search_commands import search_command as search

    return search(args)


def index_command(args: argparse.Namespace) -> int:
    from bot.cli.search_commands import index_command as bring_up_to_date

    return bring_up_to_date(args)


def import_command(args: argparse.Namespace) -> int:
    from bot.cli.library_commands import import_command as import_files

    return import_files(args)


def fetch_command(args: argparse.Namespace) -> int:
    from bot.cli.library_commands import fetch_command as fetch_days

    return fetch_days(args)


def run_command(args: argparse.Namespace) -> int:
    from bot.slack.runner import run

    return run(args.settings)


def console_command(args: argparse.Namespace) -> int:
    from bot.console import run_console

    return run_console(args.settings)


def digest_command(args: argparse.Namespace) -> int:
    from bot.cli.digest_command import post_or_print_digest

    return post_or_print_digest(args)


def fulltext_command(args: argparse.Namespace) -> int:
    from bot.cli.fulltext_command import fulltext_command as fill

    return fill(args)


def enrich_command(args: argparse.Namespace) -> int:
    from bot.cli.scholar_commands import enrich_command as fill

    return fill(args)


def citations_command(args: argparse.Namespace) -> int:
    from bot.cli.scholar_commands import citations_command as send

    return send(args)


def db_command(args: argparse.Namespace) -> int:
    from bot.cli.db_commands import copy_command, upgrade_command

    return upgrade_command(args) if args.db_command == "upgrade" else copy_command(args)


def doctor_command(args: argparse.Namespace) -> int:
    from bot.cli.doctor import doctor_command as check_everything

    return check_everything(args)


# Each subcommand's handler, imported when it runs: `papers-bot search` loads neither Bolt nor
# an HTTP client, so it starts fast.
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "search": search_command,
    "index": index_command,
    "import": import_command,
    "run": run_command,
    "console": console_command,
    "fetch": fetch_command,
    "digest": digest_command,
    "fulltext": fulltext_command,
    "enrich": enrich_command,
    "citations": citations_command,
    "db": db_command,
    "doctor": doctor_command,
}
