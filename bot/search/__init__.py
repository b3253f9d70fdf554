"""Search over the library.

- `analyzer`: text -> index terms (folding, hyphen and camelCase parts, stems);
- `aliases`: acronym long forms mined from the library's own abstracts;
- `query`: what a user typed -> words, phrases, `author:`, `since:`, an arXiv id;
- `expansion`: query words -> groups of alternatives (parts, typos, splits, acronym long forms);
- `documents`: a paper as the index stores it (analysed field tokens, date, upvotes, acronyms);
- `index`: the tantivy index of one generation, opened for searching; `lexicon`: its acronyms
  and typo vocabulary; `ranking`: query groups and filters as tantivy queries;
- `builder`: building a generation (in worker processes) and catching up with the catalog;
- `filters`: quoted phrases and author names, checked on the shown results;
- `engine`: `SearchEngine`, which keeps the index in step with the catalog and answers queries.
"""

from bot.search.engine import SearchEngine, SearchResponse, SearchResult
from bot.search.query import Note

__all__ = ["Note", "SearchEngine", "SearchResponse", "SearchResult"]
