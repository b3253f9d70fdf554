"""`papers-bot db upgrade` and `papers-bot db copy --from A --to B`.

`upgrade` makes or migrates the PostgreSQL schema of DATABASE_URL (a bot also does it as it
starts); `copy` moves a library between a data dir and a database, either way: papers, listing
days, saves, follows, alerts, paper messages and the digest ledger of every workspace, each
workspace's digest setting, the backfill's settled days and, with SLACK_CLIENT_ID set, the
installations (bot tokens). It only adds what the target lacks, so running it again changes
nothing, and it checks the counts at the end.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.config import DATABASE_SCHEMES, Settings
from bot.library import Library, utc_now
from bot.slack.workspaces import copy_installations, installation_stores, installed_teams


def upgrade_command(args: argparse.Namespace) -> int:
    from bot.library import pg_schema

    args.settings.require_valid("DATABASE_URL")
    if not args.settings.database_url:
        raise UsageError("db upgrade needs DATABASE_URL=postgresql://... (the database to upgrade)")
    before, after = pg_schema.upgrade(pg_schema.connect(args.settings.database_url), utc_now())
    if after > pg_schema.SCHEMA_VERSION:
        print(f"the database is at schema version {after}, newer than this papers-bot knows")
        return EXIT_FAILED
    change = "already up to date" if before == after else f"upgraded from version {before}"
    print(f"the database schema is at version {after} ({change})")
    return EXIT_OK


def _open(place: str, data_dir: Path) -> Library:
    if place.startswith(DATABASE_SCHEMES):
        return Library(data_dir, sample_data=False, database_url=place)
    if "://" in place:
        raise UsageError(f"{place!r} is neither a data dir nor a postgresql:// URL")
    return Library(place, sample_data=False)


STATE = ("saves", "messages", "follows", "ledger", "tastes", "shares", "citation_alerts")


def copy_command(args: argparse.Namespace) -> int:
    if args.source == args.target:
        raise UsageError("--from and --to are the same place")
    if not args.source.startswith(DATABASE_SCHEMES) and not Path(args.source).is_dir():
        raise UsageError(f"--from {args.source}: no such data dir")
    index_dir = args.settings.data_dir  # a database-backed library keeps its index here
    source, target = _open(args.source, index_dir), _open(args.target, index_dir)
    papers_before = target.catalog.count()
    records = [change.paper.to_record() for change in source.catalog.changes_since(0)]
    target.catalog.import_records(records, source.catalog.listings())
    print(
        f"papers: {target.catalog.count() - papers_before:,} added, {len(records):,} in the source"
    )
    problems = _missing_papers(source, target)
    problems += _copy_fetched_days(source, target)
    teams = source.teams()
    for name in STATE:
        added = found = 0
        for team in teams:  # each workspace's state, into the same workspace
            rows = getattr(source.for_team(team), name).export()
            added += getattr(target.for_team(team), name).load(rows)
            found += sum(map(len, rows.values()))
            problems += _missing_rows(name, rows, getattr(target.for_team(team), name).export())
        print(f"{name}: {added:,} added, {found:,} in the source")
    rows = source.channel_digests.export()
    added = target.channel_digests.load(rows)
    print(f"channel digests: {added:,} added, {sum(map(len, rows.values())):,} in the source")
    problems += _missing_rows("channel digests", rows, target.channel_digests.export())
    if args.settings.slack_client_id:  # many workspaces: their bot tokens move too
        problems += _copy_installations(args.settings, source, target)
    for problem in problems:
        print(f"papers-bot: {problem}")
    return EXIT_FAILED if problems else EXIT_OK


def _copy_fetched_days(source: Library, target: Library) -> list[str]:
    """The backfill's record of settled days: a moved library does not fetch them again."""
    fetched = source.catalog.fetched_records()
    added = target.catalog.load_fetched(fetched)
    print(f"fetched days: {added:,} added, {len(fetched):,} in the source")
    there = {"fetched_days": target.catalog.fetched_records()}
    return _missing_rows("fetched days", {"fetched_days": fetched}, there)


def _copy_installations(settings: Settings, source: Library, target: Library) -> list[str]:
    stores = [installation_stores(settings, library)[0] for library in (source, target)]
    copied, found = copy_installations(*stores)
    print(f"installations: {copied:,} added, {found:,} in the source")
    missing = set(installed_teams(stores[0])) - set(installed_teams(stores[1]))
    return (
        [f"installations of {', '.join(sorted(missing))} are missing in the target"]
        if missing
        else []
    )


def _missing_papers(source: Library, target: Library) -> list[str]:
    ids = list(source.papers())
    missing = len(ids) - len(target.catalog.get_many(ids))
    listed = source.catalog.listings()
    kept = {(d, p) for d, ps in target.catalog.listings().items() for p in ps}
    lost = sum(1 for d, ps in listed.items() for p in ps if (d, p) not in kept)
    problems = [f"{missing} of {len(ids)} papers are missing in the target"] if missing else []
    if lost:
        entries = sum(map(len, listed.values()))
        problems.append(f"{lost} of {entries} listing entries are missing in the target")
    return problems


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    identity = ("team", "user", "paper", "channel", "ts", "topic", "day", "source")
    return tuple(str(row.get(field, "")) for field in identity)


def _missing_rows(
    name: str, source: dict[str, list[dict[str, Any]]], target: dict[str, list[dict[str, Any]]]
) -> list[str]:
    problems = []
    for table, rows in source.items():
        found = {_key(row) for row in target.get(table, [])}
        missing = sum(1 for row in rows if _key(row) not in found)
        if missing:
            problems.append(
                f"{name}: {missing} of {len(rows)} {table} rows are missing in the target"
            )
    return problems
