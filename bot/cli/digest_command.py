"""`papers-bot digest`: the daily digest once, now (for cron users), or `--dry-run` to print it."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.cli.opening import open_runtime, parse_day
from bot.config import channel_problem
from bot.daily import before_digest
from bot.daily.workspaces import DueWorkspaceDigests
from bot.delivery import PrintMessenger
from bot.digest import preview_digest, run_digest
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.runner import check_auth
from bot.slack.slackbot import SlackBot
from bot.slack.workspaces import InstalledWorkspaces
from bot.text import plural


def post_or_print_digest(args: argparse.Namespace) -> int:
    runtime = open_runtime(
        args, "PAPERS_TIMEZONE", "PAPERS_DIGEST_SIZE", "PAPERS_CHANNEL", "SLACK_API_URL"
    )
    settings = runtime.settings
    if settings.many_workspaces and not args.channel and not args.dry_run:
        return _post_workspace_digests(runtime)
    channels = [args.channel] if args.channel else settings.channels
    if not channels:
        raise UsageError("name a channel: --channel C0123ABCD, or set PAPERS_CHANNEL")
    problem = channel_problem(args.channel, "--channel") if args.channel else None
    if problem:
        raise UsageError(problem)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    day = parse_day(args.date, "--date", today)
    if args.dry_run:
        for channel in channels:
            papers = preview_digest(
                runtime.library,
                PrintMessenger(),
                channel,
                day,
                settings.digest_size,
                settings.save_emoji,
                signals=settings.team_signals,
            )
            if not papers:
                print(f"{channel}: nothing new to post for {day}")
        return EXIT_OK
    return _post_digests(runtime, channels, day)


def _post_digests(runtime: Runtime, channels: list[str], day: date) -> int:
    settings = runtime.settings
    settings.require_bot_token()  # posting needs no signing secret
    client = make_client(settings)
    identity = check_auth(client)
    if isinstance(identity, int):
        return identity
    slackbot = SlackBot(runtime, client)
    status = EXIT_OK
    for channel in channels:
        try:
            result = run_digest(
                runtime.library,
                slackbot,
                channel,
                day,
                settings.digest_size,
                settings.save_emoji,
                freshen=before_digest(runtime, runtime.library),
                signals=settings.team_signals,
            )
        except Exception as error:  # report and go on with the next channel
            print(f"{channel}: digest failed: {error}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        print(
            f"{channel}: posted {plural(len(result.posted), 'paper')} for {day}"
            + (f" ({result.note})" if result.note else "")
        )
    return status


def _post_workspace_digests(runtime: Runtime) -> int:
    """Installed in many workspaces: every digest due now (a cron job every few minutes can
    do this instead of the replicas' minute tick), each with its workspace's token."""
    settings = runtime.settings
    try:
        workspaces = InstalledWorkspaces.open(SlackBot(runtime, make_client(settings)))
    except SQLAlchemyError as error:
        print(f"papers-bot: cannot read the installations: {error}", file=sys.stderr)
        return EXIT_FAILED
    done = DueWorkspaceDigests(settings, runtime, workspaces).tick()
    for due, outcome in done:
        print(f"{due.team} {due.channel}: {outcome} for {due.day}")
    if not done:
        print("no digest is due now (or another process is posting them)")
    return EXIT_FAILED if any(o.startswith("failed") for _, o in done) else EXIT_OK
