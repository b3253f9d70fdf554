"""Where the digest and follow alerts send messages: Slack, the console, or stdout (--dry-run);
and `Outcome`, what a person's change did, for whichever surface tells them.

The digest and the alerts are domain code; they talk to a `Messenger`, never to Bolt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.render import blocks_to_text


@dataclass
class Outcome:
    """What a person's change did (a save, an unsave, a Not interested mark), and the line
    to tell them."""

    changed: bool
    text: str
    failed: bool = False  # the library could not be written: nothing changed

    @property
    def worth_telling(self) -> bool:
        """A reaction is confirmed when it changed something or could not (not a no-op)."""
        return self.changed or self.failed


class PostRefused(Exception):
    """The message was certainly not posted (Slack answered with an error): safe to retry."""

    def __init__(self, code: str):
        super().__init__(f"Slack refused the message: {code}")
        self.code = code


class Messenger(Protocol):
    def post(self, channel: str, message: dict[str, Any], thread_ts: str | None = None) -> str:
        """Post and return the message ts; raise PostRefused if Slack did not accept it (any
        other exception leaves it unknown whether the message was posted)."""
        ...

    def open_dm(self, user: str) -> str:
        """The id of the DM channel with `user`."""
        ...


class PrintMessenger:
    """`--dry-run`: print what would be posted, post nothing."""

    def __init__(self, write: Callable[[str], object] = print):
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
