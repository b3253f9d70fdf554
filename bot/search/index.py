"""The search index: a tantivy index of analysed paper text, read with our own query expansion.

Why tantivy: a million papers must build and serve on one small machine. tantivy (a Rust
search library, the engine of Quickwit) keeps postings on disk, memory-mapped, scores with
block-max WAND, and computes BM25 statistics at query time, so a paper's score never depends on
the order papers were indexed in (`python -m bench.scale` measures it beside BM25 peers).

What stays ours is everything the judged query set measures: the analyzer (papers are fed to
tantivy as our tokens, split on spaces), acronym aliases, typo correction, hyphen parts, field
boosts and the ranking rules (`QueryExpansion` makes the groups, `ranking` the tantivy queries).

An index lives in a generation folder, `index/<name>/`: tantivy's files plus `lexicon.sqlite3`.
`index/CURRENT` names the generation in use; a rebuild writes a new one and swaps the name.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path

import tantivy

from bot.search.documents import IndexedPaper
from bot.search.expansion import QueryExpansion
from bot.search.lexicon import LEXICON_FILE, Lexicon

log = logging.getLogger(__name__)
INDEX_FORMAT = 11  # bumped when the schema or the analysis changes: older indexes are rebuilt
FORMAT_FILE = "papers-bot-format"


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("num", indexed=True, fast=True)
    # Our analyzer already folded and stemmed every token: tantivy only splits on spaces.
    builder.add_text_field("text", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("title", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("authors", tokenizer_name="whitespace", index_option="freq")
    # arXiv categories, lower-cased (`cs.lg`), for `cat:`: whole terms, no positions.
    builder.add_text_field("categories", tokenizer_name="whitespace", index_option="basic")
    builder.add_integer_field("date", indexed=True, fast=True)
    builder.add_integer_field("upvotes", fast=True)
    builder.add_integer_field("rank", fast=True)
    return builder.build()


def to_document(paper: IndexedPaper) -> tantivy.Document:
    return tantivy.Document(
        num=paper.num,
        date=paper.date,
        upvotes=paper.upvotes,
        rank=paper.rank,
        text=paper.text,
        title=paper.title,
        authors=paper.authors,
        categories=paper.categories,
    )


def is_index(folder: Path) -> bool:
    marker = folder / FORMAT_FILE
    try:
        return marker.read_text().strip() == str(INDEX_FORMAT) and (folder / "meta.json").exists()
    except OSError:
        return False


def open_index(folder: Path) -> PaperIndex | None:
    """The index in `folder`, or None when it cannot be opened (damaged: it is rebuilt)."""
    try:
        return PaperIndex(folder)
    except (ValueError, OSError) as error:
        log.warning("the search index in %s cannot be opened (%s); it is rebuilt", folder, error)
        return None


class PaperIndex:
    """One generation of the index, opened for searching (any number of processes at once)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.index = tantivy.Index.open(str(folder))
        self.schema = self.index.schema
        self.lexicon = Lexicon(folder / LEXICON_FILE)
        self._searcher = self.index.searcher()
        self._lock = threading.Lock()
        self.expansion = QueryExpansion(self)

    @property
    def searcher(self) -> tantivy.Searcher:
        return self._searcher

    def reload(self) -> None:
        """See the writers' latest commit (cheap: new segments are memory-mapped)."""
        with self._lock:
            self.index.reload()
            self._searcher = self.index.searcher()
            self.lexicon.forget()

    def __len__(self) -> int:
        return int(self._searcher.num_docs)

    @property
    def seq(self) -> int:
        """The catalog change-feed position this index reflects."""
        return self.lexicon.seq

    # -- its words, as `QueryExpansion` reads them -------------------------------------

    def has_term(self, term: str) -> bool:
        return self.doc_freq(term) > 0

    def doc_freq(self, term: str) -> int:
        """How many papers have `term` (in any field: all are in `text`)."""
        return int(self._searcher.doc_freq("text", term))

    def idf(self, term: str) -> float:
        n = len(self)
        df = self.doc_freq(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def surface_of(self, term: str) -> str:
        return self.lexicon.surface_of(term)

    def close(self) -> None:
        self.lexicon.close()
