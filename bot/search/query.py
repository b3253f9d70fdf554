"""Parsing what people type into `/papers` and `papers-bot search`.

A query is free words plus, optionally: "quoted phrases" (must appear as written),
`author:NAME` or `author:"First Last"`, `since:YYYY[-MM[-DD]]`, `cat:cs.LG` (an arXiv
category), `has:code` (papers with a code link), `sort:cited` (most cited first, by Semantic
Scholar's counts), or an arXiv id / URL, which
goes straight to that paper. Anything odd (empty, punctuation only, huge, unknown syntax) gives
a `ParsedQuery` with a `problem` to tell the user, never an exception.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from bot.models import canonical_id
from bot.search.analyzer import WORD_RE
from bot.text import fold

MAX_QUERY_CHARS = 500  # longer queries are cut here (a pasted abstract is not a query)
MAX_QUERY_WORDS = 32

_BARE_FILTER_RE = re.compile(r'(?i)\b(author|since|cat|has|sort):(?=\s|$|"")')
_FILTER_RE = re.compile(r'(?i)\b(author|since|cat|has|sort):("[^"]*"|\S+)')
_SWITCHES = {"has": {"code"}, "sort": {"cited"}}  # the values `has:` and `sort:` take
_CATEGORY_RE = re.compile(r"[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?")
_PHRASE_RE = re.compile(r'"([^"]+)"|“([^”]+)”')
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class Note:
    """Something to tell the person about their query or its answer; `bot.render.search_text`
    words it. `kind` names what, `value` is the part of the query (or the number) it is about."""

    kind: str
    value: str = ""


@dataclass
class ParsedQuery:
    text: str  # free text left after filters (phrases included, without quotes)
    phrases: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    since: str | None = None
    categories: list[str] = field(default_factory=list)  # `cat:` filters, all must hold
    has_code: bool = False  # `has:code`: only papers with a code link
    sort_cited: bool = False  # `sort:cited`: the matches, most cited first
    paper_id: str | None = None
    problem: str | None = None  # why the query cannot be run (its note says it to the user)
    notes: list[Note] = field(default_factory=list)  # things we changed about the query

    @property
    def has_filters(self) -> bool:
        return bool(
            self.authors or self.since or self.categories or self.has_code or self.sort_cited
        )


def _parse_since(value: str) -> str | None:
    """`2024`, `2024-06` or `2024-06-01` as a real date, YYYY-MM-DD; None otherwise."""
    match = _DATE_RE.match(value)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "1", match.group(3) or "1"
    try:
        return date(int(year), int(month), int(day)).isoformat()  # refuses 2024-02-31
    except ValueError:
        return None


def _visible(text: str) -> str:
    """Soft hyphens and zero-width characters (pasted from PDFs) would split words."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def parse_query(raw: str) -> ParsedQuery:
    text = _visible((raw or "").replace("\x00", " "))
    notes: list[Note] = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(Note("cut-to-chars", str(MAX_QUERY_CHARS)))
    stripped = text.strip()
    if not stripped:
        return ParsedQuery(text="", problem="empty", notes=notes)

    paper_id = canonical_id(stripped)
    if paper_id:
        return ParsedQuery(text="", paper_id=paper_id, notes=notes)

    query = ParsedQuery(text="", notes=notes)
    bare = _BARE_FILTER_RE.search(stripped)
    if bare:
        query.problem = "bad-filter"
        query.notes.append(Note("empty-filter", bare.group(1).lower()))
        return query
    for name, value in _FILTER_RE.findall(stripped):
        value = value.strip('"').strip()
        if name.lower() == "author":
            if value:
                query.authors.append(fold(value))
        elif name.lower() in _SWITCHES:
            if value.lower() not in _SWITCHES[name.lower()]:
                query.problem = "bad-filter"
                query.notes.append(Note(f"not-a-{name.lower()}", value[:40]))
                return query
            query.has_code = query.has_code or name.lower() == "has"
            query.sort_cited = query.sort_cited or name.lower() == "sort"
        elif name.lower() == "cat":
            if not _CATEGORY_RE.fullmatch(value):
                query.problem = "bad-filter"
                query.notes.append(Note("not-a-category", value[:40]))
                return query
            query.categories.append(value)
        else:
            since = _parse_since(value)
            if since and since > date.today().replace(month=12, day=31).isoformat():
                query.problem = "bad-since"
                query.notes.append(Note("future-since", value))
                return query
            if since is None:
                query.problem = "bad-since"
                query.notes.append(Note("not-a-date", value))
                return query
            query.since = since
    rest = _FILTER_RE.sub(" ", stripped)
    query.phrases = [a or b for a, b in _PHRASE_RE.findall(rest) if (a or b).strip()]
    rest = rest.replace('"', " ").replace("“", " ").replace("”", " ")
    found = WORD_RE.findall(rest)
    if len(found) > MAX_QUERY_WORDS:
        found = found[:MAX_QUERY_WORDS]
        query.notes.append(Note("cut-to-words", str(MAX_QUERY_WORDS)))
    query.text = " ".join(found)
    if not query.text and not query.has_filters:
        query.problem = "no-words"
    return query


def split_quoted(text: str) -> list[str]:
    """Shell-like split that never raises on an unbalanced quote."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
