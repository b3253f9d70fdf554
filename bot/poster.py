"""Where the digest and follow alerts go: Slack, the console, or stdout for --dry-run.

The digest and alerts are domain code; they talk to a `Poster`, never to Bolt.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.render import blocks_to_text


class Poster(Protocol):
    def post(self, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
        """Post and return the message ts; raise if Slack did not accept it."""
        ...

    def open_dm(self, user: str) -> str:
        """The id of the DM channel with `user`."""
        ...


class PrintPoster:
    """`--dry-run`: print what would be posted, post nothing."""

    def __init__(self, write=print):  # noqa: ANN001 - a print-like callable
        self.write = write
        self._count = 0

    def post(self, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
        self._count += 1
        where = f"thread of {thread_ts}" if thread_ts else channel
        self.write(f"--- would post to {where} ---")
        self.write(blocks_to_text(message.get("blocks") or []) or message.get("text", ""))
        return f"dry-run.{self._count:06d}"

    def open_dm(self, user: str) -> str:
        return f"DM-{user}"
