"""The Hugging Face Daily Papers API over httpx: timeouts, bounded retries, clear errors.

`GET {HF_API_URL}/daily_papers?date=YYYY-MM-DD&limit=100&p=N` pages from 0 while pages are full;
`GET {HF_API_URL}/papers/{id}` returns one paper (404 when unknown). Connection errors,
timeouts, 5xx, 429 and truncated JSON are retried under `bot.sources.polite`'s policy, at most
`max_attempts` times; then `HFError` says what failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from bot import __version__
from bot.config import Settings
from bot.sources.polite import RateLimit, Retryable, RetryPolicy, SourceError, send_with_retries

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES = 20  # 2,000 papers a day is far beyond any real listing; stops a runaway loop
USER_AGENT = f"papers-bot/{__version__} (Slack bot for ML paper digests; httpx)"
MAX_RETRY_AFTER = 300.0  # the Hub's window is 5 minutes: its Retry-After may be that long


class HFError(SourceError):
    """The Hugging Face API could not be used; the message says what to do."""


# Under the Hub's limits (500 requests per 5 minutes anonymous, more with a token), with room
# for the bot's own lookups made meanwhile.
ANONYMOUS_RATE, TOKEN_RATE = (450, 300.0), (900, 300.0)


def client_for(settings: Settings, **options: Any) -> HFClient:
    """The client the settings describe: HF_API_URL, HF_TOKEN, HF_RATE_LIMIT."""
    requests, seconds = settings.hf_rate or (TOKEN_RATE if settings.hf_token else ANONYMOUS_RATE)
    return HFClient(
        settings.hf_api_url,
        token=settings.hf_token,
        rate=RateLimit(requests, seconds),
        **options,
    )


class HFClient:
    def __init__(
        self,
        base_url: str,
        timeout: float = 20.0,
        max_attempts: int = 5,
        connect_timeout: float = 10.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        token: str | None = None,
        rate: RateLimit | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.policy = RetryPolicy(max_attempts, backoff, MAX_RETRY_AFTER, sleep)
        self.rate = rate
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers=headers,
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HFClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def daily_papers(self, day: date) -> list[Any]:
        """Every row listed on `day` (an empty list on weekends and empty days)."""
        rows: list[Any] = []
        for page in range(MAX_PAGES):
            params = {"date": day.isoformat(), "limit": PAGE_SIZE, "p": page}
            batch = self._get_json("/daily_papers", params)
            if not isinstance(batch, list):
                raise HFError(f"daily_papers for {day} returned {type(batch).__name__}, not a list")
            rows.extend(batch)
            if len(batch) < PAGE_SIZE:
                break
        return rows

    def search_papers(self, query: str, limit: int = 10) -> list[Any]:
        """Hugging Face's paper search (`GET /papers/search?q=`): rows shaped like Daily
        Papers rows, best first."""
        rows = self._get_json("/papers/search", {"q": query, "limit": limit})
        if not isinstance(rows, list):
            raise HFError(f"papers/search returned {type(rows).__name__}, not a list")
        return rows

    def paper(self, paper_id: str) -> dict[str, Any] | None:
        """One paper object, or None if Hugging Face does not know it."""
        result = self._get_json(f"/papers/{paper_id}", None, missing_ok=True)
        return result if isinstance(result, dict) else None

    def _get_json(self, path: str, params: dict[str, Any] | None, missing_ok: bool = False) -> Any:
        def accept(response: httpx.Response) -> Any:
            if response.status_code == 404 and missing_ok:
                return None
            if response.status_code >= 400:
                raise HFError(f"GET {path} answered HTTP {response.status_code}; not retried")
            try:
                return response.json()
            except ValueError:
                raise Retryable("a truncated or invalid JSON body") from None

        def failed(problem: str) -> HFError:
            return HFError(
                f"GET {self.base_url}{path} failed {self.policy.attempts} times (last: "
                f"{problem}); check HF_API_URL and the network, then run `papers-bot fetch` again"
            )

        return send_with_retries(
            lambda: self._http.get(path, params=params),
            accept,
            self.policy,
            failed,
            self.rate,
            what=f"Hugging Face GET {path}",
        )
