"""`make run`: the Slack bot when it can reach Slack (a bot token, or a client id and secret
for many workspaces), otherwise the offline console."""

from __future__ import annotations

import os

from bot.cli import main
from bot.config import load_env_file


def _set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def run_or_console() -> int:
    load_env_file()
    if _set("SLACK_BOT_TOKEN") or (_set("SLACK_CLIENT_ID") and _set("SLACK_CLIENT_SECRET")):
        return main(["run"])
    print(
        "Neither SLACK_BOT_TOKEN nor SLACK_CLIENT_ID/SECRET is set, so this is the offline "
        "console (see README: Slack setup)."
    )
    return main(["console"])


if __name__ == "__main__":
    raise SystemExit(run_or_console())
