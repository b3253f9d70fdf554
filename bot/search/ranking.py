"""Query groups and filters as tantivy queries: the ranking rules, written once.

- A term scores once, BM25 over the paper's weighted text (`documents.REPEATS`).
- An alternative of several terms (hyphen parts, an acronym's long form) needs all of them and
  scores their mean; a group scores its best alternative (a disjunction-max).
- A paper matching every group ranks above one matching some (`all_groups`), then by score;
  equal scores go to more upvotes, then the newer paper.
- Filters (`since:`, `author:`, quoted phrases) narrow without scoring.
"""

from __future__ import annotations

import re

import tantivy
from tantivy import Occur, Query

from bot.search.analyzer import analyze, phrase_offsets
from bot.search.documents import TITLE_BONUS
from bot.search.expansion import Alternative, Group
from bot.search.index import PaperIndex


def _term(index: PaperIndex, term: str) -> Query | None:
    if not index.has_term(term):
        return None
    query = Query.term_query(index.schema, "text", term)
    if not TITLE_BONUS or not index.searcher.doc_freq("title", term):
        return query
    bonus = Query.boost_query(Query.term_query(index.schema, "title", term), TITLE_BONUS)
    return Query.boolean_query([(Occur.Should, query), (Occur.Should, bonus)])


def alternative_query(index: PaperIndex, alt: Alternative) -> Query | None:
    found = [_term(index, t) for t in alt.terms]
    parts = [p for p in found if p is not None]
    if len(parts) < len(found):
        return None
    query = parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts])
    weight = alt.weight / len(parts)
    return query if weight == 1.0 else Query.boost_query(query, weight)


def group_query(index: PaperIndex, group: Group) -> Query | None:
    options = [
        q for q in (alternative_query(index, a) for a in group.alternatives) if q is not None
    ]
    if group.span:
        spanned = [q for q in (group_query(index, g) for g in group.span) if q is not None]
        if spanned:
            options.append(Query.boolean_query([(Occur.Should, q) for q in spanned]))
    if not options:
        return None
    return options[0] if len(options) == 1 else Query.disjunction_max_query(options)


def groups_query(queries: list[Query], need: int) -> Query:
    """Papers matching at least `need` of the groups, scored by the sum of their groups."""
    if len(queries) == 1:
        return queries[0]
    clauses = [(Occur.Should, q) for q in queries]
    return Query.boolean_query(clauses, minimum_number_should_match=need)


def phrase_query(index: PaperIndex, phrase: str) -> Query | None:
    """The phrase's words next to each other, in order, within one field."""
    offsets = phrase_offsets(phrase)
    if not offsets:
        return None
    if len(offsets) == 1:
        return _term(index, offsets[0][1]) or Query.empty_query()
    words: list[str | tuple[int, str]] = [(offset, term) for offset, term in offsets]
    return Query.phrase_query(index.schema, "text", words)


def author_query(index: PaperIndex, name: str) -> Query:
    """Every word of a name in the authors (a word of 3+ letters may be a name's start)."""
    clauses = []
    for word in analyze(name):
        if index.searcher.doc_freq("authors", word.whole):
            clauses.append((Occur.Must, Query.term_query(index.schema, "authors", word.whole)))
        elif len(word.surface) >= 3 and word.surface.isalnum():
            pattern = re.escape(word.surface) + ".*"
            clauses.append((Occur.Must, Query.regex_query(index.schema, "authors", pattern)))
        else:
            return Query.empty_query()
    return Query.boolean_query(clauses) if clauses else Query.all_query()


def since_query(index: PaperIndex, since: str) -> Query:
    return Query.range_query(
        index.schema, "date", tantivy.FieldType.Integer, int(since.replace("-", "")), None
    )


def filtered(query: Query | None, filters: list[Query]) -> Query:
    """`query` narrowed by `filters`, which never change a score."""
    if not filters:
        return query or Query.all_query()
    clauses = [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters]
    if query is not None:
        clauses.append((Occur.Must, query))
    return Query.boolean_query(clauses)
