"""`papers-bot digest`: digests once, now (for cron users), or `--dry-run` to print them.

With `--channel`: that channel's digest (as set in Slack, else a daily one). Without, in token
mode: PAPERS_CHANNEL's digests of the day, then every channel digest set in Slack that is due
now; installed by OAuth: every digest due now, each with its workspace's token."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.cli.opening import open_runtime, parse_day
from bot.config import channel_problem
from bot.daily import before_digest, channel_digest, selection_for
from bot.daily.workspaces import DueDigests, OneWorkspace, Workspaces
from bot.delivery import PrintMessenger
from bot.digest import preview_digest, run_digest
from bot.digest_settings import channel_digests
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
        return _post_due_digests(runtime, _installed(runtime))
    channels = [args.channel] if args.channel else settings.channels
    set_in_slack = channel_digests(settings, runtime.library, runtime.library.team)
    if not channels and (args.dry_run or not set_in_slack):
        raise UsageError(
            "name a channel: --channel C0123ABCD, set PAPERS_CHANNEL, or type "
            "`/papers digest here` in a channel"
        )
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
                selection=selection_for(runtime, channel_digest(runtime, channel)),
            )
            if not papers:
                print(f"{channel}: nothing new to post for {day}")
        return EXIT_OK
    settings.require_bot_token()  # posting needs no signing secret
    client = make_client(settings)
    identity = check_auth(client)
    if isinstance(identity, int):
        return identity
    slackbot = SlackBot(runtime, client)
    status = _post_digests(runtime, slackbot, channels, day)
    if args.channel:
        return status
    due = _post_due_digests(runtime, OneWorkspace(slackbot), quiet=bool(channels))
    return max(status, due)


def _post_digests(runtime: Runtime, slackbot: SlackBot, channels: list[str], day: date) -> int:
    settings = runtime.settings
    status = EXIT_OK
    for channel in channels:
        digest = channel_digest(runtime, channel)
        if not digest.active:
            print(f"{channel}: its digest was switched off in Slack; not posted")
            continue
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
                selection=selection_for(runtime, digest),
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


def workspaces_for(runtime: Runtime) -> Workspaces | None:
    """Where to post: the installs (many workspaces), else the one workspace of the bot
    token (checked first); None when neither can be reached (the reason printed)."""
    settings = runtime.settings
    if settings.many_workspaces:
        return _installed(runtime)
    settings.require_bot_token()
    client = make_client(settings)
    if isinstance(check_auth(client), int):
        return None
    return OneWorkspace(SlackBot(runtime, client))


def _installed(runtime: Runtime) -> Workspaces | None:
    try:
        return InstalledWorkspaces.open(SlackBot(runtime, make_client(runtime.settings)))
    except SQLAlchemyError as error:
        print(f"papers-bot: cannot read the installations: {error}", file=sys.stderr)
        return None


def _post_due_digests(runtime: Runtime, workspaces: Workspaces | None, quiet: bool = False) -> int:
    """Every channel digest due now (a cron job every few minutes can do this instead of the
    bot's minute tick); `quiet`: say nothing when none is due."""
    if workspaces is None:
        return EXIT_FAILED
    done = DueDigests(runtime.settings, runtime, workspaces).tick()
    for due, outcome in done:
        where = f"{due.team} {due.channel}" if due.team else due.channel
        print(f"{where}: {outcome} for {due.day}")
    if not done and not quiet:
        print("no digest is due now (or another process is posting them)")
    return EXIT_FAILED if any(o.startswith("failed") for _, o in done) else EXIT_OK
