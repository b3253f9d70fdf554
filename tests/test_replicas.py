"""Three `papers-bot run` replicas on one PostgreSQL database, behind no load balancer: each
is asked directly, as a balancer would spread requests. Real processes, the loopback Slack and
Hugging Face, a real server; the digest leader is killed with SIGKILL mid-digest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.library import Library, load_sample_papers
from bot.models import Paper
from tests.conftest import run_papers_bot
from tests.fakes.hf import HFStandIn
from tests.postgres_server import fresh_database
from tests.slack.conftest import SECRET, TOKEN, Bot, all_text
from tests.slack.standin import TestSlack
from tests.slack.test_run_and_console import free_port
from tests.slack.test_workspaces import digest_time, install

CHANNEL = "C0PAPERS"
WORKSPACE_CHANNELS = {"T0AAA": "C0AAA", "T0BBB": "C0BBB"}


def _zone_one_hour_past_midnight(now: datetime) -> tuple[str, datetime]:
    """An Etc/GMT zone where it is now 01:xx: a 00:00 digest is an hour late, well within
    the grace, and the digest day is that zone's date (never one that just turned)."""
    offset = (1 - now.hour) % 24
    offset = offset - 24 if offset > 14 else offset
    zone = f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"
    return zone, now + timedelta(hours=offset)


def _replica(tmp_path: Path, n: int, env: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = tmp_path / f"replica-{n}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env | {"PORT": str(port), "PAPERS_DATA_DIR": str(tmp_path / f"replica-{n}")},
        cwd=tmp_path,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}", log


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never became healthy:\n{log.read_text()}")


def _three_replicas(
    stack: ExitStack, tmp_path: Path, papers: list[Paper], env: dict[str, str]
) -> list[tuple[subprocess.Popen, str, Path]]:
    """`papers` imported into the database by the CLI, then three healthy `papers-bot run`
    replicas, each killed when `stack` closes."""
    batch = tmp_path / "today.jsonl"
    batch.write_text("\n".join(json.dumps(p.to_record()) for p in papers), encoding="utf-8")
    imported = run_papers_bot(
        tmp_path, "import", str(batch), **env, PAPERS_DATA_DIR=str(tmp_path / "cli")
    )
    assert imported.returncode == 0, imported.stderr
    replicas = [_replica(tmp_path, n, env) for n in range(3)]
    for process, _, _ in replicas:
        stack.callback(lambda p=process: (p.kill(), p.wait()))
    for process, url, log in replicas:
        _wait_healthy(url, process, log)
    return replicas


LEADS = "this replica posts the"  # the leader of a minute says so in its log


def test_three_replicas_share_one_truth_and_finish_a_dead_leaders_digest(
    tmp_path: Path, postgres_server: str, hf: HFStandIn
) -> None:
    database = fresh_database(postgres_server)
    zone, local = _zone_one_hour_past_midnight(datetime.now(UTC))
    day = local.date().isoformat()
    # Eight papers of "today" in that zone, for the digest to post.
    papers = [
        replace(p, listed=day, upvotes=50 - i) for i, p in enumerate(load_sample_papers()[:8])
    ]
    slack = TestSlack(bot_token=TOKEN).start()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "HF_API_URL": hf.url,
        "PAPERS_CHANNEL": CHANNEL,
        "PAPERS_DIGEST_TIME": "00:00",
        "PAPERS_TIMEZONE": zone,
        "PAPERS_TAKEOVER_SECONDS": "2",
    }
    with ExitStack() as stack:
        stack.callback(slack.stop)
        replicas = _three_replicas(stack, tmp_path, papers, env)

        # The digest: every replica's start-up catch-up tries; one leads. Kill it mid-digest.
        slack.wait_for("chat.postMessage", 3, timeout=60)  # the header and two cards
        leaders = [r for r in replicas if LEADS in r[2].read_text()]
        assert len(leaders) == 1, [r[2].read_text() for r in replicas]
        leader = leaders[0]
        leader[0].send_signal(signal.SIGKILL)
        leader[0].wait()
        others = [r for r in replicas if r is not leader]

        library = Library(tmp_path / "observer", sample_data=False, database_url=database)
        digest_day = local.date()
        deadline = time.monotonic() + 60
        while not library.ledger.is_done(CHANNEL, digest_day) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert library.ledger.is_done(CHANNEL, digest_day), [r[2].read_text() for r in others]
        takeovers = [r for r in others if LEADS in r[2].read_text()]
        assert len(takeovers) == 1  # one of the two others finished the day
        messages = slack.messages[CHANNEL]
        headers = [m for m in messages if not m.get("thread_ts")]
        cards = [m["blocks"][-1]["elements"][0]["value"] for m in messages if m.get("thread_ts")]
        assert len(headers) == 1
        assert len(cards) == len(set(cards))  # no card twice
        assert len(cards) >= 4  # five planned; at most the one in flight at the kill is lost

        # /papers through each surviving replica; a save through one, seen through the other.
        with httpx.Client(timeout=10) as http:
            first, second = (Bot(url, slack, None, http) for _, url, _ in others)  # type: ignore[arg-type]
            for bot in (first, second):
                response, answer_url = bot.command("kan")
                assert response.status_code == 200
                assert "2408.08338" in all_text(bot.responses(answer_url)[0])
            _, save_url = first.click("papers_save", "2408.08338")
            assert "Saved" in first.responses(save_url or "")[0]["text"]
            _, listing_url = second.command("saved")
            assert "2408.08338" in all_text(second.responses(listing_url)[0])
            # A reaction, then its removal, then Slack's retry of the reaction reaching the
            # other replica: the retry is dropped there (acting on it would save it again).
            card_ts = messages[-1]["ts"]

            def bob_saved() -> bool:
                return bool(library.saves.of_user("U0BOB"))

            def until(done: Callable[[], bool]) -> None:
                deadline = time.monotonic() + 10
                while not done() and time.monotonic() < deadline:
                    time.sleep(0.05)

            first.reaction("reaction_added", card_ts, user="U0BOB", event_id="Ev-add")
            until(bob_saved)
            assert bob_saved()
            second.reaction("reaction_removed", card_ts, user="U0BOB", event_id="Ev-remove")
            until(lambda: not bob_saved())
            assert not bob_saved()
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            second.reaction(
                "reaction_added", card_ts, user="U0BOB", event_id="Ev-add", headers=retry
            )
            time.sleep(1.0)  # the retry, had it been acted on, would have saved by now
            assert not bob_saved()


