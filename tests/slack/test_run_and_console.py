"""`papers-bot run` (HTTP mode) and `papers-bot console` as real processes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bot.console.slack_requests import signed_headers
from tests.conftest import run_papers_bot
from tests.slack.conftest import SECRET, TOKEN, all_text
from tests.slack.standin import TestSlack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment with `extra` (conftest already removed SLACK_/PAPERS_/HF_ settings)."""
    return {**os.environ, **extra}


def test_run_in_http_mode_answers_papers_kan(standin: TestSlack, tmp_path: Path) -> None:
    """Also: with PAPERS_SCHEDULER=0 the bot leaves the digest to cron, even one due now."""
    port = free_port()
    due = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%H:%M")
    env = clean_env(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        PORT=str(port),
        SLACK_API_URL=standin.api_url,
        PAPERS_DATA_DIR=str(tmp_path / "data"),
        PAPERS_CHANNEL="C0PAPERS",
        PAPERS_DIGEST_TIME=due,
        PAPERS_SCHEDULER="0",
        HF_API_URL="http://127.0.0.1:9/api",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the bot never answered /healthz")
        assert standin.calls_to("auth.test")
        body = urlencode(
            {
                "command": "/papers",
                "text": "kan",
                "user_id": "U0ALICE",
                "channel_id": "C0PAPERS",
                "team_id": "T0STANDIN",
                "response_url": standin.response_url("run"),
            }
        )
        headers = signed_headers(body, SECRET) | {
            "content-type": "application/x-www-form-urlencoded"
        }
        response = httpx.post(
            f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers
        )
        assert response.status_code == 200
        answer = standin.wait_for("response_url")[0].args
        assert "2408.08338" in all_text(answer)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "As you gave `client` as well" not in output  # no noisy Bolt warning at start
    assert "PAPERS_SCHEDULER=0" in output
    assert "the library is nearly empty" in output and "fetch --since 2023-05-04" in output
    assert "missed while the bot was down" not in output  # no catch-up digest was scheduled


def test_run_with_no_settings_exits_2_with_one_message(tmp_path: Path) -> None:
    result = run_papers_bot(tmp_path, "run", timeout=60)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in result.stderr and "Traceback" not in result.stderr


def test_console_session(tmp_path: Path) -> None:
    script = (
        "\n".join(
            [
                "/papers kan",
                "2",
                "channel",
                "react 1 bookmark",
                "/papers saved",
                "unreact 1 bookmark",
                "/papers saved",
                "home",
                "digest",
                "press 99",
                "nonsense",
                "quit",
            ]
        )
        + "\n"
    )
    result = run_papers_bot(
        tmp_path, "console", input=script, PAPERS_DATA_DIR=str(tmp_path / "data")
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Activation Space Selectable Kolmogorov-Arnold Networks" in out
    assert "[1 Save] [2 Share] [3 More like this] [4 Not interested]" in out
    assert "the bot posted in #C0CONSOLE" in out
    assert "Saved *Activation Space Selectable" in out
    assert "Your reading list* (1 paper," in out
    assert "Removed *Activation Space Selectable" in out
    assert "Your reading list is empty" in out
    assert "YOUR READING LIST" in out
    assert "TRENDING PAPERS · MON 3 AUG 2026" in out
    assert "There is no button [99]" in out


def test_a_port_in_use_is_one_clear_line_and_exit_2(standin: TestSlack, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_papers_bot(
            tmp_path,
            "run",
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            PORT=str(port),
            SLACK_API_URL=standin.api_url,
            PAPERS_DATA_DIR=str(tmp_path / "data"),
        )
    assert result.returncode == 2
    assert f"PORT {port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_buttons_keep_their_numbers_and_odd_digits_are_no_crash(tmp_path: Path) -> None:
    script = "\n".join(
        ["/papers kan", "/papers trending", "press 1", "press ²", "²", "/papers saved ²", "quit"]
    )
    result = run_papers_bot(
        tmp_path, "console", input=script + "\n", PAPERS_DATA_DIR=str(tmp_path / "data")
    )
    out = result.stdout
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    # [1] is still the first answer's Save after a second answer was shown.
    assert "Saved *Activation Space Selectable" in out
    numbers = [int(n) for n in re.findall(r"\[(\d+) [A-Z]", out)]
    assert numbers == list(range(1, len(numbers) + 1)) and "[9 Save]" in out  # never reused
    # A save updates the Home tab without printing it; `home` prints it.
    assert "App Home tab was updated" in out and "YOUR READING LIST" not in out
    assert "Usage: `/papers saved`" in out


def test_console_paste_unfurls_links_and_a_reaction_saves_them(tmp_path: Path) -> None:
    """`paste` posts a person's message; its paper links come back as cards (the real
    link_shared listener), and a reaction on that message saves every paper it links."""
    script = (
        "paste see https://arxiv.org/abs/2408.08338v2 and https://www.alphaxiv.org/abs/2503.10632"
        " (not https://example.com/2408.08338)\n"
        "react 1 bookmark\n/papers team\npaste\nquit\n"
    )
    result = run_papers_bot(
        tmp_path, "console", input=script, PAPERS_DATA_DIR=str(tmp_path / "data")
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert out.count("the bot unfurled the link") == 2
    assert (
        "Saved *Activation Space Selectable" in out and "Saved *Kolmogorov-Arnold Attention" in out
    )
    assert "shared once · saved by 1 this week" in out
    assert "Usage: paste TEXT" in out
