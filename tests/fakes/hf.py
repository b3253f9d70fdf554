"""A loopback stand-in for the Hugging Face API, serving the real fixture responses.

`GET /daily_papers?date=D&limit=L&p=P` pages through the rows listed on D (by
`paper.submittedOnDailyAt`, as the real API does); `GET /papers/{id}` returns one paper or 404.
Faults can be queued: an HTTP status (with Retry-After), a stall longer than the client's
timeout, or a body cut in half. For backfills: `add_history` lists recorded-shape rows (the
fixtures' rows under new ids) on every weekday of a range, and `limit_rate` enforces the Hub's
sliding-window limit the way the Hub does: 429 with Retry-After, and any request sent before
that wait was over is counted in `dishonoured`.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.console.local_http import LocalHTTPServer

# For 2026-07-31 two captures exist; the later (30 rows) is what the API serves now.
FIXTURES = [
    "lucas-m-lopes__sotawhat__tests__fixtures__hf_daily_papers.json",
    "scout-cpu__personal-news-feed__tests__fixtures__hf_papers.json",
    "DiQu1997__NewsAssistant__tests__fixtures__hf_daily_papers.json",
]


@dataclass
class Fault:
    path: str
    kind: str  # "status", "stall", "truncate"
    status: int = 503
    retry_after: str | None = None
    count: int = 1


class HFStandIn(LocalHTTPServer):
    def __init__(self, fixtures: Path):
        self.listings: dict[str, list[Any]] = defaultdict(list)
        for name in FIXTURES:
            for row in json.loads((fixtures / "hf_fixtures" / name).read_text()):
                self.listings[row["paper"]["submittedOnDailyAt"][:10]].append(row)
        search = fixtures / "hf_search_fixtures" / "hf_papers_search__q_kazakh.json"
        self.search_rows: list[Any] = json.loads(search.read_text())  # what `q=kazakh` found
        self.requests: list[tuple[str, dict[str, str]]] = []
        # What Hugging Face added to a paper after its listing (ai_summary hours later):
        # `GET /papers/{id}` answers with it, the day's listing without.
        self.added_later: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.stall_seconds = 3.0
        self.rate: tuple[int, float] | None = None
        self.sent: deque[float] = deque()
        self.refused = 0
        self.dishonoured = 0
        self._not_before = 0.0  # a 429 told the client to wait until then
        self._rate_lock = threading.Lock()

    def add_history(self, since: date, until: date, per_day: int = 20) -> int:
        """Rows on every weekday from `since` to `until` (ids of their own, the fixtures'
        shape); how many rows in all."""
        models = [row for rows in self.listings.values() for row in rows]
        serial = itertools.count(1)
        total = 0
        day = since
        while day <= until:
            if day.weekday() < 5:
                for n in range(per_day):
                    row = copy.deepcopy(models[(day.toordinal() + n) % len(models)])
                    paper_id = f"{day:%y%m}.{next(serial):05d}"
                    row["paper"]["id"] = paper_id
                    row["paper"]["title"] = f"{row['paper']['title']} ({paper_id})"
                    row["paper"]["submittedOnDailyAt"] = f"{day.isoformat()}T12:00:00.000Z"
                    self.listings[day.isoformat()].append(row)
                    total += 1
            day += timedelta(days=1)
        return total

    def limit_rate(self, requests: int, seconds: float) -> None:
        self.rate = (requests, seconds)

    def forget_waits(self) -> None:
        """The client that was told to wait is gone (killed): its successor was never told."""
        with self._rate_lock:
            self._not_before = 0.0

    def _over_limit(self) -> float | None:
        """Seconds to wait when this request is one too many (None: it may pass). A client
        that asks again before the wait it was given is over is counted in `dishonoured`."""
        if self.rate is None:
            return None
        requests, seconds = self.rate
        with self._rate_lock:
            now = time.monotonic()
            if now < self._not_before:
                self.dishonoured += 1
            while self.sent and now - self.sent[0] >= seconds:
                self.sent.popleft()
            if len(self.sent) >= requests:
                self.refused += 1
                wait = self.sent[0] + seconds - now
                self._not_before = now + wait
                return wait
            self.sent.append(now)
            return None

    @property
    def url(self) -> str:
        return f"{self.base_url}/api"

    def fail(self, path: str, kind: str = "status", **options: Any) -> None:
        self.faults.append(Fault(path, kind, **options))

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path) and fault.count > 0:
                fault.count -= 1
                return fault
        return None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        path = parsed.path.removeprefix("/api")
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.requests.append((path, query))
        body, status = self._answer(path, query)
        fault = self._take_fault(path)
        headers: dict[str, str] = {}
        wait = self._over_limit()
        if wait is not None:
            status, body = 429, json.dumps({"error": "rate limited"}).encode()
            headers["Retry-After"] = str(math.ceil(wait))
        elif fault and fault.kind == "status":
            status, body = fault.status, json.dumps({"error": "fault"}).encode()
            if fault.retry_after:
                headers["Retry-After"] = fault.retry_after
        elif fault and fault.kind == "stall":
            time.sleep(self.stall_seconds)
        elif fault and fault.kind == "truncate":
            body = body[: len(body) // 2]
        self.reply(request, status, body, "application/json", headers)

    def _answer(self, path: str, query: dict[str, str]) -> tuple[bytes, int]:
        if path == "/daily_papers":
            rows = self.listings.get(query.get("date", ""), [])
            limit, page = int(query.get("limit", 50)), int(query.get("p", 0))
            return json.dumps(rows[page * limit : (page + 1) * limit]).encode(), 200
        if path == "/papers/search":  # the recorded answer for its query's word, else nothing
            found = self.search_rows if "kazakh" in query.get("q", "").lower() else []
            return json.dumps(found[: int(query.get("limit", 10))]).encode(), 200
        if path.startswith("/papers/"):
            paper_id = path.removeprefix("/papers/")
            for rows in self.listings.values():
                for row in rows:
                    if row["paper"]["id"] == paper_id:
                        paper = row["paper"] | self.added_later.get(paper_id, {})
                        return json.dumps(paper).encode(), 200
            return json.dumps({"error": "Not found"}).encode(), 404
        return b'{"error": "unknown"}', 404
