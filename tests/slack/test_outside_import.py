"""A `papers-bot import` in another process while the bot serves: answers keep flowing.

The bot catches up with the other process's writes on its background refresher; requests use
the index they have meanwhile. Latency figures are `make bench`'s job; this test proves the
behaviour: every command acknowledged (Bolt answers 404 when it could not ack within 3 s),
every command answered, and answers arriving while the catalog held papers the index had not
caught up with yet (the catch-up never holds a request).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.synth import make_papers
from tests.slack.conftest import Bot

PAPERS = 20_000


def test_commands_are_answered_while_another_process_imports(bot: Bot, tmp_path: Path) -> None:
    engine = bot.runtime.search
    start_size = len(engine.index)
    papers = make_papers(PAPERS)
    target = len(set(bot.runtime.library.papers()) | {p.id for p in papers})
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(p.to_record()) for p in papers), encoding="utf-8")
    engine.start_background_refresh(interval=0.2)
    importer = subprocess.Popen(
        [sys.executable, "-m", "bot", "import", str(batch)],
        env={"PAPERS_DATA_DIR": str(bot.runtime.library.data_dir), "PATH": ""}
        | ({"DATABASE_URL": database} if (database := bot.runtime.library.database_url) else {}),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    statuses: list[int] = []
    answered_at: list[tuple[int, int]] = []  # (index size, catalog size) when answered
    lock = threading.Lock()

    def ask(n: int) -> None:
        response, url = bot.command("kan" if n % 2 else "speculative decoding")
        answer = bot.responses(url, timeout=60)
        assert answer
        with lock:
            statuses.append(response.status_code)
            answered_at.append((len(engine.index), len(bot.runtime.library)))

    threads: list[threading.Thread] = []
    caught_up_at = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if len(engine.index) >= target and importer.poll() is not None:
            caught_up_at = time.monotonic()
            break
        thread = threading.Thread(target=ask, args=(len(threads),))
        thread.start()
        threads.append(thread)
        time.sleep(0.25)
    for thread in threads:
        thread.join(timeout=90)
    engine.stop_background_refresh()
    _, stderr = importer.communicate(timeout=60)
    assert importer.returncode == 0, stderr
    assert caught_up_at is not None, "the bot never caught up with the import"
    assert len(statuses) == len(threads) >= 8
    assert set(statuses) == {200}  # every command acknowledged in time
    behind = [(size, held) for size, held in answered_at if start_size <= size < held]
    assert behind, "no answer came while the index was catching up: requests waited for it"
    assert engine.search(papers[-1].id, 1).results[0].paper.id == papers[-1].id  # caught up
    for result in engine.search("kan", 5).results:  # the synthetic papers copy KAN text
        assert result.matched and all(
            "kan" in m.lower() or "kolmogorov" in m for m in result.matched
        )
