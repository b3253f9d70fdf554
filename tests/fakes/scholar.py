"""Semantic Scholar's Graph API on 127.0.0.1, in the shapes its documentation gives:

- `POST /graph/v1/paper/batch?fields=...` with `{"ids": ["arXiv:ID", ...]}` answers a list in
  the order asked, `null` for an id it does not know (`papers` holds what it knows);
- `GET /graph/v1/paper/arXiv:ID` answers one paper (what `papers-bot doctor --network` asks);
- `GET /graph/v1/paper/arXiv:ID/citations?fields=...&offset=&limit=` answers
  `{"offset": N, "next": M, "data": [{"citingPaper": {...}}]}` (`next` only while more are
  left), 404 `{"error": "Paper with id ... not found"}` for an unknown id (`citing` holds them).

`malformed` rows are served as they are; `fail(429, retry_after)` answers the next request so.
Every request is kept with its arrival time (monotonic), path, body and headers, to check the
spacing, the batches and the key sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.console.local_http import LocalHTTPServer
from tests.fakes.faults import Faults


@dataclass
class Seen:
    at: float
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class ScholarFault:
    status: int
    retry_after: str | None
    count: int


class ScholarStandIn(LocalHTTPServer):
    def __init__(self) -> None:
        self.papers: dict[str, dict[str, Any]] = {}  # arXiv id -> the batch row
        self.citing: dict[str, list[Any]] = {}  # arXiv id -> its citingPaper objects (or junk)
        self.requests: list[Seen] = []
        self.faults: Faults[ScholarFault] = Faults()
        self.delay = 0.0  # seconds before each answer (a slow API)
        self.everyone: int | None = None  # a count for every id it was not told of
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.base_url}/graph/v1"

    def fail(self, status: int = 429, retry_after: str | None = "1", count: int = 1) -> None:
        self.faults.add(ScholarFault(status, retry_after, count))

    def know(self, paper_id: str, citations: int, influential: int = 0, **more: Any) -> None:
        self.papers[paper_id] = {
            "paperId": f"{abs(hash(paper_id)):040x}"[:40],
            "externalIds": {"ArXiv": paper_id},
            "citationCount": citations,
            "influentialCitationCount": influential,
            "venue": more.get("venue", ""),
            "year": more.get("year"),
        }

    def _row(self, paper_id: str) -> dict[str, Any] | None:
        if paper_id not in self.papers and self.everyone is not None:
            self.know(paper_id, self.everyone)
        return self.papers.get(paper_id)

    def calls(self, kind: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if kind in r.path]

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", 0) or 0)
        raw = request.rfile.read(length) if length else b""
        parts = urlsplit(request.path)
        seen = Seen(
            time.monotonic(),
            request.command,
            parts.path,
            parse_qs(parts.query),
            json.loads(raw) if raw else None,
            dict(request.headers.items()),
        )
        with self._lock:
            self.requests.append(seen)
        fault = self.faults.take()
        if self.delay:
            time.sleep(self.delay)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body = json.dumps({"message": "Too Many Requests"}).encode()
            self.reply(request, fault.status, body, "application/json", headers)
            return
        status, answer = self._answer(seen)
        self.reply(request, status, json.dumps(answer).encode(), "application/json")

    def _answer(self, seen: Seen) -> tuple[int, Any]:
        if seen.method == "POST" and seen.path == "/graph/v1/paper/batch":
            ids = (seen.body or {}).get("ids", [])
            if len(ids) > 500:
                return 400, {"error": "Cannot process more than 500 ids"}
            return 200, [self._row(str(i).removeprefix("arXiv:")) for i in ids]
        prefix, suffix = "/graph/v1/paper/arXiv:", "/citations"
        if seen.method == "GET" and seen.path.startswith(prefix) and seen.path.endswith(suffix):
            paper_id = seen.path[len(prefix) : -len(suffix)]
            if paper_id not in self.citing:
                return 404, {"error": f"Paper with id arXiv:{paper_id} not found"}
            offset = int(seen.query.get("offset", ["0"])[0])
            limit = int(seen.query.get("limit", ["100"])[0])
            rows = self.citing[paper_id]
            page: dict[str, Any] = {
                "offset": offset,
                "data": [{"citingPaper": c} for c in rows[offset : offset + limit]],
            }
            if offset + limit < len(rows):
                page["next"] = offset + limit
            return 200, page
        if seen.method == "GET" and seen.path.startswith(prefix):  # one paper
            found = self._row(seen.path[len(prefix) :])
            return (200, found) if found else (404, {"error": "Paper not found"})
        return 404, {"error": "Not found"}


def citing_paper(
    n: int, date: str, arxiv_id: str | None = None, title: str | None = None
) -> dict[str, Any]:
    """A citingPaper object as the API gives it."""
    ids: dict[str, Any] = {"CorpusId": 1000 + n}
    if arxiv_id:
        ids["ArXiv"] = arxiv_id
    return {
        "paperId": f"{n:040x}",
        "externalIds": ids,
        "title": title or f"A paper that cites, number {n}",
        "publicationDate": date,
        "authors": [
            {"authorId": str(n), "name": f"Author {n}"},
            {"authorId": None, "name": "B. Second"},
        ],
    }
