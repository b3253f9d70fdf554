"""Asking other people's servers politely: a request rate kept under their limit, and
`Retry-After` read the way RFC 9110 writes it."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

import httpx


class RateLimit:
    """At most `requests` requests in any `seconds`-long window: a request that would be one
    too many waits until the oldest of the window is `seconds` old. The Hub allows 500
    anonymous requests per 5 minutes (more with a token); staying under it means never being
    told to wait (a 429 is still honoured, `Retry-After` and all)."""

    def __init__(
        self,
        requests: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.requests, self.seconds = requests, seconds
        self.clock, self.sleep = clock, sleep
        self._sent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()  # a digest looks papers up on a few threads at once

    def wait_turn(self) -> None:
        with self._lock:
            self._take_turn()

    def _take_turn(self) -> None:
        now = self.clock()
        while self._sent and now - self._sent[0] >= self.seconds:
            self._sent.popleft()
        if len(self._sent) >= self.requests:
            self.sleep(self._sent[0] + self.seconds - now)
            self._sent.popleft()
        self._sent.append(max(now, self.clock()))


def retry_after(response: httpx.Response, longest: float) -> float | None:
    """The server's `Retry-After` in seconds (at most `longest`), or None if it gave none."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), longest)
    except ValueError:
        return None
