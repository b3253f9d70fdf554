"""How fast a pasted paper link gets its card: signed `link_shared` events into the real HTTP
endpoint, timed to the `chat.unfurl` call at the loopback Slack, for a paper in the library,
one Hugging Face has (fetched and added), one only arXiv has, and sources that stall or fail
(no card: timed to the bot giving up, which it says in one log line, counted here too).

The promise (issue #29): the ack at once, the card within 3 s for a paper in the library and
within 10 s for one fetched; a stalled or failing fetch ends within the same 10 s, silently.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.measure import _serve, latency_figures, latency_rows

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data"
GAVE_UP = "neither Hugging Face nor arXiv"


class GiveUps(logging.Handler):
    """When the bot said it found a linked paper nowhere (monotonic times)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: list[float] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if GAVE_UP in record.getMessage():
            with self.changed:
                self.times.append(time.monotonic())
                self.changed.notify_all()

    def wait(self, count: int, timeout: float = 30) -> float:
        with self.changed:
            self.changed.wait_for(lambda: len(self.times) >= count, timeout)
            return self.times[count - 1]


@contextlib.contextmanager
def _bot(work: Path) -> Iterator[tuple[Any, Any, Any, Any]]:
    import httpx

    from bot.config import Settings
    from bot.runtime import Runtime
    from bot.slack.app import create_app
    from bot.slack.client import make_client
    from bot.slack.http import create_server
    from tests.fakes.arxiv import ArxivStandIn
    from tests.fakes.hf import HFStandIn
    from tests.slack.standin import TestSlack

    slack = TestSlack(bot_token="xoxb-bench").start()
    hf = HFStandIn(FIXTURES).start()
    arxiv = ArxivStandIn(FIXTURES, min_interval=3.0).start()
    settings = Settings(
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench",
        slack_api_url=slack.api_url,
        data_dir=work,
        hf_api_url=hf.url,
        arxiv_api_url=arxiv.url,
        semantic=False,
    )
    runtime = Runtime.open(settings, serving=True)
    runtime.warm_up()
    logging.getLogger("waitress").setLevel(logging.CRITICAL)
    server = create_server(create_app(settings, make_client(settings), runtime), "127.0.0.1", 0)
    threading.Thread(target=lambda: _serve(server), daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/slack/events"
    try:
        with httpx.Client(timeout=30) as http:
            yield (lambda body: _post(http, url, body)), slack, hf, arxiv
    finally:
        with contextlib.suppress(OSError):
            server.close()
        for standin in (slack, hf, arxiv):
            standin.stop()
        runtime.close()


def _post(http: Any, url: str, body: dict[str, Any]) -> float:
    """POST a signed event; the ack's time in ms."""
    from bot.console.slack_requests import signed_headers

    raw = json.dumps(body)
    headers = signed_headers(raw, "bench") | {"content-type": "application/json"}
    start = time.perf_counter()
    http.post(url, content=raw.encode(), headers=headers)
    return (time.perf_counter() - start) * 1000


def _event(n: int, paper_id: str) -> dict[str, Any]:
    ts = f"1767300000.{n:06d}"
    return {
        "token": "x",
        "team_id": "T0STANDIN",
        "api_app_id": "A0",
        "type": "event_callback",
        "event_id": f"Ev-bench-{n}",
        "event_time": 1767300000,
        "authorizations": [{"team_id": "T0STANDIN", "user_id": "UBOT", "is_bot": True}],
        "event": {
            "type": "link_shared",
            "channel": "C0PAPERS",
            "user": "U0BENCH",
            "message_ts": ts,
            "unfurl_id": f"C0PAPERS.{ts}",
            "source": "conversations_history",
            "links": [{"domain": "arxiv.org", "url": f"https://arxiv.org/abs/{paper_id}"}],
            "event_ts": ts,
        },
    }


def measure(in_library: int = 30, fetched: int = 10, failing: int = 3) -> dict[str, Any]:
    give_ups = GiveUps()
    logging.getLogger("bot.ingest.lookup").addHandler(give_ups)
    logging.getLogger("bot.ingest.lookup").setLevel(logging.INFO)
    times: dict[str, list[float]] = {
        "ack": [],
        "library": [],
        "hugging_face": [],
        "arxiv": [],
        "stalled": [],
        "failing": [],
    }
    n = 0
    with tempfile.TemporaryDirectory() as tmp, _bot(Path(tmp)) as (post, slack, hf, arxiv):
        library_ids = ["2408.08338", "2503.10632"]

        def card_ms(paper_id: str, kind: str) -> None:
            nonlocal n
            n += 1
            before = len(slack.calls_to("chat.unfurl"))
            start = time.monotonic()
            times["ack"].append(post(_event(n, paper_id)))
            calls = slack.wait_for("chat.unfurl", before + 1, 30)
            times[kind].append((calls[-1].at - start) * 1000)

        def gave_up_ms(paper_id: str, kind: str) -> None:
            nonlocal n
            n += 1
            before = len(give_ups.times)
            start = time.monotonic()
            times["ack"].append(post(_event(n, paper_id)))
            times[kind].append((give_ups.wait(before + 1) - start) * 1000)

        for i in range(in_library):
            card_ms(library_ids[i % len(library_ids)], "library")
        model = next(iter(hf.listings.values()))[0]
        for i in range(fetched):
            row = copy.deepcopy(model)
            row["paper"]["id"] = f"2501.{70000 + i:05d}"
            hf.listings["2025-01-10"].append(row)
            card_ms(row["paper"]["id"], "hugging_face")
        card_ms("1605.08386", "arxiv")  # the one id the arXiv stand-in has on record
        unfurls_before = len(slack.calls_to("chat.unfurl"))
        hf.stall_seconds = 30
        for i in range(failing):
            hf.fail("/papers/", kind="stall")
            time.sleep(3.2)  # arXiv's 3 s between requests, so its stand-in does not refuse
            gave_up_ms(f"2501.8{i:04d}", "stalled")  # Hugging Face stalls, arXiv has nothing
            hf.fail("/papers/", kind="status", status=503)
            arxiv._last = time.monotonic()  # arXiv refuses (429: asked too soon)
            gave_up_ms(f"2501.9{i:04d}", "failing")
        no_cards = len(slack.calls_to("chat.unfurl")) == unfurls_before
    report = {kind: latency_figures(found) for kind, found in times.items() if found}
    report["no_card_when_not_found"] = no_cards
    return report


def table(report: dict[str, Any]) -> str:
    labels = {
        "ack": "ack of the event (every run)",
        "library": "card, paper in the library",
        "hugging_face": "card, paper fetched from Hugging Face",
        "arxiv": "card, paper fetched from arXiv",
        "stalled": "no card: Hugging Face stalls, arXiv lacks it",
        "failing": "no card: Hugging Face 503, arXiv 429",
    }
    lines = [
        "",
        "Unfurl latency (link_shared -> chat.unfurl at the loopback Slack), ms",
        *latency_rows(report, labels, 48),
    ]
    lines.append(f"no card for papers found nowhere: {report['no_card_when_not_found']}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(measure()))
