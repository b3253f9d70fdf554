"""500 channel digests across 100 workspaces due at the same minute, on PostgreSQL
(`python -m bench.channel_digests`, in `make bench`).

The loopback Slack plays chat.postMessage's limit: a second message in a channel within a
second of the one before is answered 429 with Retry-After (counted as "paced out"); on top,
`RATE_LIMITED` posts are answered 429 with Retry-After 1 wherever they fall, as a busy Slack
does. Measured: how long one replica's minute tick takes to post every digest, the smallest
gap between two messages of a channel, the 429s, and that every card reached Slack once; then
the same on a fresh database with two replicas ticking at once (two runtimes on one
PostgreSQL, as two processes are): still each (channel, paper) once.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.daily.workspaces import POSTING_WORKERS, DueDigests
from bot.delivery import Messenger
from bot.digest import POST_INTERVAL
from bot.models import ChannelDigest, Paper
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot

WORKSPACES, CHANNELS_EACH, PAPERS = 100, 5, 60
RATE_LIMITED = 20
TOPICS = ["", "cat:cs.CV", "cat:cs.CL", "video generation", "kan OR kolmogorov"]
SUBJECTS = {
    "cs.CV": ["Video generation with {}", "Segmenting {} in videos", "Depth of {} from images"],
    "cs.CL": ["Language models that {}", "Reasoning about {} in text", "Translating {}"],
    "cs.LG": ["Kolmogorov-Arnold networks for {}", "KAN layers that learn {}", "Optimising {}"],
}
DAY = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday: the weekly ones are due too


def the_papers() -> list[Paper]:
    papers = []
    for n in range(PAPERS):
        category = list(SUBJECTS)[n % 3]
        title = SUBJECTS[category][n // 3 % 3].format(f"subject {n}")
        papers.append(
            Paper(
                f"2611.{30000 + n:05d}",
                title,
                abstract=f"{title}. We report results on standard benchmarks.",
                published=(DAY - timedelta(days=n % 7)).date().isoformat(),
                listed=(DAY - timedelta(days=n % 7)).date().isoformat(),
                upvotes=100 - n,
                categories=[category],
            )
        )
    return papers


def the_digests() -> list[ChannelDigest]:
    digests = []
    for w in range(WORKSPACES):
        for c in range(CHANNELS_EACH):
            weekly = (w + c) % 4 == 0
            digests.append(
                ChannelDigest(
                    f"T{w:04d}",
                    f"C{w:04d}X{c}",
                    "weekly" if weekly else "daily",
                    0 if weekly else None,
                    "09:00",
                    "UTC",
                    TOPICS[c % len(TOPICS)],
                    set_by="U0BENCH",
                )
            )
    return digests


class BenchWorkspaces:
    """The 100 workspaces, each posted to with its own bot token (as installs are)."""

    def __init__(self, runtime: Runtime, tokens: dict[str, str]):
        self.runtime, self.tokens = runtime, tokens
        self.bot = SlackBot(runtime, make_client(runtime.settings))

    def installed(self) -> list[str]:
        return sorted(self.tokens)

    def messenger(self, team: str) -> Messenger | None:
        client = make_client(self.runtime.settings, self.tokens[team])
        return self.bot.for_team(team, client)


def _prepared(settings: Settings) -> Runtime:
    runtime = Runtime.open(settings)
    runtime.library.upsert_many(the_papers())
    runtime.search.refresh()
    for digest in the_digests():
        runtime.library.channel_digests.set(digest.row())
    return runtime


def _standin(tokens: dict[str, str]) -> Any:
    from tests.slack.standin import TestSlack

    channels = {d.channel: {"name": d.channel, "is_private": False} for d in the_digests()}
    slack = TestSlack(bot_token="xoxb-bench", channels=channels).start()
    slack.issued |= {token: team for team, token in tokens.items()}
    slack.channel_pace = POST_INTERVAL
    slack.fail_next("chat.postMessage", 429, retry_after=1, count=RATE_LIMITED)
    return slack


def _run(database: str, work: Path, replicas: int) -> dict[str, Any]:
    tokens = {f"T{w:04d}": f"xoxb-bench-{w}" for w in range(WORKSPACES)}
    slack = _standin(tokens)
    settings = Settings(
        slack_api_url=slack.api_url,
        slack_client_id="1.2",
        slack_client_secret="bench",
        slack_signing_secret="bench",
        data_dir=work / "replica-0",
        sample_data=False,
        database_url=database,
        hf_api_url="http://127.0.0.1:9/api",
        semantic=False,
    )
    first = _prepared(settings)
    runtimes = [first] + [
        Runtime.open(replace(settings, data_dir=work / f"replica-{n}")) for n in range(1, replicas)
    ]
    at = DAY + timedelta(hours=9, seconds=30)
    jobs = [DueDigests(settings, r, BenchWorkspaces(r, tokens)) for r in runtimes]
    for job in jobs:
        job.last_fetch = at  # the fetch is measured elsewhere (bench/backfill.py)
    due = len(jobs[0]._due(at))
    outcomes: list[list[Any]] = [[] for _ in jobs]
    barrier = threading.Barrier(len(jobs))

    def tick(n: int) -> None:
        barrier.wait()
        outcomes[n] = jobs[n].tick(at)

    start = time.perf_counter()
    threads = [threading.Thread(target=tick, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    try:
        return {"due": due, "seconds": elapsed} | _what_slack_saw(slack, outcomes)
    finally:
        slack.stop()
        for runtime in runtimes:
            runtime.close()


def _what_slack_saw(slack: Any, outcomes: list[list[Any]]) -> dict[str, Any]:
    taken = [c for c in slack.calls_to("chat.postMessage") if "_fault" not in c.args]
    by_channel: dict[str, list[float]] = defaultdict(list)
    cards: Counter[tuple[str, str]] = Counter()
    for call in taken:
        by_channel[call.args["channel"]].append(call.at)
        if call.args.get("thread_ts"):
            for block in call.args.get("blocks") or []:
                if str(block.get("block_id", "")).startswith("paper:"):
                    cards[(call.args["channel"], block["block_id"][6:])] += 1
    gaps = [b - a for times in by_channel.values() for a, b in zip(times, times[1:], strict=False)]
    failed = [o for done in outcomes for _, o in done if o.startswith("failed")]
    return {
        "posted_by": [len(done) for done in outcomes],
        "channels_posted": len(by_channel),
        "messages": len(taken),
        "cards": sum(cards.values()),
        "duplicate_cards": sum(n - 1 for n in cards.values()),
        "min_gap_s": min(gaps) if gaps else None,
        "median_gap_s": statistics.median(gaps) if gaps else None,
        "paced_out_429": slack.paced_out,
        "rate_limited_429": RATE_LIMITED,
        "failed": len(failed),
    }


def measure() -> dict[str, Any]:
    from tests.postgres_server import fresh_database, running_server

    work = Path(tempfile.mkdtemp(prefix="papers-digests-bench-"))
    try:
        with ExitStack() as stack:
            server = os.environ.get("DATABASE_URL") or stack.enter_context(running_server())
            one = _run(fresh_database(server), work / "one", replicas=1)
            two = _run(fresh_database(server), work / "two", replicas=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "workspaces": WORKSPACES,
        "channels": WORKSPACES * CHANNELS_EACH,
        "workers": POSTING_WORKERS,
        "one_replica": one,
        "two_replicas": two,
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        f"\nChannel digests: {result['channels']} channels in {result['workspaces']} "
        f"workspaces due at one minute, PostgreSQL, {result['workers']} posting side by side",
        "| run | due | time | messages | cards | duplicates | min gap in a channel | "
        "429 paced out | 429 injected | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("one_replica", "two_replicas"):
        r = result[name]
        rows.append(
            f"| {name.replace('_', ' ')} (ticks by replica: {r['posted_by']}) | {r['due']} | "
            f"{r['seconds']:.1f} s | {r['messages']} | {r['cards']} | {r['duplicate_cards']} | "
            f"{r['min_gap_s']:.2f} s | {r['paced_out_429']} | {r['rate_limited_429']} | "
            f"{r['failed']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    import json

    measured = measure()
    print(table(measured))
    print(json.dumps(measured, indent=2))
