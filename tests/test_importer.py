"""`papers-bot import` semantics on real files: formats, bad rows, idempotent upserts."""

from __future__ import annotations

import json
from pathlib import Path

from bot.ingest.importer import import_files
from bot.library import Library


def test_daily_papers_responses_import_and_reimport_changes_nothing(
    empty_library: Library, fixtures: Path
) -> None:
    files = sorted((fixtures / "hf_fixtures").glob("*.json"))
    first = import_files(empty_library, files)
    assert len(first.result.added) == 63
    assert not first.skipped
    again = import_files(empty_library, files)
    assert (len(again.result.added), len(again.result.updated)) == (0, 0)
    assert again.summary() == "added 0, updated 0, unchanged 68, skipped 0"


def test_later_capture_updates_counts(empty_library: Library, fixtures: Path) -> None:
    fixtures = fixtures / "hf_fixtures"
    import_files(
        empty_library, [fixtures / "BuiVannn__All-News-AI__tests__fixtures__hf_daily_papers.json"]
    )
    assert empty_library.get("2607.28582").upvotes == 17
    report = import_files(
        empty_library, [fixtures / "scout-cpu__personal-news-feed__tests__fixtures__hf_papers.json"]
    )
    assert "2607.28582" in report.result.updated
    assert empty_library.get("2607.28582").upvotes == 19
    assert empty_library.get("2607.28582").listed == "2026-07-31"


def test_fields_from_a_daily_row(empty_library: Library, fixtures: Path) -> None:
    import_files(empty_library, sorted((fixtures / "hf_fixtures").glob("*.json")))
    paper = empty_library.get("2607.26654")
    assert paper.published == "2026-07-29" and paper.listed == "2026-08-03"
    assert paper.organization == "University of Oxford"
    assert paper.github_repo == "https://github.com/desBugger/constitutional-mt"
    assert paper.comments == 1
    with_summary = empty_library.get("2606.00467")
    assert with_summary.ai_summary and with_summary.ai_keywords


def test_seed_jsonl_imports(empty_library: Library, fixtures: Path) -> None:
    report = import_files(empty_library, [fixtures / "seed_papers" / "papers.jsonl"])
    assert len(report.result.added) == 48
    assert empty_library.get("2408.08338").published == "2024-08-15"


def test_bad_rows_are_skipped_with_their_reason_and_the_rest_kept(
    empty_library: Library, tmp_path: Path, fixtures: Path
) -> None:
    rows = json.loads(
        (
            fixtures
            / "hf_fixtures"
            / "DiQu1997__NewsAssistant__tests__fixtures__hf_daily_papers.json"
        ).read_text()
    )
    broken = [
        rows[0],
        {"paper": {"title": "no id"}},
        {"paper": {"id": "2607.00001", "title": 42}},
        {"paper": {"id": "2607.00002", "title": "ok", "upvotes": "many"}},
        "not an object",
        {"paper": {"id": "2607.28229v3", "title": "Versioned id", "upvotes": 1}},
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(broken))
    report = import_files(empty_library, [path])
    assert sorted(report.result.added) == ["2607.26654", "2607.28229"]
    reasons = [str(s) for s in report.skipped]
    assert len(reasons) == 4
    assert f"{path} row 2: no usable arXiv id" in reasons[0]
    assert "title is int" in reasons[1]
    assert "upvotes is not a count" in reasons[2]
    assert "row is str" in reasons[3]


def test_jsonl_with_a_broken_line_names_the_line(empty_library: Library, tmp_path: Path) -> None:
    path = tmp_path / "papers.jsonl"
    path.write_text(
        '{"id": "2501.00001", "title": "One"}\n'
        '{"id": "2501.00002", "title": "Tw\n'
        '{"arxiv_id": "arXiv:2501.00003v2", "title": "Three", "abstract": "A."}\n'
    )
    report = import_files(empty_library, [path])
    assert sorted(report.result.added) == ["2501.00001", "2501.00003"]
    assert [str(s).split(":")[0] for s in report.skipped] == [f"{path} line 2"]


def test_unreadable_and_missing_files_are_skips_not_crashes(
    empty_library: Library, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text('[{"paper": ')
    report = import_files(empty_library, [garbage, tmp_path / "missing.json"])
    assert len(report.skipped) == 2
    assert report.summary() == "added 0, updated 0, unchanged 0, skipped 2"
