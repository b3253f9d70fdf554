"""The arXiv API (`GET {ARXIV_API_URL}?search_query=...`) over httpx, as its terms ask.

One connection, at most one request every 3 seconds (`RateLimit(1, 3)`), a User-Agent that
names papers-bot and its version; 429 and 5xx retried under `bot.sources.polite`'s policy;
an HTTP 400 carries an Atom `Error` entry, which becomes an `ArxivError` saying what arXiv
said (not retried). A category's new papers are a `cat:X AND submittedDate:[A TO B]` query,
newest first, paged with `start`/`max_results`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import date

import httpx

from bot import __version__
from bot.config import Settings
from bot.models import Paper
from bot.sources.arxiv import Feed, FeedError, parse_feed
from bot.sources.polite import RateLimit, RetryPolicy, SourceError, send_with_retries

log = logging.getLogger(__name__)
USER_AGENT = f"papers-bot/{__version__} (Slack bot for ML papers; arXiv API client; httpx)"
PAGE_SIZE = 2_000  # arXiv's most per call: the fewest requests, each 3 s apart
MAX_RESULTS = 30_000  # the API's own ceiling for one query
SECONDS_BETWEEN_REQUESTS = 3.1  # arXiv asks for 3 s; a little more, so jitter never makes it less
MAX_RETRY_AFTER = 300.0


class ArxivError(SourceError):
    """The arXiv API could not be used for this request; the message says why."""


class ArxivClient:
    def __init__(
        self,
        base_url: str,
        rate: RateLimit | None = None,
        timeout: float = 60.0,
        max_attempts: int = 4,
        backoff: float = 3.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url
        self.rate = rate or RateLimit(1, SECONDS_BETWEEN_REQUESTS)
        self.policy = RetryPolicy(max_attempts, backoff, MAX_RETRY_AFTER, sleep)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": USER_AGENT, "Accept": "application/atom+xml"},
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def category_pages(
        self, category: str, since: date, until: date, page_size: int = PAGE_SIZE
    ) -> Iterator[Feed]:
        """Each page of the papers first submitted to `category` from `since` to `until`."""
        window = f"[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"
        query = f"cat:{category} AND submittedDate:{window}"
        start = 0
        while start < MAX_RESULTS:
            feed = self.search(query, start, page_size)
            yield feed
            start += feed.entries
            if feed.entries == 0 or start >= feed.total:
                return

    def search(self, query: str, start: int = 0, max_results: int = PAGE_SIZE) -> Feed:
        params = {
            "search_query": query,
            "start": start,
            "max_results": max_results,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
        }
        return self._feed(params)

    def paper(self, paper_id: str) -> Paper | None:
        """One paper by its id (`id_list`); None when arXiv has no such paper."""
        feed = self._feed({"id_list": paper_id, "max_results": 1})
        return next((p for p in feed.papers if p.id == paper_id), None)

    def _feed(self, params: dict[str, object]) -> Feed:
        def failed(problem: str) -> ArxivError:
            return ArxivError(f"arXiv failed {self.policy.attempts} times (last: {problem})")

        return send_with_retries(
            lambda: self._http.get(self.base_url, params=params),  # type: ignore[arg-type]
            self._parsed,
            self.policy,
            failed,
            self.rate,
            what="arXiv",
        )

    @staticmethod
    def _parsed(response: httpx.Response) -> Feed:
        try:
            feed = parse_feed(response.content)
        except FeedError as error:
            raise ArxivError(f"HTTP {response.status_code}: {error}") from error
        if response.status_code >= 400:
            raise ArxivError(f"HTTP {response.status_code} from arXiv")
        return feed


def arxiv_client_for(settings: Settings) -> ArxivClient:
    return ArxivClient(settings.arxiv_api_url)
