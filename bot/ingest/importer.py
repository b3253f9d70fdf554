"""`papers-bot import`: Daily Papers API responses, JSON arrays of paper records, and JSONL.

Every file is read whole before anything is written, each row becomes a `Paper` or a skip with
its reason (file and row or line number), and all good rows land in one catalog write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.library import Library, UpsertResult
from bot.models import Paper, canonical_id
from bot.sources.hf import (
    RowError,
    as_count,
    as_date,
    as_keywords,
    as_url,
    clean_text,
    is_daily_row,
    parse_daily_row,
)


@dataclass
class Skip:
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class ImportReport:
    papers: list[Paper] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    result: UpsertResult = field(default_factory=UpsertResult)

    def summary(self) -> str:
        r = self.result
        return (
            f"added {len(r.added)}, updated {len(r.updated)}, "
            f"unchanged {len(r.unchanged)}, skipped {len(self.skipped)}"
        )


def parse_record(obj: Any, source: str) -> Paper:
    """A paper record: our own format (`id`, `abstract`, ...) or the seed format (`arxiv_id`)."""
    if is_daily_row(obj):
        return parse_daily_row(obj, source)
    if not isinstance(obj, dict):
        raise RowError(f"row is {type(obj).__name__}, expected an object")
    raw_id = obj.get("id") or obj.get("arxiv_id") or obj.get("url")
    paper_id = canonical_id(raw_id) if isinstance(raw_id, str) else None
    if not paper_id:
        raise RowError(f"no usable arXiv id ({str(raw_id)[:40]!r})")
    authors = obj.get("authors") or []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise RowError("authors is not a list of names")
    return Paper(
        id=paper_id,
        title=clean_text(obj.get("title"), "title", required=True),
        abstract=clean_text(obj.get("abstract", obj.get("summary")), "abstract"),
        authors=[" ".join(a.split()) for a in authors if a.strip()],
        published=as_date(obj.get("published"), "published"),
        listed=as_date(obj.get("listed"), "listed"),
        upvotes=as_count(obj.get("upvotes"), "upvotes") or 0,
        comments=as_count(obj.get("comments"), "comments") or 0,
        github_repo=as_url(obj.get("github_repo"), "github_repo"),
        github_stars=as_count(obj.get("github_stars"), "github_stars"),
        project_page=as_url(obj.get("project_page"), "project_page"),
        organization=clean_text(obj.get("organization"), "organization") or None,
        ai_summary=clean_text(obj.get("ai_summary"), "ai_summary") or None,
        ai_keywords=as_keywords(obj.get("ai_keywords")),
        source=clean_text(obj.get("source"), "source") or source,
        first_seen=obj.get("first_seen") if isinstance(obj.get("first_seen"), str) else None,
    )


def read_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, row) for every row of a file; a broken file or line is yielded as an error."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        yield str(path), RowError(f"cannot read the file: {error}")
        return
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as error:
            yield str(path), RowError(f"not valid JSON: {error}")
            return
        for number, row in enumerate(rows, start=1):
            yield f"{path} row {number}", row
        return
    if stripped.startswith("{") and not _looks_like_jsonl(text):
        yield str(path), RowError("a single JSON object; expected an array or JSONL")
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path} line {number}", json.loads(line)
        except ValueError as error:
            yield f"{path} line {number}", RowError(f"not valid JSON: {error}")


def _looks_like_jsonl(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    try:
        json.loads(first)
    except ValueError:
        return False
    return True


def parse_files(paths: Iterable[str | Path]) -> ImportReport:
    report = ImportReport()
    for path in map(Path, paths):
        source = f"import:{path.name}"
        for where, row in read_rows(path):
            if isinstance(row, RowError):
                report.skipped.append(Skip(where, str(row)))
                continue
            try:
                report.papers.append(parse_record(row, source))
            except RowError as error:
                report.skipped.append(Skip(where, str(error)))
    return report


def import_files(library: Library, paths: Iterable[str | Path]) -> ImportReport:
    report = parse_files(paths)
    report.result = library.upsert_many(report.papers)
    return report
