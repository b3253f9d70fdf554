"""The `papers-bot` command as a user runs it: real processes, a fresh data dir each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATA, run_papers_bot


def papers_bot(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    return run_papers_bot(tmp_path, *args, PAPERS_DATA_DIR=str(tmp_path / "data"), **(env or {}))


def test_search_kan_on_a_new_data_dir_ranks_the_two_kan_papers_first(tmp_path: Path) -> None:
    result = papers_bot(tmp_path, "search", "--json", "kan")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {rows[0]["id"], rows[1]["id"]} == {"2408.08338", "2503.10632"}
    for row in rows:
        assert {"id", "title", "score", "tldr", "url"} <= row.keys()
        assert row["url"] == f"https://arxiv.org/abs/{row['id']}"


def test_plain_search_output_shows_what_people_need(tmp_path: Path) -> None:
    result = papers_bot(tmp_path, "search", "--limit", "1", "kan")
    assert result.returncode == 0
    out = result.stdout
    assert out.startswith("1. Activation Space Selectable Kolmogorov-Arnold Networks")
    for piece in [
        "Zhuoqin Yang",
        "2024-08-15",
        "▲ 0",
        "TL;DR:",
        "arxiv.org/abs/2408.08338",
        "huggingface.co/papers/2408.08338",
    ]:
        assert piece in out


def test_empty_query_gets_help_not_a_traceback(tmp_path: Path) -> None:
    result = papers_bot(tmp_path, "search", "   ")
    assert result.returncode == 2  # not a query: bad usage, said on stderr
    assert "Type what you remember" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_prints_the_summary_line_and_skips(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "2501.00001", "title": "One"}\nnot json\n')
    result = papers_bot(tmp_path, "import", str(DATA / "trap_papers.jsonl"), str(bad))
    assert result.returncode == 1, result.stderr  # a row was skipped: a cron job can tell
    assert result.stdout.strip() == "added 7, updated 0, unchanged 0, skipped 1"
    assert f"{bad} line 2: not valid JSON" in result.stderr
    again = papers_bot(tmp_path, "import", str(DATA / "trap_papers.jsonl"))
    assert again.stdout.strip() == "added 0, updated 0, unchanged 6, skipped 0"


def test_bad_usage_and_bad_settings_exit_2(tmp_path: Path) -> None:
    assert papers_bot(tmp_path, "no-such-command").returncode == 2
    assert papers_bot(tmp_path, "search", "--limit", "0", "kan").returncode == 2
    bad = papers_bot(
        tmp_path, "digest", "--dry-run", "--channel", "C0PAPERS", env={"PAPERS_DIGEST_SIZE": "lots"}
    )
    assert bad.returncode == 2
    assert "PAPERS_DIGEST_SIZE" in bad.stderr


def test_sample_data_off_starts_empty(tmp_path: Path) -> None:
    result = papers_bot(tmp_path, "search", "--json", "kan", env={"PAPERS_SAMPLE_DATA": "0"})
    assert json.loads(result.stdout) == []


def test_python_dash_m_bot_and_the_console_script_agree(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "papers-bot"
    result = subprocess.run(
        [str(script), "search", "--json", "--limit", "2", "kan"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PAPERS_DATA_DIR": str(tmp_path / "d2")},
    )
    assert [r["id"] for r in json.loads(result.stdout)] == [
        r["id"]
        for r in json.loads(papers_bot(tmp_path, "search", "--json", "--limit", "2", "kan").stdout)
    ]


def test_import_exit_codes_let_a_cron_job_tell(tmp_path: Path) -> None:
    binary = tmp_path / "papers.json"
    binary.write_bytes(bytes(range(256)) * 64)
    for path in (tmp_path / "missing.json", tmp_path, binary):
        result = papers_bot(tmp_path, "import", str(path))
        assert result.returncode == 2, (path, result.stderr)
        assert str(path) in result.stderr and "Traceback" not in result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    result = papers_bot(tmp_path, "import", str(empty), str(DATA / "trap_papers.jsonl"))
    assert result.returncode == 0, result.stderr
    assert f"warning: {empty} holds no papers" in result.stderr


def test_index_catches_up_and_rebuilds_while_the_old_generation_serves(tmp_path: Path) -> None:
    from bot.library import Library
    from bot.search import SearchEngine
    from bot.search.builder import current_generation

    first = papers_bot(tmp_path, "index")
    assert first.returncode == 0, first.stderr
    assert "search index built: 111 papers" in first.stdout
    data = tmp_path / "data"
    before = current_generation(data)
    engine = SearchEngine(Library(data))  # a serving process, on the first generation
    again = papers_bot(tmp_path, "import", str(DATA / "trap_papers.jsonl"))
    assert again.returncode == 0, again.stderr  # the import indexed its own papers
    assert current_generation(data) == before
    assert [r.paper.id for r in engine.search("kanban", 3).results] == ["9901.00001"]
    rebuilt = papers_bot(tmp_path, "index", "--rebuild")
    assert rebuilt.returncode == 0 and "built: 117 papers" in rebuilt.stdout
    after = current_generation(data)
    assert after is not None and after != before  # swapped whole
    assert [r.paper.id for r in engine.search("vulkan", 3).results] == ["9901.00003"]
    assert engine.index.folder == after  # the serving process moved to the new one
    caught = papers_bot(tmp_path, "index")
    assert "caught up: 117 papers, 0 changed" in caught.stdout
