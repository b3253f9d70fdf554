"""Asking other people's servers politely: a request rate kept under their limit, one retry
policy for every outside HTTP call, and `Retry-After` read the way RFC 9110 writes it.

Every source client (Hugging Face, arXiv, the LLM) sends through `send_with_retries`: a
connection error, a timeout, a 429 or a 5xx (or what the client's `accept` calls `Retryable`,
such as a truncated body) is tried again after the server's `Retry-After` when it gave one,
else after an exponential backoff with full jitter, at most `attempts` times; then the client's
`SourceError` says what failed. Any other 4xx is the request's fault and is not retried.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class SourceError(RuntimeError):
    """An outside source could not be used for this request; the message says why."""


class Retryable(Exception):
    """This attempt failed in a way worth trying again (`after`: the server's Retry-After)."""

    def __init__(self, problem: str, after: float | None = None):
        super().__init__(problem)
        self.problem, self.after = problem, after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    backoff: float  # the first wait is at most this many seconds; each next one doubles it
    longest_retry_after: float  # a server asking for longer than this is waited this long
    sleep: Callable[[float], None] = time.sleep
    longest_backoff: float = 60.0


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_random_exponential(multiplier=policy.backoff, max=policy.longest_backoff)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Retryable) and error.after is not None:
            return error.after
        return float(backoff(state))

    return wait


def send_with_retries(
    send: Callable[[], httpx.Response],
    accept: Callable[[httpx.Response], T],
    policy: RetryPolicy,
    fail: Callable[[str], Exception],
    rate: RateLimit | None = None,
    what: str = "a request",
) -> T:
    """`accept(send())` (`what`, for the log), retried under `policy`; `fail(last problem)`
    is raised when every attempt failed. `accept` raises the client's own error for an answer
    not worth retrying."""

    def attempt() -> T:
        if rate is not None:
            rate.wait_turn()
        try:
            response = send()
        except httpx.TransportError as error:  # connection refused, reset, timeouts
            raise Retryable(f"{type(error).__name__}: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            after = retry_after(response, policy.longest_retry_after)
            raise Retryable(f"HTTP {response.status_code}", after)
        return accept(response)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("%s failed (%s); retry %d in %.1fs", what, error, state.attempt_number, wait)

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        retry=retry_if_exception_type(Retryable),
        sleep=policy.sleep,
        before_sleep=before_sleep,
    )
    try:
        return retrying(attempt)
    except RetryError as gave_up:
        last = gave_up.last_attempt.exception()
        raise fail(str(last)) from None


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