def test_three_replicas_install_two_workspaces_and_post_each_digest_once(
    tmp_path: Path, postgres_server: str, hf: HFStandIn
) -> None:
    """Many workspaces on replicas: an install begun on one replica and finished on another
    (the OAuth state is in the database), each workspace's token on its own calls whichever
    replica answers, and each workspace's digest posted once by the three."""
    database = fresh_database(postgres_server)
    slack = TestSlack(bot_token=TOKEN).start()
    slack.channels |= {
        c: {"name": c, "is_private": False, "is_member": False} for c in WORKSPACE_CHANNELS.values()
    }
    tokens = {team: slack.add_workspace(team, f"code-{team}") for team in WORKSPACE_CHANNELS}
    now = datetime.now(UTC)
    day = now.date().isoformat()
    papers = [
        replace(p, listed=day, upvotes=50 - i) for i, p in enumerate(load_sample_papers()[:4])
    ]
    env = {
        **{k: v for k, v in os.environ.items() if k != "SLACK_BOT_TOKEN"},
        "DATABASE_URL": database,
        "SLACK_CLIENT_ID": slack.client_id,
        "SLACK_CLIENT_SECRET": slack.client_secret,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "HF_API_URL": hf.url,
        "PAPERS_TAKEOVER_SECONDS": "2",
    }
    with ExitStack() as stack:
        stack.callback(slack.stop)
        replicas = _three_replicas(stack, tmp_path, papers, env)
        urls = [url for _, url, _ in replicas]
        with httpx.Client(timeout=10) as http:
            bots = {
                team: Bot(urls[n], slack, None, http, _n=100 * n, team=team)  # type: ignore[arg-type]
                for n, team in enumerate(WORKSPACE_CHANNELS)
            }
            for n, team in enumerate(WORKSPACE_CHANNELS):
                done = install(bots[team], f"code-{team}", finish_at=urls[(n + 1) % 3])
                assert done.status_code == 200, done.text
            for n, (team, channel) in enumerate(WORKSPACE_CHANNELS.items()):
                asked = replace(bots[team], url=urls[(n + 2) % 3])  # yet another replica
                _, url = asked.command(f"digest here {digest_time('UTC', now)}", channel=channel)
                assert "Done" in asked.responses(url)[0]["text"]
                asked.click("papers_save", "2408.08338")
            slack.wait_for("views.publish", 2)
            assert sorted(c.token or "" for c in slack.calls_to("views.publish")) == sorted(
                tokens.values()
            )
            for team, channel in WORKSPACE_CHANNELS.items():
                deadline = time.monotonic() + 60
                while len(slack.messages.get(channel, [])) < 5 and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(3)  # a tick of each replica more: nothing is posted twice
                messages = slack.messages.get(channel, [])
                headers = [m for m in messages if not m.get("thread_ts")]
                cards = [
                    m["blocks"][-1]["elements"][0]["value"] for m in messages if m.get("thread_ts")
                ]
                # The line saying who set the digest, then the digest's one header.
                assert len(headers) == 2, messages
                assert "set this channel's digest" in all_text(headers[0])
                assert sorted(cards) == sorted(p.id for p in papers)
                posters = {
                    c.token
                    for c in slack.calls_to("chat.postMessage")
                    if c.args.get("channel") == channel
                }
                assert posters == {tokens[team]}
