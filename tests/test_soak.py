"""The long runs (`make soak`): 50 concurrent /papers against the 100,000-paper library."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bench.synth import make_papers, make_queries
from bot.config import Settings
from bot.console.slack_requests import signed_headers
from bot.library import Library
from bot.runtime import Runtime
from bot.search import SearchEngine
from bot.slack.app import create_app
from bot.slack.client import make_client
from bot.slack.http import create_server
from tests.conftest import run_papers_bot
from tests.fakes.hf import HFStandIn
from tests.slack.standin import TestSlack
from tests.test_backfill import kill_five_times

pytestmark = pytest.mark.skipif(os.environ.get("PAPERS_SOAK") != "1", reason="make soak only")
SIZE = int(os.environ.get("PAPERS_SOAK_PAPERS", "100000"))


def test_fifty_concurrent_papers_on_the_big_library(tmp_path: Path) -> None:
    papers = make_papers(SIZE)
    library = Library(tmp_path / "data", sample_data=False)
    library.upsert_many(papers)
    SearchEngine(library)  # build and save the index once, as `papers-bot import` does
    standin = TestSlack(bot_token="xoxb-soak").start()
    settings = Settings(
        slack_bot_token="xoxb-soak",
        slack_signing_secret="soak",
        slack_api_url=standin.api_url,
        data_dir=tmp_path / "data",
        sample_data=False,
    )
    runtime = Runtime.open(settings)
    runtime.warm_up()  # as `papers-bot run` does before serving
    app = create_app(settings, make_client(settings), runtime)
    server = create_server(app, "127.0.0.1", 0, threads=8)
    threading.Thread(target=lambda: _serve(server), daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/slack/events"
    queries = make_queries(papers, 50)

    def one(n: int) -> tuple[int, float]:
        body = urlencode(
            {
                "command": "/papers",
                "text": queries[n],
                "user_id": f"U{n}",
                "channel_id": "C1",
                "team_id": "T1",
                "response_url": standin.response_url(f"s{n}"),
            }
        )
        headers = signed_headers(body, "soak") | {
            "content-type": "application/x-www-form-urlencoded"
        }
        started = time.monotonic()
        status = httpx.post(url, content=body, headers=headers, timeout=30).status_code
        return status, time.monotonic() - started

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(one, range(50)))
        assert all(status == 200 for status, _ in results)
        slowest = max(elapsed for _, elapsed in results)
        print(f"{SIZE:,} papers: slowest acknowledgement {slowest:.2f}s")
        assert slowest < 3.0
        standin.wait_for("response_url", 50, timeout=120)
    finally:
        server.close()
        standin.stop()


def _serve(server) -> None:
    with contextlib.suppress(OSError):
        server.run()


def test_a_900_day_backfill_at_the_hubs_own_limit_survives_five_kills(
    tmp_path: Path, hf: HFStandIn
) -> None:
    """The Daily Papers history as `papers-bot fetch --since` pulls it, against a loopback Hub
    that enforces 500 requests per 5 minutes (429 with Retry-After) and counts any request
    made before a wait it asked for; five SIGKILLs at random moments. Minutes, not seconds:
    the client keeps to 450 per 5 minutes."""
    until = date(2026, 11, 20)
    since = until - timedelta(days=899)
    total = hf.add_history(since, until, per_day=46)
    hf.limit_rate(500, 300.0)
    env = {
        **os.environ,
        "HF_API_URL": hf.url,
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_SAMPLE_DATA": "0",
    }
    kill_five_times(hf, tmp_path, env, since, until, pause=(3, 40), seed=900)
    done = run_papers_bot(
        tmp_path, "fetch", "--since", str(since), "--until", str(until), timeout=1800, **env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert hf.dishonoured == 0
    library = Library(tmp_path / "data", sample_data=False)
    listings = library.catalog.listings()
    expected = {  # the synthetic days (recorded fixture days fall in the range too)
        day: sorted(
            row["paper"]["id"] for row in rows if row["paper"]["id"] in row["paper"]["title"]
        )
        for day, rows in hf.listings.items()
        if str(since) <= day <= str(until)
    }
    expected = {day: ids for day, ids in expected.items() if ids}
    synthetic = {paper_id for ids in expected.values() for paper_id in ids}
    kept = {day: sorted(i for i in listings.get(day, []) if i in synthetic) for day in expected}
    assert kept == expected
    assert sum(map(len, expected.values())) == total
    assert all(len(ids) == len(set(ids)) for ids in listings.values())  # none doubled
    print(
        f"\n900-day backfill: {total:,} papers, {len(hf.requests)} requests, "
        f"{hf.refused} refused by the Hub (after a kill) and each waited out"
    )
