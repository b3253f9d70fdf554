"""The PostgreSQL backend's own commands, on a real server: `db upgrade` and `db copy`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.oauth.installation_store import Installation, InstallationStore

from bot.config import Settings
from bot.library import Library
from bot.models import ChannelDigest
from bot.slack.workspaces import installation_stores
from tests.conftest import run_papers_bot
from tests.postgres_server import fresh_database

STATE = ("saves", "messages", "follows", "ledger")


@pytest.fixture
def database(postgres_server: str) -> str:
    return fresh_database(postgres_server)


def _stateful_library(path: Path) -> Library:
    library = Library(path)
    library.saves.add("U1", "2408.08338")
    library.saves.add("U2", "2503.10632")
    library.follows.add("U1", "Kolmogorov Arnold")
    library.follows.mark_alerted("U1", ["2408.08338"])
    library.messages.record("C1", "1700000000.000100", "2408.08338", "search")
    day = date(2026, 7, 1)
    library.ledger.plan("C1", day, ["2408.08338"])
    library.ledger.header_posted("C1", day, "1700000000.000200")
    library.ledger.card_posted("C1", day, "2408.08338", "1700000000.000300")
    library.ledger.finish("C1", day)
    other = library.for_team("T0OTHER")  # a second workspace: the same user id, its own list
    other.saves.add("U1", "2503.10632")
    other.follows.add("U1", "diffusion")
    other.messages.record("C9", "1700000000.000400", "2503.10632", "digest")
    digest = ChannelDigest("T0OTHER", "C9", "weekly", 0, "08:30", "Europe/Berlin", "cat:cs.CV")
    library.channel_digests.set(replace(digest, set_by="U1").row())
    library.catalog.mark_fetched("hf-daily", "2026-07-01", 31, "2026-07-04T00:00:00Z")
    other.citation_alerts.turn("U1", True)
    other.citation_alerts.claim("U1", [("a" * 40, "2503.10632")], sent=True)
    other.citation_alerts.claim_week("2026-W27")
    cited = library.get("2408.08338")
    assert cited is not None
    library.upsert_many(
        [replace(cited, citations=321, venue="ICLR", scholar_checked="2026-07-02T00:00:00+00:00")]
    )
    installations(library).save(
        Installation(
            app_id="A0PAPERS",
            team_id="T0OTHER",
            bot_token="xoxb-other",
            bot_id="B0OTHER",
            bot_user_id="U0BOT",
            user_id="U0ADMIN",
        )
    )
    return library


CLIENT_ID = "1234.5678"


def installations(library: Library) -> InstallationStore:
    return installation_stores(Settings(slack_client_id=CLIENT_ID), library)[0]


def _state(library: Library) -> dict[str, Any]:
    def comparable(rows: list[dict[str, Any]]) -> list[str]:
        return sorted(repr(sorted((k, v) for k, v in r.items() if v is not None)) for r in rows)

    state = {
        f"{team}.{name}.{table}": comparable(rows)
        for team in ("", "T0OTHER")
        for name in STATE
        for table, rows in getattr(library.for_team(team), name).export().items()
    }
    digests = library.channel_digests.export()["channel_digests"]
    fetched = library.catalog.fetched_records()
    return state | {"channel_digests": comparable(digests), "fetched": comparable(fetched)}


def test_db_upgrade_makes_the_schema_once_and_says_so(tmp_path: Path, database: str) -> None:
    first = run_papers_bot(tmp_path, "db", "upgrade", DATABASE_URL=database)
    assert first.returncode == 0, first.stderr
    assert "upgraded from version 0" in first.stdout
    again = run_papers_bot(tmp_path, "db", "upgrade", DATABASE_URL=database)
    assert again.returncode == 0, again.stderr
    assert "already up to date" in again.stdout


def test_db_upgrade_without_a_database_says_what_to_set(tmp_path: Path) -> None:
    done = run_papers_bot(tmp_path, "db", "upgrade")
    assert done.returncode == 2
    assert "DATABASE_URL" in done.stderr
    wrong = run_papers_bot(tmp_path, "db", "upgrade", DATABASE_URL="mysql://x@y/z")
    assert wrong.returncode == 2
    assert "must be a PostgreSQL URL" in wrong.stderr


def test_db_copy_moves_a_library_into_postgresql_and_back_without_loss(
    tmp_path: Path, database: str
) -> None:
    source = _stateful_library(tmp_path / "files")
    copy = ("db", "copy")
    there = run_papers_bot(
        tmp_path, *copy, "--from", str(source.data_dir), "--to", database, SLACK_CLIENT_ID=CLIENT_ID
    )
    assert there.returncode == 0, there.stdout + there.stderr
    assert f"papers: {len(source):,} added" in there.stdout
    in_db = Library(tmp_path / "index", sample_data=False, database_url=database)
    assert in_db.papers() == source.papers()
    assert in_db.catalog.listings() == source.catalog.listings()
    assert _state(in_db) == _state(source)
    assert [p for p, _ in in_db.saves.of_user("U1")] == ["2408.08338"]
    assert [p for p, _ in in_db.for_team("T0OTHER").saves.of_user("U1")] == ["2503.10632"]
    assert in_db.teams() == ["", "T0OTHER"]
    moved = in_db.channel_digests.get("T0OTHER", "C9") or {}
    assert (moved["zone"], moved["topic"], moved["weekday"]) == ("Europe/Berlin", "cat:cs.CV", 0)
    figures = in_db.get("2408.08338")
    assert figures is not None and (figures.citations, figures.venue) == (321, "ICLR")
    assert in_db.for_team("T0OTHER").citation_alerts.seen("U1") == {"a" * 40}
    bot = installations(in_db).find_bot(enterprise_id=None, team_id="T0OTHER")
    assert bot is not None and bot.bot_token == "xoxb-other"

    again = run_papers_bot(
        tmp_path, *copy, "--from", str(source.data_dir), "--to", database, SLACK_CLIENT_ID=CLIENT_ID
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "papers: 0 added" in again.stdout
    assert all(" 0 added" in line for line in again.stdout.splitlines())
    seq = in_db.catalog.last_seq()

    back = tmp_path / "back"
    home = run_papers_bot(
        tmp_path, *copy, "--from", database, "--to", str(back), SLACK_CLIENT_ID=CLIENT_ID
    )
    assert home.returncode == 0, home.stdout + home.stderr
    returned = Library(back, sample_data=False)
    assert returned.papers() == source.papers()
    assert _state(returned) == _state(source)
    assert "installations: 1 added, 1 in the source" in home.stdout
    back_bot = installations(returned).find_bot(enterprise_id=None, team_id="T0OTHER")
    assert back_bot is not None and back_bot.bot_token == "xoxb-other"
    assert in_db.catalog.last_seq() == seq  # reading the database changed nothing there


def test_db_copy_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    missing = run_papers_bot(tmp_path, "db", "copy", "--from", "nowhere", "--to", "elsewhere")
    assert missing.returncode == 2
    assert "no such data dir" in missing.stderr


def test_database_settings_are_checked_and_the_password_is_a_secret() -> None:
    from bot.config import load_settings

    settings = load_settings({"DATABASE_URL": "postgresql://papers:hunter2@db:5432/papers"})
    assert settings.problems == [] and "hunter2" in settings.secrets()
    assert settings.takeover_seconds == 60
    wrong = load_settings({"DATABASE_URL": "sqlite:///x.db", "PAPERS_TAKEOVER_SECONDS": "0"})
    assert any(p.startswith("DATABASE_URL must be a PostgreSQL URL") for p in wrong.problems)
    assert any(p.startswith("PAPERS_TAKEOVER_SECONDS must be") for p in wrong.problems)
