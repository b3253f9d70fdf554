"""arXiv API responses (Atom XML) as papers, defensively.

Parsed with defusedxml's ElementTree (an XML parser that refuses entity bombs and external
entities), never with regexes. Each entry maps to the library's fields: the id without its
version, the title and abstract with the submission's line breaks folded, the authors, the
first-version date, the primary category first among the categories, the author comment,
DOI and journal reference. An entry that is not a paper (the API's `Error` entry, a missing
id or title) is a `RowError` for that entry alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from bot.models import Paper, canonical_id
from bot.sources.hf import RowError

ATOM, ARXIV, OPENSEARCH = (
    "{http://www.w3.org/2005/Atom}",
    "{http://arxiv.org/schemas/atom}",
    "{http://a9.com/-/spec/opensearch/1.1/}",
)
SOURCE = "arxiv"


class FeedError(ValueError):
    """The body is not an arXiv Atom feed (or is an API error): the message says which."""


@dataclass
class Feed:
    total: int  # opensearch:totalResults: every match of the query, not just this page
    papers: list[Paper] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each bad entry was left out
    entries: int = 0


def parse_feed(body: bytes | str) -> Feed:
    """The papers of one response page; an API error feed raises FeedError with its text."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise FeedError(f"not an Atom feed: {error}") from error
    if root.tag != f"{ATOM}feed":
        raise FeedError(f"not an Atom feed: the root is {root.tag!r}")
    entries = root.findall(f"{ATOM}entry")
    if len(entries) == 1 and _text(entries[0], "title") == "Error":
        raise FeedError(f"arXiv answered with an error: {_text(entries[0], 'summary')}")
    feed = Feed(total=_whole(root.findtext(f"{OPENSEARCH}totalResults")), entries=len(entries))
    for number, entry in enumerate(entries, start=1):
        try:
            feed.papers.append(parse_entry(entry))
        except RowError as error:
            feed.skipped.append(f"entry {number}: {error}")
    return feed


def parse_entry(entry: Any) -> Paper:
    raw_id = (_text(entry, "id") or "").rsplit("/abs/", 1)[-1]
    paper_id = canonical_id(raw_id)
    if paper_id is None:
        raise RowError(f"no arXiv id in {raw_id[:80]!r}")
    title = _text(entry, "title")
    if not title:
        raise RowError(f"{paper_id} has no title")
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
    first = primary.get("term") if primary is not None else None
    categories = list(dict.fromkeys([t for t in [first, *terms] if t]))
    return Paper(
        id=paper_id,
        title=title,
        abstract=_text(entry, "summary") or "",
        authors=[
            a for a in (_text(author, "name") for author in entry.findall(f"{ATOM}author")) if a
        ],
        published=(_text(entry, "published") or "")[:10] or None,
        source=SOURCE,
        categories=categories,
        comment=_text(entry, "comment", ARXIV),
        doi=_text(entry, "doi", ARXIV),
        journal_ref=_text(entry, "journal_ref", ARXIV),
    )


def _name(author: Any) -> str | None:
    return _text(author, "name")


def _text(element: Any, name: str, namespace: str = ATOM) -> str | None:
    """An element's text with the submission's line breaks and double spaces folded."""
    found = element.find(f"{namespace}{name}")
    if found is None or found.text is None:
        return None
    return " ".join(found.text.split()) or None


def _whole(text: str | None) -> int:
    try:
        return max(int(text or 0), 0)
    except ValueError:
        return 0
