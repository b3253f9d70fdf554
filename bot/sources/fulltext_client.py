"""arXiv's HTML full texts (`GET {ARXIV_HTML_URL}/{ID}`, the latest version) over httpx,
politely: one request at a time and at least a second apart across this process (a lock and a
shared `RateLimit`), a User-Agent naming papers-bot, 429 and 503 retried after their
Retry-After. A paper without an HTML page answers 404: `None`, not an error."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import httpx

from bot import __version__
from bot.sources.polite import RateLimit, RetryPolicy, SourceError, send_with_retries

USER_AGENT = f"papers-bot/{__version__} (Slack bot for ML papers; reads arXiv HTML; httpx)"
MAX_RETRY_AFTER = 30.0  # a person is waiting: a longer wait is a failure to say, not to sit out
LARGEST_PAGE = 20_000_000  # bytes; a 60-page paper's page is about 1 MB


class FullTextFetchError(SourceError):
    """arXiv's HTML page could not be read now; the message says why."""


_ONE_AT_A_TIME = threading.Lock()  # arXiv's pages are read one at a time by this process


@functools.cache
def _turns() -> RateLimit:
    """One request a second for every full-text fetch of this process, whoever asks."""
    return RateLimit(1, 1.0)


class FullTextClient:
    def __init__(
        self,
        base_url: str,
        timeout: float = 3.5,  # two attempts and a backoff stay inside the 10 s of an answer
        max_attempts: int = 2,
        sleep: Callable[[float], None] = time.sleep,
        rate: RateLimit | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.rate = rate or _turns()
        self.policy = RetryPolicy(max_attempts, 1.0, MAX_RETRY_AFTER, sleep)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "text/html"},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FullTextClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def page(self, paper_id: str) -> bytes | None:
        """The paper's HTML page; None when arXiv has none (404)."""
        url = f"{self.base_url}/{paper_id}"

        def accept(response: httpx.Response) -> bytes | None:
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise FullTextFetchError(f"HTTP {response.status_code} from {url}")
            if len(response.content) > LARGEST_PAGE:
                raise FullTextFetchError(f"{url} is larger than {LARGEST_PAGE:,} bytes")
            return response.content

        def failed(problem: str) -> FullTextFetchError:
            return FullTextFetchError(f"{url} failed {self.policy.attempts} times ({problem})")

        with _ONE_AT_A_TIME:
            return send_with_retries(
                lambda: self._http.get(url), accept, self.policy, failed, self.rate, "arXiv HTML"
            )
