"""A topic: a search that names what a follow alert or a channel's digest is about.

One rule for both: a paper is on the topic when the search finds it by the words (coverage 1.0:
every word of the topic matched, through the same engine as `/papers`: acronyms, typos, word
forms) with a score over `MIN_SCORE`, which keeps one stray mention deep in an abstract out;
a topic of filters only (`cat:cs.CV`, `author:"Yann LeCun"`, a quoted phrase) takes every paper
the filters let through. `A OR B` is on the topic when A or B is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.models import Paper
from bot.search.engine import SearchEngine
from bot.search.query import Note, parse_query

MIN_SCORE = 3.0
MAX_TOPIC_CHARS = 200
_OR = re.compile(r"\s+OR\s+")  # upper case, as in the search boxes people know
# Each alternative is searched among the papers dated since the oldest candidate; this many
# results per candidate leaves room for the older papers of that range that rank above them.
DEPTH_PER_CANDIDATE = 4
MIN_DEPTH = 200


@dataclass(frozen=True)
class TopicProblem:
    """Why a topic can never match a new paper: `reason` (a key `render` words), `detail`."""

    reason: str
    detail: str = ""
    notes: list[Note] = field(default_factory=list)


def alternatives(topic: str) -> list[str]:
    return [part.strip() for part in _OR.split(topic.strip()) if part.strip()]


def topic_problem(engine: SearchEngine, topic: str) -> TopicProblem | None:
    """Why `topic` could never match a new paper; None when it can."""
    if len(topic) > MAX_TOPIC_CHARS:
        return TopicProblem("too_long", f"{len(topic):,} characters, at most {MAX_TOPIC_CHARS}")
    for part in alternatives(topic) or [topic]:
        problem = _part_problem(engine, part)
        if problem is not None:
            return problem
    return None


def _part_problem(engine: SearchEngine, part: str) -> TopicProblem | None:
    parsed = parse_query(part)
    if parsed.paper_id:
        return TopicProblem("one_paper", parsed.paper_id)
    if parsed.problem:
        return TopicProblem("query_problem", notes=list(parsed.notes))
    if not (parsed.text or parsed.authors or parsed.categories or parsed.phrases):
        return TopicProblem("date_only")
    if parsed.text and not engine.has_words(parsed.text):
        return TopicProblem("too_common")
    return None


def topic_matches(
    engine: SearchEngine, topic: str, candidates: Sequence[Paper]
) -> dict[str, float]:
    """The candidates on `topic`, each with its relevance (the search's score)."""
    if not candidates:
        return {}
    wanted = {p.id for p in candidates}
    dates = [p.date for p in candidates]
    oldest = min(d for d in dates if d) if all(dates) else None
    depth = max(MIN_DEPTH, DEPTH_PER_CANDIDATE * len(wanted))
    found: dict[str, float] = {}
    for part in alternatives(topic):
        for paper_id, score in _part_matches(engine, part, oldest, depth).items():
            if paper_id in wanted:
                found[paper_id] = max(score, found.get(paper_id, score))
    return found


def _part_matches(
    engine: SearchEngine, part: str, oldest: str | None, depth: int
) -> dict[str, float]:
    parsed = parse_query(part)
    query = part if parsed.since or oldest is None else f"{part} since:{oldest}"
    # By the words alone: a topic says a paper is about it, not near it.
    response = engine.search(query, limit=depth, meaning=False)
    by_words = bool(parsed.text)
    return {
        r.paper.id: r.score
        for r in response.results
        if not by_words or (r.coverage == 1.0 and r.score >= MIN_SCORE)
    }
