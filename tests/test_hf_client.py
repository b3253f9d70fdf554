"""The Hugging Face client against a loopback stand-in serving the real fixtures, with faults."""

from __future__ import annotations

from datetime import date

import pytest

from bot.sources.hf_client import USER_AGENT, HFClient, HFError
from tests.fakes.hf import HFStandIn


def client(hf: HFStandIn, **options) -> HFClient:
    sleeps: list[float] = []
    made = HFClient(hf.url, timeout=options.pop("timeout", 2.0), sleep=sleeps.append, **options)
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


def test_a_listing_day_with_paging(hf: HFStandIn) -> None:
    import bot.sources.hf_client as module

    original, module.PAGE_SIZE = module.PAGE_SIZE, 7
    try:
        rows = client(hf).daily_papers(date(2026, 7, 31))
    finally:
        module.PAGE_SIZE = original
    assert len(rows) == 30
    pages = [q["p"] for path, q in hf.requests if path == "/daily_papers"]
    assert pages == ["0", "1", "2", "3", "4"]
    assert all(q["date"] == "2026-07-31" and q["limit"] == "7" for _, q in hf.requests)


def test_weekend_is_an_empty_day(hf: HFStandIn) -> None:
    assert client(hf).daily_papers(date(2026, 8, 1)) == []


def test_503_and_429_are_ridden_out_honouring_retry_after(hf: HFStandIn) -> None:
    hf.fail("/daily_papers", status=503, count=2)
    hf.fail("/daily_papers", status=429, retry_after="7")
    c = client(hf)
    assert len(c.daily_papers(date(2026, 6, 12))) == 30
    assert c.sleeps[-1] == 7.0  # Retry-After honoured
    assert all(0 <= s <= 1.0 for s in c.sleeps[:2])  # jittered exponential backoff


def test_timeouts_and_truncated_json_are_retried(hf: HFStandIn) -> None:
    hf.stall_seconds = 1.5
    hf.fail("/daily_papers", kind="stall")
    hf.fail("/daily_papers", kind="truncate")
    c = client(hf, timeout=0.5)
    assert len(c.daily_papers(date(2026, 8, 3))) == 3
    assert len(c.sleeps) == 2


def test_retries_are_bounded_and_the_error_says_what_to_do(hf: HFStandIn) -> None:
    hf.fail("/daily_papers", status=503, count=10)
    with pytest.raises(HFError, match="failed 3 times .*HTTP 503.*papers-bot fetch"):
        client(hf, max_attempts=3).daily_papers(date(2026, 8, 3))


def test_client_errors_are_not_retried(hf: HFStandIn) -> None:
    hf.fail("/daily_papers", status=400)
    with pytest.raises(HFError, match="HTTP 400"):
        client(hf).daily_papers(date(2026, 8, 3))
    assert len(hf.requests) == 1


def test_one_paper_and_a_missing_one(hf: HFStandIn) -> None:
    c = client(hf)
    assert c.paper("2607.28582")["title"].startswith("β-OPSD")
    assert c.paper("2401.99999") is None


def test_user_agent_is_clear(hf: HFStandIn) -> None:
    assert USER_AGENT.startswith("papers-bot/")
