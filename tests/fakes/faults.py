"""The faults a loopback stand-in plays on its next requests (a 429, a 5xx, a stall), each
fault as many times as its `count` says, in the order they were added. One queue for the
stand-ins of arXiv's HTML, the LLM and Semantic Scholar."""

from __future__ import annotations

import threading
from typing import Generic, Protocol, TypeVar


class Counted(Protocol):
    count: int  # how many more requests it answers


F = TypeVar("F", bound=Counted)


class Faults(Generic[F]):
    def __init__(self) -> None:
        self._queue: list[F] = []
        self._lock = threading.Lock()

    def add(self, fault: F) -> None:
        with self._lock:
            self._queue.append(fault)

    def take(self) -> F | None:
        """The fault for this request (one of its `count` used up), or None."""
        with self._lock:
            for fault in self._queue:
                if fault.count > 0:
                    fault.count -= 1
                    return fault
        return None
