"""Semantic Scholar's Academic Graph API (`SEMANTIC_SCHOLAR_API_URL`, by default
https://api.semanticscholar.org/graph/v1) over httpx, politely: at most one request a second
across this process (a shared `RateLimit`; the API's rule without a key, and its introductory
rate with one), `SEMANTIC_SCHOLAR_API_KEY` sent as `x-api-key` when set, a User-Agent naming
papers-bot, 429 and 5xx retried after their Retry-After.

- `figures(ids)`: `POST /paper/batch?fields=...` with `{"ids": ["arXiv:ID", ...]}`, at most 500
  ids a request; the answer is a list in the order asked, `null` for an id it does not know.
- `citing(id)`: `GET /paper/arXiv:ID/citations?fields=title,externalIds,publicationDate,authors`,
  page by page (`offset`, `next`), each row `{"citingPaper": {...}}`; a 404 is an unknown id.

A row that is not what the API documents (a number that is not one, a missing title) is
skipped, never an error for the rest.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot import __version__
from bot.models import canonical_id
from bot.sources.polite import RateLimit, RetryPolicy, SourceError, send_with_retries

USER_AGENT = f"papers-bot/{__version__} (Slack bot for ML papers; citation counts; httpx)"
BATCH_SIZE = 500  # the batch endpoint's limit
FIGURE_FIELDS = "externalIds,citationCount,influentialCitationCount,venue,year"
CITING_FIELDS = "title,externalIds,publicationDate,authors"
CITATIONS_PAGE = 1000  # the citations endpoint's largest page
MOST_CITATIONS = 10_000  # offset + limit may not pass this (the API's rule)


_SCHOLAR_ID = re.compile(r"[A-Za-z0-9]{1,64}")  # Semantic Scholar's ids are 40 hex digits


class ScholarError(SourceError):
    """Semantic Scholar could not be asked now; the message says why."""


@dataclass(frozen=True)
class Figures:
    """What Semantic Scholar says of one paper."""

    citations: int
    influential: int
    venue: str | None
    year: int | None


@dataclass(frozen=True)
class CitingPaper:
    """A paper that cites another: its Semantic Scholar id always, its arXiv id when it has
    one (then it can be saved), its title, date and first authors."""

    scholar_id: str
    title: str
    arxiv_id: str | None = None
    date: str | None = None
    authors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        return f"https://www.semanticscholar.org/paper/{self.scholar_id}"


SPACING = 1.05  # seconds: one a second, with room for the network's jitter on arrival


@functools.cache
def _turns() -> RateLimit:
    """One request a second for every Semantic Scholar call of this process."""
    return RateLimit(1, SPACING)


class ScholarClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        rate: RateLimit | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.rate = rate or _turns()
        self.policy = RetryPolicy(max_attempts, 2.0, 120.0, sleep)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key:
            headers["x-api-key"] = api_key
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), headers=headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ScholarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response | None:
        """The answer (None for a 404), after retries; ScholarError when it never came."""

        def accept(response: httpx.Response) -> httpx.Response | None:
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise ScholarError(f"HTTP {response.status_code} from Semantic Scholar ({what})")
            return response

        def failed(problem: str) -> ScholarError:
            return ScholarError(f"Semantic Scholar failed {self.policy.attempts} times ({problem})")

        return send_with_retries(send, accept, self.policy, failed, self.rate, what)

    def _getter(self, url: str, params: dict[str, str | int]) -> Callable[[], httpx.Response]:
        return lambda: self._http.get(url, params=params)

    def figures(self, paper_ids: Sequence[str]) -> dict[str, Figures | None]:
        """Each arXiv id's figures; None for an id Semantic Scholar does not know."""
        found: dict[str, Figures | None] = {}
        for start in range(0, len(paper_ids), BATCH_SIZE):
            chunk = list(paper_ids[start : start + BATCH_SIZE])
            found |= self._batch(chunk)
        return found

    def _batch(self, chunk: list[str]) -> dict[str, Figures | None]:
        url = f"{self.base_url}/paper/batch"
        body = {"ids": [f"arXiv:{paper_id}" for paper_id in chunk]}
        response = self._send(
            lambda: self._http.post(url, params={"fields": FIGURE_FIELDS}, json=body),
            f"a batch of {len(chunk)}",
        )
        rows = _json(response) if response is not None else None
        if not isinstance(rows, list) or len(rows) != len(chunk):
            raise ScholarError("Semantic Scholar's batch answer is not a list in the order asked")
        return {paper_id: _figures(row) for paper_id, row in zip(chunk, rows, strict=True)}

    def citing(self, paper_id: str) -> list[CitingPaper] | None:
        """Every paper citing `paper_id` (up to the API's 10,000); None for an unknown id."""
        url = f"{self.base_url}/paper/arXiv:{paper_id}/citations"
        found: list[CitingPaper] = []
        offset = 0
        while offset < MOST_CITATIONS:
            limit = min(CITATIONS_PAGE, MOST_CITATIONS - offset)
            params: dict[str, str | int] = {
                "fields": CITING_FIELDS,
                "offset": offset,
                "limit": limit,
            }
            response = self._send(self._getter(url, params), f"citations of {paper_id}")
            if response is None:
                return None if offset == 0 else found
            page = _json(response)
            if not isinstance(page, dict):
                raise ScholarError(f"Semantic Scholar's citations of {paper_id} are not an object")
            rows = _list(page.get("data"))
            found += [c for c in (_citing(row) for row in rows) if c is not None]
            following = page.get("next")
            if not isinstance(following, int) or following <= offset:
                break
            offset = following
        return found


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise ScholarError(f"Semantic Scholar answered with something not JSON: {error}") from None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _figures(row: Any) -> Figures | None:
    if not isinstance(row, dict):
        return None
    citations = _count(row.get("citationCount"))
    if citations is None:
        return None
    venue = row.get("venue")
    year = row.get("year")
    return Figures(
        citations,
        _count(row.get("influentialCitationCount")) or 0,
        venue.strip()[:200] if isinstance(venue, str) and venue.strip() else None,
        year if isinstance(year, int) and 1900 < year < 2200 else None,
    )


def _citing(row: Any) -> CitingPaper | None:
    paper = row.get("citingPaper") if isinstance(row, dict) else None
    if not isinstance(paper, dict):
        return None
    scholar_id, title = paper.get("paperId"), paper.get("title")
    if not isinstance(scholar_id, str) or not _SCHOLAR_ID.fullmatch(scholar_id):
        return None  # it goes into a link: nothing but an id's characters
    if not isinstance(title, str) or not title.strip():
        return None
    ids = paper.get("externalIds") if isinstance(paper.get("externalIds"), dict) else {}
    arxiv = ids.get("ArXiv") if isinstance(ids, dict) else None
    date = paper.get("publicationDate")
    authors = _list(paper.get("authors"))
    names = [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]
    return CitingPaper(
        scholar_id,
        " ".join(title.split())[:500],
        canonical_id(arxiv) if isinstance(arxiv, str) else None,
        date if isinstance(date, str) and len(date) == 10 else None,
        names[:20],
    )
