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


def test_one_bad_row_never_costs_the_good_ones(empty_library: Library, tmp_path: Path) -> None:
    """NaN and Infinity (Python's json writes them), quoted counts, impossible dates and ids,
    and a file nested 200,000 deep: each a skip with its reason, or a coerced value."""
    rows = [
        {"id": "2501.00001", "title": "Good", "upvotes": "12"},
        {"id": "2501.00002", "title": "Not a number", "upvotes": float("nan")},
        {"id": "2501.00003", "title": "Infinite", "upvotes": float("inf")},
        {"id": "2501.00004", "title": "Impossible day", "published": "2024-13-45"},
        {"id": "2413.00001", "title": "Month 13"},
        {"id": "0000.00000", "title": "Nothing"},
        {"id": "2501.00005", "title": "Also good", "comments": 3},
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))  # allow_nan: NaN and Infinity as Python writes them
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    report = import_files(empty_library, [path, deep])
    assert sorted(report.result.added) == ["2501.00001", "2501.00005"]
    assert empty_library.get("2501.00001").upvotes == 12
    reasons = {s.where: s.reason for s in report.skipped}
    assert set(reasons) == {f"{path} row {n}" for n in (2, 3, 4, 5, 6)} | {str(deep)}
    assert "not a real date" in reasons[f"{path} row 4"]
    assert "no usable arXiv id" in reasons[f"{path} row 5"]


def test_a_bom_and_one_pretty_printed_record_are_read(
    empty_library: Library, tmp_path: Path
) -> None:
    path = tmp_path / "one.json"
    record = {"id": "2501.00001", "title": "One", "abstract": "A."}
    path.write_text("\ufeff" + json.dumps(record, indent=2), "utf-8")
    report = import_files(empty_library, [path])
    assert report.result.added == ["2501.00001"] and not report.skipped


def test_two_rows_for_one_paper_in_one_file_reimport_as_unchanged(
    empty_library: Library, tmp_path: Path
) -> None:
    path = tmp_path / "twice.jsonl"
    path.write_text(
        '{"id": "2501.00001", "title": "First title", "upvotes": 3}\n'
        '{"id": "2501.00001", "title": "Second title", "upvotes": 2}\n'
    )
    first = import_files(empty_library, [path])
    assert first.result.added == ["2501.00001"]
    assert empty_library.get("2501.00001").title == "Second title"
    assert empty_library.get("2501.00001").upvotes == 3
    again = import_files(empty_library, [path])
    assert again.summary() == "added 0, updated 0, unchanged 2, skipped 0"
