"""Too little here? The library's answer first, then what Hugging Face's paper search adds,
as an update of the same message, those papers now in the library. Against the loopback
Hugging Face serving a real `/api/papers/search` response (q=kazakh)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.config import Settings
from tests.fakes.hf import HFStandIn
from tests.slack.conftest import Bot, all_text, running_bot
from tests.slack.standin import TestSlack

FROM_HF = "2404.04487"  # the first row of the recorded kazakh search


@pytest.fixture
def bot_and_hf(settings: Settings, standin: TestSlack, hf: HFStandIn) -> Iterator[Bot]:
    with running_bot(replace(settings, hf_api_url=hf.url), standin) as running:
        yield running


def searched(hf: HFStandIn) -> list[str]:
    return [q.get("q", "") for path, q in hf.requests if path == "/papers/search"]


def test_too_few_matches_brings_hugging_faces_papers_as_an_update(
    bot_and_hf: Bot, hf: HFStandIn
) -> None:
    bot = bot_and_hf
    response, url = bot.command("kazakh named entities")
    assert response.status_code == 200
    first, update = bot.responses(url, 2)
    assert "From Hugging Face" not in all_text(first)
    assert update["replace_original"] in (True, "true")
    assert "From Hugging Face" in all_text(update) and FROM_HF in all_text(update)
    assert searched(hf) == ["kazakh named entities"]
    stored = bot.runtime.library.get(FROM_HF)
    assert stored is not None and stored.source == "hf-search" and stored.listed is None
    bot.runtime.search.refresh()
    _, again = bot.command("kazakh")  # now the library itself knows it
    assert FROM_HF in all_text(bot.responses(again)[0])


def test_a_slow_hugging_face_never_holds_up_the_librarys_answer(
    bot_and_hf: Bot, hf: HFStandIn
) -> None:
    bot = bot_and_hf
    hf.stall_seconds = 5.0
    hf.fail("/papers/search", kind="stall")
    response, url = bot.command("kazakh")
    acked = time.monotonic()
    assert response.status_code == 200
    [first] = bot.responses(url, 1, timeout=3)  # the library's answer: within 3 s of the ack
    assert time.monotonic() - acked < 3
    assert "From Hugging Face" not in all_text(first)
    update = bot.responses(url, 2, timeout=15)[1]
    assert FROM_HF in all_text(update) and time.monotonic() - acked >= 4.5


def test_enough_matches_or_the_setting_off_never_ask(
    settings: Settings, standin: TestSlack, hf: HFStandIn
) -> None:
    with running_bot(replace(settings, hf_api_url=hf.url), standin) as bot:
        _, url = bot.command("diffusion")
        assert len(bot.responses(url)) == 1
        time.sleep(0.5)
    with running_bot(replace(settings, hf_api_url=hf.url, remote_search=False), standin) as bot:
        _, url = bot.command("kazakh")
        assert "From Hugging Face" not in all_text(bot.responses(url)[0])
        time.sleep(0.5)
    assert searched(hf) == []
