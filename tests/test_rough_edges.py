"""The rough edges a new user hit (issue: production-ready on one machine), each reproduced."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from bot import render
from bot.config import load_settings
from bot.library import Library
from bot.models import Paper
from bot.render.search_text import message_text
from bot.search import SearchEngine
from tests.conftest import run_papers_bot


def test_unicode_digits_are_a_clear_problem_not_a_crash() -> None:
    settings = load_settings({"PORT": "²", "PAPERS_DIGEST_SIZE": "²"})
    assert any(p.startswith("PORT") for p in settings.problems)
    assert any(p.startswith("PAPERS_DIGEST_SIZE") for p in settings.problems)


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`papers-bot search kan | head -c 1`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "search", "--limit", "100", "model"],
        cwd=tmp_path,
        env={"PAPERS_DATA_DIR": str(tmp_path / "data"), "PATH": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(1)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_days_before_arxiv_are_refused_not_overflowed(tmp_path: Path) -> None:
    for args in (
        ("fetch", "--date", "0001-01-01", "--days", "2"),
        ("digest", "--channel", "C0PAPERS", "--date", "0001-01-01", "--dry-run"),
    ):
        result = run_papers_bot(tmp_path, *args, PAPERS_DATA_DIR=str(tmp_path / "data"))
        assert result.returncode == 2, result.stderr
        assert "before arXiv began" in result.stderr and "Traceback" not in result.stderr


def test_a_query_that_cannot_run_exits_2_even_with_json(tmp_path: Path) -> None:
    result = run_papers_bot(
        tmp_path, "search", "--json", "since:abc", PAPERS_DATA_DIR=str(tmp_path / "data")
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "since:abc" in result.stderr


def test_real_words_are_never_corrected_into_other_words(engine: SearchEngine) -> None:
    for word in ("unbalanced", "untrained", "trending"):
        matched = [label for r in engine.search(word, 10).results for label in r.matched]
        assert not any("→" in label for label in matched), (word, matched)
    kolmogorv = engine.search("kolmogorv", 3).results
    assert kolmogorv and "kolmogorv → kolmogorov" in kolmogorv[0].matched  # typos still are


def test_soft_hyphens_and_zero_width_spaces_do_not_split_words(engine: SearchEngine) -> None:
    plain = [r.paper.id for r in engine.search("attention", 5).results]
    assert [r.paper.id for r in engine.search("atten\u00adtion", 5).results] == plain
    assert [r.paper.id for r in engine.search("atten\u200btion", 5).results] == plain


def test_filters_without_a_value_or_with_an_impossible_date_are_explained(
    engine: SearchEngine,
) -> None:
    for query, says in (
        ("author:", "needs a name"),
        ("since:", "needs a date"),
        ("since:2024-02-31", "is not a date"),
        ("since:9999", "in the future"),
    ):
        response = engine.search(query)
        assert not response.results and says in message_text(response), query
    assert "quotes" not in message_text(engine.search("kan since:2026-11-01"))


def test_matched_names_each_word_once(engine: SearchEngine) -> None:
    [first, *_] = engine.search("kan kan KAN", 5).results
    assert first.matched.count("kan") <= 1 and len(first.matched) == len(set(first.matched))


def test_the_reading_list_is_newest_first_within_one_second(tmp_path: Path) -> None:
    library = Library(tmp_path / "data", clock=lambda: "2026-11-26T10:00:00Z")
    for paper_id in ("2408.08338", "2503.10632", "2607.28582"):
        library.saves.add("U1", paper_id)
    assert [p for p, _ in library.saves.of_user("U1")] == ["2607.28582", "2503.10632", "2408.08338"]


def test_one_paper_is_one_paper_everywhere() -> None:
    paper = Paper(id="2408.08338", title="One", abstract="A.", authors=["A B"], listed="2026-07-31")
    texts = [
        render.saved_list_message([paper], 1, ["bookmark"]),
        render.trending_message("2026-07-31", [paper]),
        render.digest_header_message(date(2026, 7, 31), [paper]),
        render.alert_message([("kan", [paper])]),
    ]
    for message in texts:
        shown = message["text"] + json.dumps(message["blocks"], ensure_ascii=False)
        assert "1 papers" not in shown and "1 new papers" not in shown, shown


def test_tex_quotes_ties_and_subscripts_reach_slack_as_text() -> None:
    paper = Paper(
        id="2408.08338",
        title="The ``best'' `model' with Fid_+ and ~50% less",
        abstract="Fig.~3 shows it.",
    )
    card = json.dumps(render.card_blocks(paper, render.CardOptions(full=True)), ensure_ascii=False)
    assert "“best”" in card and "‘model’" in card and "Fid₊" in card
    assert "`" not in card.replace("`code`", "") and "~" not in card


def test_each_command_checks_only_the_settings_it_uses(tmp_path: Path) -> None:
    env = {"PAPERS_DATA_DIR": str(tmp_path / "data"), "PAPERS_TIMEZONE": "Mars/Olympus"}
    assert run_papers_bot(tmp_path, "search", "kan", **env).returncode == 0
    digest = run_papers_bot(tmp_path, "digest", "--channel", "C0PAPERS", "--dry-run", **env)
    assert digest.returncode == 2 and "PAPERS_TIMEZONE" in digest.stderr
    assert load_settings({"PAPERS_TIMEZONE": "utc"}).timezone == "UTC"
    assert load_settings({"PAPERS_TIMEZONE": "europe/paris"}).problems == []


def test_a_data_dir_that_is_a_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    result = run_papers_bot(tmp_path, "search", "kan", PAPERS_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 1
    assert "is a file, not a folder" in result.stderr and "File exists" not in result.stderr


def test_digest_needs_no_signing_secret_and_checks_its_channel(tmp_path: Path) -> None:
    result = run_papers_bot(
        tmp_path,
        "digest",
        "--channel",
        "nonsense",
        SLACK_BOT_TOKEN="xoxb-x",
        PAPERS_DATA_DIR=str(tmp_path / "data"),
    )
    assert result.returncode == 2 and "--channel: 'nonsense' is not a channel id" in result.stderr
    assert "SLACK_SIGNING_SECRET" not in result.stderr
