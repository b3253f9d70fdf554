"""`make run`: the Slack bot when a bot token is configured, otherwise the offline console."""

from __future__ import annotations

import os

from bot.cli import main
from bot.config import load_env_file


def run_or_console() -> int:
    load_env_file()
    if os.environ.get("SLACK_BOT_TOKEN", "").strip():
        return main(["run"])
    print("SLACK_BOT_TOKEN is not set, so this is the offline console (see README: Slack setup).")
    return main(["console"])


if __name__ == "__main__":
    raise SystemExit(run_or_console())
