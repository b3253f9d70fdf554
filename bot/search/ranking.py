"""Query groups and filters as tantivy queries: the ranking rules, written once.

- A term scores once, BM25 over the paper's weighted text (`documents.REPEATS`).
- An alternative of several terms (hyphen parts, an acronym's long form) needs all of them and
  scores their mean; a group scores its best alternative (a disjunction-max).
- A paper matching every group ranks above one matching some (`all_groups`), then by score;
  equal scores go to more upvotes, then the newer paper, then the first in the catalog.
- Filters (`since:`, `author:`, quoted phrases) narrow without scoring.
"""

from __future__ import annotations

import re

import tantivy
from tantivy import Occur, Query

from bot.search.analyzer import analyze, phrase_offsets
from bot.search.documents import TITLE_BONUS, category_term
from bot.search.expansion import Alternative, Group
from bot.search.index import PaperIndex

COMMON = 0.1  # share of papers above which a word is too common to need for an alternative


def _term(index: PaperIndex, term: str) -> Query | None:
    return Query.term_query(index.schema, "text", term) if index.has_term(term) else None


def alternative_query(index: PaperIndex, alt: Alternative) -> Query | None:
    if len(alt.terms) > 1 and min(index.doc_freq(t) for t in alt.terms) > COMMON * len(index):
        # Only common words (a long form like "large language model" at a million papers):
        # as a bag of words it says little, and intersecting such lists is the slowest query.
        return None
    found = [_term(index, t) for t in alt.terms]
    parts = [p for p in found if p is not None]
    if len(parts) < len(found):
        return None
    query = parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts])
    weight = alt.weight / len(parts)
    return query if weight == 1.0 else Query.boost_query(query, weight)


def group_query(index: PaperIndex, group: Group, whole: bool = False) -> Query | None:
    """The group's best alternative. A long form typed out (`group.span`) is matched by its
    acronym or by its words: with `whole`, by all of them (a paper that matches every group
    of a query has each word of a long form typed in it); without, by any (each scores)."""
    options = [
        q for q in (alternative_query(index, a) for a in group.alternatives) if q is not None
    ]
    if group.span:
        spanned = [group_query(index, g, whole) for g in group.span]
        words = [q for q in spanned if q is not None]
        if whole and len(words) == len(spanned):
            options.append(Query.boolean_query([(Occur.Must, q) for q in words]))
        elif words and not whole:
            options.append(Query.boolean_query([(Occur.Should, q) for q in words]))
    if not options:
        return None
    return options[0] if len(options) == 1 else Query.disjunction_max_query(options)


def groups_query(queries: list[Query], need: int) -> Query:
    """Papers matching at least `need` of the groups, scored by the sum of their groups."""
    if len(queries) == 1:
        return queries[0]
    if need == len(queries):
        # Every group: an intersection, which tantivy leapfrogs through (a minimum-should-match
        # disjunction visits every paper of every list). Same papers, same scores; faster
        # on multi-word queries (`python -m bench.scale`).
        return Query.boolean_query([(Occur.Must, q) for q in queries])
    clauses = [(Occur.Should, q) for q in queries]
    return Query.boolean_query(clauses, minimum_number_should_match=need)


def ranked_query(
    index: PaperIndex, groups: list[Group], whole: bool, filters: list[Query]
) -> Query | None:
    """With `whole`, the papers matching every group (a typed long form by its acronym or all
    its words), else those matching any group; scored by the sum of their groups plus
    `TITLE_BONUS` x the BM25 of the query's words in the paper's title. None: no paper can.

    The bonus is one optional clause over the title field, whose posting lists are short (a
    bonus inside every word's clause would make each word a union of two lists, which tantivy
    cannot leapfrog through: 3x slower). Where any one group is enough, a paper with a query
    word in its title has it in its text too, so it matches that word's group: the bonus is
    then one more optional clause of the union, the same papers with the same scores, which
    tantivy walks twice as fast as a required query beside an optional one (measured at a
    million papers: `models` 21 ms -> 11 ms). Not so where a long form needs all its words,
    nor beside `filters` (narrowing papers by `filtered`): tantivy jumps through a union to a
    filter's few papers more slowly than through a required query (`author:` 12% slower).
    """
    found = [group_query(index, g, whole) for g in groups]
    queries = [q for q in found if q is not None]
    if not queries or (whole and len(queries) < len(found)):
        return None
    need = len(queries) if whole else 1
    bonus = _title_bonus(index, groups)
    if need == 1 and not filters and not (whole and any(g.span for g in groups)):
        clauses = [(Occur.Should, q) for q in queries]
        if bonus is not None:
            clauses.append((Occur.Should, bonus))
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)
    query = groups_query(queries, need)
    if bonus is not None:
        query = Query.boolean_query([(Occur.Must, query), (Occur.Should, bonus)])
    return filtered(query, filters)


def _title_bonus(index: PaperIndex, groups: list[Group]) -> Query | None:
    terms = {t for g in groups for a in _all_alternatives(g) if len(a.terms) == 1 for t in a.terms}
    titles = [
        (Occur.Should, Query.term_query(index.schema, "title", t))
        for t in sorted(terms)
        if index.searcher.doc_freq("title", t)
    ]
    return Query.boost_query(Query.boolean_query(titles), TITLE_BONUS) if titles else None


def _all_alternatives(group: Group) -> list[Alternative]:
    found = list(group.alternatives)
    for sub in group.span:
        found += _all_alternatives(sub)
    return found


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


def category_query(index: PaperIndex, category: str) -> Query:
    return Query.term_query(index.schema, "categories", category_term(category))


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


LABEL_BITS = 20  # alternatives told apart by one `labelled` search (float32 is exact to 2**24)


def labelled(index: PaperIndex, nums: list[int], queries: list[Query]) -> Query:
    """The papers `nums`, each scored by which of `queries` it matches as a bit mask: query i
    adds 2**i. What a handful of shown papers matched, in one search instead of one each.
    Each clause is its query among `nums` (an intersection led by ten papers: an optional
    clause beside a required one would walk the query's whole posting lists)."""
    if len(queries) > LABEL_BITS:
        raise ValueError(f"at most {LABEL_BITS} queries are told apart by one search")
    # Ten term queries, not `term_set_query`: on an integer field that one scans the whole
    # field, which at 100,000 papers is an order of magnitude slower.
    papers = [(Occur.Should, Query.term_query(index.schema, "num", n)) for n in nums]
    shown = Query.const_score_query(Query.boolean_query(papers), 0.0)
    clauses = [
        (
            Occur.Should,
            Query.const_score_query(
                Query.boolean_query([(Occur.Must, shown), (Occur.Must, q)]), float(1 << i)
            ),
        )
        for i, q in enumerate(queries)
    ]
    return Query.boolean_query(clauses)
