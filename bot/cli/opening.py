"""What every library command does first: check its settings, open the runtime, read dates."""

from __future__ import annotations

import argparse
from datetime import date

from bot.cli.errors import UsageError
from bot.runtime import Runtime


def open_runtime(args: argparse.Namespace, *settings_used: str) -> Runtime:
    """The library, after checking the settings this command uses (the data dir's own)."""
    args.settings.require_valid("PAPERS_SAMPLE_DATA", "DATABASE_URL", *settings_used)
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
