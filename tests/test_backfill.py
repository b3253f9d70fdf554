"""`papers-bot fetch --since`: Daily Papers history into the library, under the Hub's rate
limit, resumable after kill -9, against the loopback Hugging Face (recorded-shape days)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.config import load_settings
from bot.ingest.backfill import SOURCE, backfill, days_between
from bot.library import Library
from bot.sources.hf_client import ANONYMOUS_RATE, TOKEN_RATE, HFClient, client_for
from bot.sources.polite import RateLimit
from tests.conftest import run_papers_bot
from tests.fakes.hf import HFStandIn

SINCE, UNTIL = date(2025, 3, 3), date(2025, 4, 27)  # eight weeks: 40 weekdays of rows


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_rate_limit_waits_for_the_oldest_request_of_the_window_to_age_out() -> None:
    clock = FakeClock()
    limit = RateLimit(3, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limit.wait_turn()
        clock.now += 1.0
    assert clock.slept == []  # three in 3 s: within the limit
    limit.wait_turn()  # the fourth waits until the first (at 100) is 10 s old
    assert clock.slept == [pytest.approx(7.0)]
    clock.now += 20.0
    limit.wait_turn()
    assert len(clock.slept) == 1  # a quiet window: no wait


def test_settings_choose_the_rate_and_keep_the_token_secret(hf: HFStandIn) -> None:
    anonymous = load_settings({"HF_API_URL": hf.url})
    assert client_for(anonymous).rate is not None
    assert (
        client_for(anonymous).rate.requests,
        client_for(anonymous).rate.seconds,
    ) == ANONYMOUS_RATE  # type: ignore[union-attr]
    signed = load_settings({"HF_API_URL": hf.url, "HF_TOKEN": "hf_secret"})
    assert "hf_secret" in signed.secrets()
    with client_for(signed) as client:
        assert client.rate is not None
        assert (client.rate.requests, client.rate.seconds) == TOKEN_RATE
        client.daily_papers(date(2026, 7, 31))
    custom = load_settings({"HF_RATE_LIMIT": "20/2"})
    assert custom.hf_rate == (20, 2.0)
    wrong = load_settings({"HF_RATE_LIMIT": "fast"})
    assert any("HF_RATE_LIMIT must be REQUESTS/SECONDS" in p for p in wrong.problems)


def test_a_token_is_sent_as_a_bearer_token(hf: HFStandIn) -> None:
    seen: list[str | None] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json=[])

    with HFClient(hf.url, token="hf_secret", transport=httpx.MockTransport(record)) as client:
        client.daily_papers(date(2026, 7, 31))
    assert seen == ["Bearer hf_secret"]


def test_a_backfill_records_settled_days_and_a_rerun_asks_only_for_recent_ones(
    empty_library: Library, hf: HFStandIn
) -> None:
    total = hf.add_history(SINCE, UNTIL, per_day=5)
    days = days_between(SINCE, UNTIL)
    today = UNTIL + timedelta(days=1)  # the last two days are too recent to be final
    refreshes: list[int] = []
    with HFClient(hf.url) as client:
        first = backfill(empty_library, client, days, today, lambda: refreshes.append(1))
    assert first.error is None and first.fetched == len(days) and first.added == total
    assert len(refreshes) == 1  # 200 papers: one catch-up at the end, not one per day
    assert len(empty_library) == total
    settled = empty_library.catalog.fetched_days(SOURCE)
    assert len(settled) == len(days) - 2
    hf.requests.clear()
    with HFClient(hf.url) as client:
        again = backfill(empty_library, client, days, today, lambda: None)
    assert again.done_before == len(days) - 2 and again.added == 0
    assert sorted(q["date"] for _, q in hf.requests) == [d.isoformat() for d in days[-2:]]


def kill_five_times(
    hf: HFStandIn,
    cwd: Path,
    env: dict[str, str],
    since: date,
    until: date,
    pause: tuple[float, float],
    seed: int,
) -> None:
    """`papers-bot fetch --since` started and SIGKILLed five times, each after a random pause;
    the Hub forgets each dead client's wait (its successor was never told of it)."""
    command = [sys.executable, "-m", "bot", "fetch", "--since", str(since), "--until", str(until)]
    rng = random.Random(seed)
    for _ in range(5):
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(*pause))
        process.send_signal(signal.SIGKILL)
        process.wait()
        hf.forget_waits()


def test_a_backfill_killed_five_times_finishes_under_the_limit_with_no_day_lost_or_doubled(
    tmp_path: Path, hf: HFStandIn, database_url: str | None
) -> None:
    """The real command in a real process, SIGKILLed at random moments; the stand-in refuses
    any request over 18 per second and counts every request made before a wait it asked for."""
    since, until = date(2025, 1, 6), date(2025, 6, 29)  # 175 days: about 12 s at 15 a second
    total = hf.add_history(since, until, per_day=10)
    hf.limit_rate(18, 1.0)
    env = {
        **os.environ,
        "HF_API_URL": hf.url,
        "HF_RATE_LIMIT": "15/1",
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_SAMPLE_DATA": "0",
        "DATABASE_URL": database_url or "",
    }
    kill_five_times(hf, tmp_path, env, since, until, pause=(0.8, 2.5), seed=5)
    done = run_papers_bot(tmp_path, "fetch", "--since", str(since), "--until", str(until), **env)
    assert done.returncode == 0, done.stderr
    assert "days were fetched before" in done.stderr  # it went on where the kills left it
    assert "backfill: " in done.stderr and "papers added" in done.stderr  # log lines, no tty
    # A restarted run cannot know its killed predecessor's last second of requests, so the
    # Hub may refuse one; each refusal's Retry-After was waited out before asking again.
    assert hf.dishonoured == 0
    assert hf.refused <= 5
    library = Library(tmp_path / "data", sample_data=False, database_url=database_url)
    assert len(library) == total
    listed = library.catalog.listings()
    expected = {
        day: sorted(row["paper"]["id"] for row in rows)
        for day, rows in hf.listings.items()
        if str(since) <= day <= str(until)
    }
    assert {day: sorted(ids) for day, ids in listed.items()} == expected
    asked = Counter(q["date"] for _, q in hf.requests if q.get("date"))
    assert set(asked) == {d.isoformat() for d in days_between(since, until)}
    hits = [r.paper.id for r in library_search(tmp_path, env)]
    assert hits, "the backfilled papers are searchable"


def library_search(tmp_path: Path, env: dict[str, str]) -> list:  # type: ignore[type-arg]
    from bot.config import load_settings as settings_from
    from bot.runtime import Runtime

    runtime = Runtime.open(settings_from(env))
    return runtime.search.search("reasoning", 5).results


def test_backfill_usage_is_checked(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    later = run_papers_bot(
        tmp_path, "fetch", "--since", str(today), "--until", str(today - timedelta(days=3))
    )
    assert later.returncode == 2 and "is after --until" in later.stderr
    both = run_papers_bot(tmp_path, "fetch", "--since", "2025-01-01", "--date", "2025-02-01")
    assert both.returncode == 2 and "--since DAY" in both.stderr
