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
    empty_files: list[str] = field(default_factory=list)  # read, but held no usable paper

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


def unreadable(path: Path) -> str | None:
    """Why `path` is not a file we can import (missing, a folder, binary), or None."""
    if not path.exists():
        return f"{path}: no such file"
    if path.is_dir():
        return f"{path}: a folder, not a file (name the files in it, e.g. {path}/*.json)"
    try:
        head = path.read_bytes()[:65536]
    except OSError as error:
        return f"{path}: cannot be read ({error.strerror or error})"
    try:
        if b"\0" in head:
            raise UnicodeDecodeError("utf-8", head, 0, 1, "a NUL byte")
        head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the 64 KB boundary
            return f"{path}: not a text file (JSON or JSONL expected)"
    return None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as error:
        raise ValueError("nested too deeply to be a paper record") from error


def read_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, row) for every row of a file; a broken file or line is yielded as an error."""
    try:
        text = path.read_text("utf-8-sig")  # a byte-order mark is not part of the JSON
    except (OSError, UnicodeDecodeError) as error:
        yield str(path), RowError(f"cannot read the file: {error}")
        return
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and not _looks_like_jsonl(text)):
        try:
            rows = _loads(text)
        except ValueError as error:
            yield str(path), RowError(f"not valid JSON: {error}")
            return
        if isinstance(rows, dict):  # one pretty-printed record
            yield str(path), rows
            return
        for number, row in enumerate(rows, start=1):
            yield f"{path} row {number}", row
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path} line {number}", _loads(line)
        except ValueError as error:
            yield f"{path} line {number}", RowError(f"not valid JSON: {error}")


def _looks_like_jsonl(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    try:
        _loads(first)
    except ValueError:
        return False
    return True


def parse_files(paths: Iterable[str | Path]) -> ImportReport:
    report = ImportReport()
    for path in map(Path, paths):
        source = f"import:{path.name}"
        before = len(report.papers)
        for where, row in read_rows(path):
            if isinstance(row, RowError):
                report.skipped.append(Skip(where, str(row)))
                continue
            try:
                report.papers.append(parse_record(row, source))
            except RowError as error:
                report.skipped.append(Skip(where, str(error)))
            except (ValueError, TypeError, RecursionError) as error:
                # A shape no rule above foresaw: the row is skipped, the import goes on.
                report.skipped.append(Skip(where, f"unusable row ({type(error).__name__})"))
        if len(report.papers) == before:
            report.empty_files.append(str(path))
    return report


def import_files(library: Library, paths: Iterable[str | Path]) -> ImportReport:
    report = parse_files(paths)
    report.result = library.upsert_many(report.papers)
    return report
