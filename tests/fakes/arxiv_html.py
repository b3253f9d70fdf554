"""A loopback stand-in for arXiv's HTML full texts (`GET /html/ID`): the pages in
tests/data/ask (a real one and two written for the tests), 404 for any other id. Like a polite
server it refuses (429, Retry-After: 1) a request sooner than `min_interval` after the last
one, and it can stall or answer 503 for the next N requests. Every request is kept with its
time and User-Agent."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from bot.console.local_http import LocalHTTPServer
from tests.fakes.faults import Faults


@dataclass
class Asked:
    paper: str
    at: float
    user_agent: str
    status: int = 200


@dataclass
class HtmlFault:
    kind: str  # "stall" or "503"
    count: int = 1


@dataclass
class ArxivHtmlStandIn(LocalHTTPServer):
    folder: Path
    min_interval: float = 1.0
    stall_seconds: float = 30.0
    requests: list[Asked] = field(default_factory=list)
    faults: Faults[HtmlFault] = field(default_factory=Faults)
    extra: dict[str, bytes] = field(default_factory=dict)  # more pages, by id

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0

    @property
    def url(self) -> str:
        return f"{self.base_url}/html"

    def fail(self, kind: str, count: int = 1) -> None:
        self.faults.add(HtmlFault(kind, count))

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        paper = request.path.removeprefix("/html/").strip("/")
        with self._lock:
            now = time.monotonic()
            too_soon = now - self._last < self.min_interval
            self._last = now
            asked = Asked(paper, now, request.headers.get("User-Agent", ""))
            self.requests.append(asked)
            fault = self.faults.take()
        if too_soon:
            asked.status = 429
            return self.reply(request, 429, b"slow down", "text/plain", {"Retry-After": "1"})
        if fault and fault.kind == "503":
            asked.status = 503
            return self.reply(request, 503, b"busy", "text/plain", {"Retry-After": "1"})
        if fault and fault.kind == "stall":
            time.sleep(self.stall_seconds)
        page = self.extra.get(paper)
        path = self.folder / f"{paper}.html"
        if page is None and path.is_file():
            page = path.read_bytes()
        if page is None:
            asked.status = 404
            return self.reply(request, 404, b"No HTML for this paper", "text/html")
        self.reply(request, 200, page, "text/html; charset=utf-8")
