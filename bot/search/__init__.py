"""Search over the library.

- `analyzer`: text -> index terms (folding, hyphen and camelCase parts, stems);
- `aliases`: acronym long forms mined from the library's own abstracts;
- `query`: what a user typed -> words, phrases, `author:`, `since:`, an arXiv id;
- `expansion`: query words -> groups of alternatives (parts, typos, splits, acronym long forms);
- `index`: the BM25F index in numpy postings and its scoring;
- `filters`: quoted phrases and author names, checked on the shown results;
- `persist`: the index's file format;
- `engine`: `SearchEngine`, which keeps the index in step with the catalog and answers queries.
"""

from bot.search.engine import HOW_TO_SEARCH, SearchEngine, SearchResponse, SearchResult

__all__ = ["HOW_TO_SEARCH", "SearchEngine", "SearchResponse", "SearchResult"]
