"""A loopback stand-in for arXiv's API (`GET /api/query`), serving the real recorded responses
(tests/data/arxiv_fixtures) and, for category backfills, pages of entries built from those
recordings under new ids. Like arXiv it refuses (429) a client that asks again sooner than
`min_interval` seconds, and it answers a malformed id with the recorded HTTP 400 Error feed."""

from __future__ import annotations

import copy
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree

from bot.console.local_http import LocalHTTPServer

ATOM = "{http://www.w3.org/2005/Atom}"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
NAMESPACES = {
    "": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
BY_ID = {
    "1605.08386": "arxiv_api__id_1605.08386_s0_m100_199195aa31ad.atom.xml",
    "astro-ph/0601001": "arxiv_api__id_astro-ph_0601001_s0_m100_3150dca9dc76.atom.xml",
    "0000.0000": "arxiv_api__id_0000.0000_s0_m100_8b51d9633a68.atom.xml",
    "abc": "arxiv_api__id_abc_s0_m100_b79c8dcf6bc3.atom.xml",
}
SEARCH = "arxiv_api__q_testing_s0_m10_bc5a6c384fe9.atom.xml"


class ArxivStandIn(LocalHTTPServer):
    def __init__(self, fixtures: Path, min_interval: float = 3.0):
        for prefix, uri in NAMESPACES.items():
            ElementTree.register_namespace(prefix, uri)
        self.folder = fixtures / "arxiv_fixtures"
        self.min_interval = min_interval
        self.requests: list[dict[str, str]] = []
        self.user_agents: list[str] = []
        self.refused = 0
        self.categories: dict[str, int] = {}  # category -> how many papers it lists
        self._last = 0.0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/query"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        query = {k: v[0] for k, v in parse_qs(urlparse(request.path).query).items()}
        with self._lock:
            now = time.monotonic()
            too_soon = now - self._last < self.min_interval
            self._last = now
            self.requests.append(query)
            self.user_agents.append(request.headers.get("User-Agent", ""))
        if too_soon:
            self.refused += 1
            return self.reply(request, 429, b"Rate exceeded.", ATOM_TYPE, {"Retry-After": "3"})
        status, body = self._answer(query)
        self.reply(request, status, body, ATOM_TYPE)

    def _answer(self, query: dict[str, str]) -> tuple[int, bytes]:
        if "id_list" in query:
            name = BY_ID.get(query["id_list"])
            if name is None:
                name = BY_ID["0000.0000"]
            return (400 if query["id_list"] == "abc" else 200), (self.folder / name).read_bytes()
        search = query.get("search_query", "")
        category = search.removeprefix("cat:").split(" ", 1)[0]
        if search.startswith("cat:") and category in self.categories:
            start, size = int(query.get("start", 0)), int(query.get("max_results", 10))
            return 200, self._category_page(category, start, size)
        return 200, (self.folder / SEARCH).read_bytes()

    def _category_page(self, category: str, start: int, size: int) -> bytes:
        """Entries `start`.. of the category: the recorded search's entries under new ids."""
        feed = ElementTree.fromstring((self.folder / SEARCH).read_bytes())
        models = feed.findall(f"{ATOM}entry")
        for entry in models:
            feed.remove(entry)
        total = self.categories[category]
        for n in range(start, min(start + size, total)):
            entry = copy.deepcopy(models[n % len(models)])
            entry.find(f"{ATOM}id").text = f"http://arxiv.org/abs/2510.{n + 1:05d}v1"  # type: ignore[union-attr]
            primary = entry.find("{http://arxiv.org/schemas/atom}primary_category")
            if primary is not None:
                primary.set("term", category)
            feed.append(entry)
        found = feed.find("{http://a9.com/-/spec/opensearch/1.1/}totalResults")
        found.text = str(total)  # type: ignore[union-attr]
        return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
