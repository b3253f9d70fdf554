"""What search says in words: its notes about a query and its messages instead of results.

`bot.search` names them (`Note(kind, value)`); Slack's answers, the console and
`papers-bot search` all print them from here, so they read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.search import Note, SearchResponse

HOW_TO_SEARCH = (
    "Type what you remember of a paper: a topic (`speculative decoding`), an acronym (`kan`), "
    'part of a title, an arXiv id or URL, `author:NAME`, `since:2024-06`, or a "quoted phrase".'
)
_FILTER_NEEDS = {
    "author": "a name, e.g. author:goldstein",
    "cat": "an arXiv category, e.g. cat:cs.LG",
    "since": "a date",
    "has": "what the paper has: has:code",
    "sort": "an order: sort:cited",
}
_SAID: dict[str, Callable[[str], str]] = {
    "cut-to-chars": lambda n: f"Your query was long, so only its first {n} characters were used.",
    "cut-to-words": lambda n: f"Only the first {n} words of your query were used.",
    "empty-filter": lambda name: f"`{name}:` needs {_FILTER_NEEDS.get(name, 'a date')}.",
    "not-a-has": lambda value: f"`has:{value}` is not something I know; write has:code.",
    "not-a-sort": lambda value: f"`sort:{value}` is not an order I know; write sort:cited.",
    "not-a-category": lambda value: (
        f"`cat:{value}` is not an arXiv category; write cat:cs.LG or cat:stat.ML."
    ),
    "future-since": lambda value: f"`since:{value}` is in the future: no paper is that new.",
    "not-a-date": lambda value: (
        f"`since:{value}` is not a date; write since:2024, since:2024-06 or since:2024-06-01."
    ),
    "how-to": lambda _: HOW_TO_SEARCH,
    "no-words": lambda _: f"There are no words to search for in that query. {HOW_TO_SEARCH}",
    "too-common": lambda _: (
        f"Those words are too common (or too long) to search for. {HOW_TO_SEARCH}"
    ),
    "not-in-library": lambda paper_id: f"arXiv {paper_id} is not in the library yet.",
    "unknown-anywhere": lambda paper_id: (
        f"arXiv {paper_id} is not in the library, and Hugging Face does not know it (or could "
        "not be reached)."
    ),
    "none": lambda _: "No papers match that query.",
    "none-not-english": lambda _: (
        "No papers match. The library's papers are in English: try English terms."
    ),
    "none-with-quotes": lambda _: "No papers match all of that; try without the quotes.",
    "none-with-filters": lambda _: "No papers match all of that; try fewer filters.",
}


def note_text(note: Note) -> str:
    return _SAID[note.kind](note.value)


def notes_text(notes: list[Note]) -> str:
    return " ".join(note_text(n) for n in notes)


def message_text(response: SearchResponse) -> str:
    """What to say instead of, or above, the results ("" when the results say it all)."""
    return notes_text(response.message)
