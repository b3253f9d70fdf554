"""`papers-bot doctor`: each check fails on the real trouble it is about, says what to do, and
the exit code follows. A real `papers-bot doctor` process each time (its whole pass on a healthy
install, search by meaning included, is in tests/test_smoke.py and tests/test_native_parts.py);
search by meaning is off here unless a test turns it on, as everywhere in the tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.cli.doctor.install import lock_check, lock_file
from bot.library import Library
from bot.search import SearchEngine
from tests.conftest import fill_disk, run_papers_bot, small_tmpfs
from tests.fakes.hf import HFStandIn
from tests.fakes.llm import LLMStandIn
from tests.fakes.scholar import ScholarStandIn
from tests.postgres_server import fresh_database
from tests.slack.standin import TestSlack


def doctor(cwd: Path, *options: str, **env: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """Exit code, and each check by name."""
    done = run_papers_bot(cwd, "doctor", "--json", *options, **env)
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is (done.returncode == 0)
    return done.returncode, {check["name"]: check for check in report["checks"]}


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    """A data dir with the sample library and its index."""
    data_dir = tmp_path / "data"
    library = Library(data_dir)
    SearchEngine(library).close()
    library.catalog.close()  # its last connection: the write-ahead log is folded in the file
    return data_dir


def test_a_sound_library_passes_and_the_table_says_so(indexed: Path, tmp_path: Path) -> None:
    code, checks = doctor(tmp_path, PAPERS_DATA_DIR=str(indexed))
    assert code == 0
    assert checks["catalog"]["status"] == "ok" and "111 papers" in checks["catalog"]["detail"]
    assert checks["search index"]["status"] == "ok"
    assert checks["search by meaning"]["status"] == "skip"  # PAPERS_SEMANTIC=0
    table = run_papers_bot(tmp_path, "doctor", PAPERS_DATA_DIR=str(indexed))
    assert table.returncode == 0 and table.stdout.rstrip().endswith("All good.")


def test_a_damaged_catalog_fails_and_is_left_where_it_is(indexed: Path, tmp_path: Path) -> None:
    catalog = indexed / "catalog.sqlite3"
    with catalog.open("r+b") as file:  # two pages of the papers' b-tree, overwritten
        file.seek(catalog.stat().st_size // 2)
        file.write(b"\xff" * 8192)
    code, checks = doctor(tmp_path, PAPERS_DATA_DIR=str(indexed))
    assert code == 1 and checks["catalog"]["status"] == "fail"
    assert "damaged" in checks["catalog"]["detail"] and checks["catalog"]["fix"]
    assert catalog.exists() and not list(indexed.glob("*.damaged-*"))  # reported, not moved


def test_an_index_of_another_catalog_or_none_fails(indexed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    Library(other)  # another catalog, another identity
    shutil.copytree(indexed / "index", other / "index")
    code, checks = doctor(tmp_path, PAPERS_DATA_DIR=str(other))
    assert code == 1 and "another catalog" in checks["search index"]["detail"]
    assert "--rebuild" in checks["search index"]["fix"]
    shutil.rmtree(other / "index")
    code, checks = doctor(tmp_path, PAPERS_DATA_DIR=str(other))
    assert code == 1 and checks["search index"]["fix"] == "`papers-bot index` builds it"


def test_a_nearly_full_data_dir_fails(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path, "4m") as disk:
        code, checks = doctor(tmp_path, PAPERS_DATA_DIR=str(disk / "data"))
        assert code == 1 and "MB free" in checks["data dir"]["detail"]
        fill_disk(disk)
        code, checks = doctor(tmp_path, PAPERS_DATA_DIR=str(disk / "data"))
        assert checks["data dir"]["status"] == "fail"


def test_vectors_of_another_model_fail(tmp_path: Path) -> None:
    """Made by the packaged model, then PAPERS_EMBEDDING_MODEL names another (a copy whose
    config differs, so its fingerprint does)."""
    from bot.search.semantic import Semantic
    from bot.search.semantic.model import model_folder

    data_dir = tmp_path / "data"
    library = Library(data_dir)
    SearchEngine(library).close()
    assert Semantic(data_dir).catch_up(library) == len(library)
    code, checks = doctor(tmp_path, PAPERS_DATA_DIR=str(data_dir), PAPERS_SEMANTIC="1")
    assert code == 0 and checks["vectors"]["status"] == "ok", checks
    other = tmp_path / "other-model"
    shutil.copytree(model_folder(None), other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps(config | {"note": "another model"}))
    code, checks = doctor(
        tmp_path,
        PAPERS_DATA_DIR=str(data_dir),
        PAPERS_SEMANTIC="1",
        PAPERS_EMBEDDING_MODEL=str(other),
    )
    assert code == 1 and "another model" in checks["vectors"]["detail"]
    assert checks["search by meaning"]["status"] == "ok"  # the parts run that model fine


def test_slack_a_bad_token_and_missing_scopes_fail(tmp_path: Path) -> None:
    slack = TestSlack(bot_token="xoxb-good").start()
    try:
        settings = {
            "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": "s" * 32,
            "PAPERS_DATA_DIR": str(tmp_path / "data"),
        }
        code, checks = doctor(tmp_path, **settings, SLACK_BOT_TOKEN="xoxb-good")
        assert code == 0 and "every scope" in checks["Slack"]["detail"]
        slack.scopes = [s for s in slack.scopes if s not in ("reactions:read", "im:write")]
        code, checks = doctor(tmp_path, **settings, SLACK_BOT_TOKEN="xoxb-good")
        assert code == 1 and "lacks reactions:read, im:write" in checks["Slack"]["detail"]
        assert "Reinstall" in checks["Slack"]["fix"]
        code, checks = doctor(tmp_path, **settings, SLACK_BOT_TOKEN="xoxb-revoked")
        assert code == 1 and checks["Slack"]["detail"] == "auth.test: invalid_auth"
        code, checks = doctor(tmp_path, **settings, SLACK_BOT_TOKEN="xoxp-not-a-bot-token")
        assert code == 1 and "xoxb-" in checks["settings"]["detail"]
    finally:
        slack.stop()


def test_a_database_is_reachable_and_migrated_or_says_what_to_run(
    tmp_path: Path, postgres_server: str
) -> None:
    url = fresh_database(postgres_server)
    code, checks = doctor(tmp_path, DATABASE_URL=url, PAPERS_DATA_DIR=str(tmp_path / "d"))
    assert code == 1 and checks["database"]["fix"] == "`papers-bot db upgrade`"
    assert run_papers_bot(tmp_path, "db", "upgrade", DATABASE_URL=url).returncode == 0
    code, checks = doctor(tmp_path, DATABASE_URL=url, PAPERS_DATA_DIR=str(tmp_path / "d"))
    assert checks["database"]["status"] == "ok" and checks["catalog"]["status"] == "skip"
    SearchEngine(Library(tmp_path / "d", database_url=url)).close()  # a first run's work
    code, checks = doctor(tmp_path, DATABASE_URL=url, PAPERS_DATA_DIR=str(tmp_path / "d"))
    assert code == 0 and "111 papers" in checks["catalog"]["detail"]
    assert checks["search index"]["status"] == "ok"
    closed = "postgresql://papers:secret-pw@127.0.0.1:9/nothing"
    code, checks = doctor(tmp_path, DATABASE_URL=closed, PAPERS_DATA_DIR=str(tmp_path / "d"))
    assert code == 1 and "cannot be used" in checks["database"]["detail"]
    assert "secret-pw" not in json.dumps(checks)


def test_network_checks_ask_each_service_once(tmp_path: Path, hf: HFStandIn) -> None:
    llm, scholar = LLMStandIn().start(), ScholarStandIn().start()
    scholar.know("1706.03762", 150_000)
    try:
        env = {
            "HF_API_URL": hf.url,
            "ARXIV_API_URL": "http://127.0.0.1:9/api/query",  # nothing listens
            "PAPERS_LLM_URL": llm.url,
            "PAPERS_LLM_MODEL": "stand-in-model",
            "SEMANTIC_SCHOLAR_API_URL": scholar.url,
            "PAPERS_DATA_DIR": str(tmp_path / "data"),
        }
        code, checks = doctor(tmp_path, "--network", **env)
        assert checks["Hugging Face"]["status"] == "ok" and checks["LLM"]["status"] == "ok"
        assert checks["Semantic Scholar"]["status"] == "ok"
        assert code == 1 and "ARXIV_API_URL" in checks["arXiv"]["fix"]
        code, checks = doctor(tmp_path, "--network", **env | {"PAPERS_LLM_MODEL": "gpt-9"})
        assert "does not serve PAPERS_LLM_MODEL=gpt-9" in checks["LLM"]["detail"]
        _, checks = doctor(tmp_path, "--network", **env | {"PAPERS_CITATIONS": "0"})
        assert checks["Semantic Scholar"]["status"] == "skip"
        scholar.papers.clear()
        _, checks = doctor(tmp_path, "--network", **env)
        assert "SEMANTIC_SCHOLAR_API_URL" in checks["Semantic Scholar"]["fix"]
    finally:
        llm.stop()
        scholar.stop()
    assert [path for path, _ in hf.requests] == ["/daily_papers"] * 4
    asked = scholar.calls("/paper/arXiv:1706.03762")
    assert len(asked) == 3 and asked[0].headers["User-Agent"].startswith("papers-bot/")


def test_installed_versions_that_differ_from_the_lock_fail(tmp_path: Path) -> None:
    real = lock_file()
    assert real is not None and lock_check(real).status == "ok"
    text = real.read_text()
    changed = tmp_path / "uv.lock"
    changed.write_text(
        text.replace('name = "tinydb"\nversion = "', 'name = "tinydb"\nversion = "0.', 1)
    )
    found = lock_check(changed)
    assert found.status == "fail" and "tinydb" in found.detail and "make semantic" in found.fix
