"""Parsing of Hugging Face Daily Papers rows into `Paper`s.

The shape follows the real responses in tests/data/hf_fixtures (see SOURCES.md there): a row holds
`paper` (id, title, summary = abstract, authors, upvotes, publishedAt = arXiv date,
submittedOnDailyAt = listing day, and optional ai_summary, ai_keywords, githubRepo, githubStars,
projectPage, organization) plus outer `numComments`. Optional fields are absent, not null.
Parsing is defensive: a row we cannot use raises `RowError` with the reason.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from bot.models import Paper, canonical_id
from bot.text import whole_number


class RowError(ValueError):
    """A row that cannot become a paper; the message says why."""


_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def clean_text(value: Any, name: str, required: bool = False) -> str:
    """Whitespace-normalised text; wrong types are an error, absent optional text is ''."""
    if value is None:
        if required:
            raise RowError(f"missing {name}")
        return ""
    if not isinstance(value, str):
        raise RowError(f"{name} is {type(value).__name__}, expected text")
    text = " ".join(value.split())
    if required and not text:
        raise RowError(f"empty {name}")
    return text


def as_date(value: Any, name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not (match := _DATE.match(value)):
        raise RowError(f"{name} is not a date: {str(value)[:40]!r}")
    try:
        date.fromisoformat(match.group(1))  # 2024-13-45 has the shape, not the meaning
    except ValueError as error:
        raise RowError(f"{name} is not a real date: {match.group(1)!r}") from error
    return match.group(1)


def as_count(value: Any, name: str) -> int | None:
    """A count; "12" is read as 12 (some exports quote numbers), NaN and Infinity are refused."""
    if value is None:
        return None
    if isinstance(value, str) and whole_number(value) is not None:
        value = whole_number(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"{name} is not a count: {str(value)[:40]!r}")
    if not math.isfinite(value) or value < 0:
        raise RowError(f"{name} is not a count: {str(value)[:40]!r}")
    return int(value)


def as_url(value: Any, name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value.strip()):
        raise RowError(f"{name} is not a URL: {str(value)[:60]!r}")
    return value.strip()


def as_authors(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError("authors is not a list")
    names = []
    for author in value:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            names.append(" ".join(name.split()))
    return names


def as_keywords(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError("ai_keywords is not a list")
    return [" ".join(k.split()) for k in value if isinstance(k, str) and k.strip()]


def as_organization(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("fullname") or value.get("name")
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise RowError("organization is not text")
    return " ".join(value.split())


def parse_paper_object(paper: Any, source: str) -> Paper:
    """One `paper` object, as in a Daily Papers row or `GET /api/papers/{id}`."""
    if not isinstance(paper, dict):
        raise RowError("no paper object")
    raw_id = paper.get("id")
    paper_id = canonical_id(raw_id) if isinstance(raw_id, str) else None
    if not paper_id:
        raise RowError(f"no usable arXiv id ({str(raw_id)[:40]!r})")
    return Paper(
        id=paper_id,
        title=clean_text(paper.get("title"), "title", required=True),
        abstract=clean_text(paper.get("summary"), "summary"),
        authors=as_authors(paper.get("authors")),
        published=as_date(paper.get("publishedAt"), "publishedAt"),
        listed=as_date(paper.get("submittedOnDailyAt"), "submittedOnDailyAt"),
        upvotes=as_count(paper.get("upvotes"), "upvotes") or 0,
        github_repo=as_url(paper.get("githubRepo"), "githubRepo"),
        github_stars=as_count(paper.get("githubStars"), "githubStars"),
        project_page=as_url(paper.get("projectPage"), "projectPage"),
        organization=as_organization(paper.get("organization")),
        ai_summary=clean_text(paper.get("ai_summary"), "ai_summary") or None,
        ai_keywords=as_keywords(paper.get("ai_keywords")),
        source=source,
    )


def parse_daily_row(row: Any, source: str = "hf-daily") -> Paper:
    """One row of `GET /api/daily_papers`."""
    if not isinstance(row, dict):
        raise RowError(f"row is {type(row).__name__}, expected an object")
    paper = parse_paper_object(row.get("paper"), source)
    comments = as_count(row.get("numComments"), "numComments")
    if comments is not None:
        paper.comments = comments
    if paper.organization is None:
        paper.organization = as_organization(row.get("organization"))
    return paper


def is_daily_row(row: Any) -> bool:
    return isinstance(row, dict) and isinstance(row.get("paper"), dict)
