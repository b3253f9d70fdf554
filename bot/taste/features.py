"""Every paper of the library as a TF-IDF vector: what taste models learn from.

Two vocabularies side by side, each TF-IDF (sublinear term frequency, L2 rows), the whole
row normalised again: arxiv-sanity's (words and two-word phrases of title and abstract, its
settings), and our search analyzer's terms (stems, hyphen parts, acronyms with their long
forms: `KAN` and "Kolmogorov-Arnold network" meet). Measured by bench/recommend_quality.py:
together they beat either alone.

Derived data like the search index: built from the catalog, kept in step with its change feed
(new and changed papers are vectorised with the fitted vocabularies), rebuilt when the library
grew by a fifth since, saved in `PAPERS_DATA_DIR/taste/` so a restart does not rebuild it.
"""

from __future__ import annotations

import logging
import pickle
import threading
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from bot.library import Library
from bot.models import Paper
from bot.search.analyzer import analyze

log = logging.getLogger(__name__)
FOLDER = "taste"
REBUILD_GROWTH = 0.2  # rebuild the vocabularies when this share of rows came after them
BUILD_NOW_LIMIT = 20_000  # papers; a bigger library's features are built in the background


def taste_text(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract}"


def analysed_terms(text: str) -> list[str]:
    """Our search analyzer's terms (a module-level function: the vectoriser is pickled)."""
    return [word.whole for word in analyze(text)]


def sanity_words(size: int, dtype: type = np.float64) -> TfidfVectorizer:
    """arxiv-sanity-lite's TF-IDF of words and two-word phrases, with its settings (its min_df
    of 5 would leave a small library few words): half of our features, and the bench's
    baseline whole."""
    return TfidfVectorizer(
        strip_accents="unicode",
        lowercase=True,
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20_000,
        sublinear_tf=True,
        max_df=0.1,
        min_df=_rare(size),
        dtype=dtype,
    )


def _rare(size: int) -> int:
    return 5 if size >= 2_000 else 1


def _vectorisers(size: int) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    words = sanity_words(size, np.float32)
    terms = TfidfVectorizer(
        analyzer=analysed_terms,
        sublinear_tf=True,
        max_df=0.5,
        min_df=_rare(size),
        max_features=50_000,
        dtype=np.float32,
    )
    return words, terms


@dataclass
class TasteFeatures:
    """The vectors of every paper, by catalog key (`num`). A paper whose text changed gets a
    new row; its old row is marked `stale` (rows are never rewritten in place: the matrix is
    shared by requests in flight)."""

    matrix: sp.csr_matrix  # one row a paper's text
    nums: list[int]  # row -> catalog num
    seq: int  # the catalog change-feed position these rows reflect
    built_rows: int  # rows when the vocabularies were fitted
    vectorisers: tuple[Any, Any]
    texts: list[int] = field(default_factory=list)  # row -> a checksum of its text
    stale: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    row_of: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.row_of = {num: row for row, num in enumerate(self.nums)}  # the latest row wins
        if len(self.stale) != len(self.nums):
            self.stale = np.zeros(len(self.nums), dtype=bool)

    def __len__(self) -> int:
        return len(self.nums)

    def vectors(self, papers: list[Paper]) -> sp.csr_matrix:
        texts = [taste_text(p) for p in papers]
        words, terms = self.vectorisers
        return _joined(words.transform(texts), terms.transform(texts))

    def rows_for(self, nums: list[int]) -> list[int]:
        return [self.row_of[n] for n in nums if n in self.row_of]


def checksum(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def _joined(words: sp.csr_matrix, terms: sp.csr_matrix) -> sp.csr_matrix:
    joined = normalize(sp.hstack([words, terms], format="csr", dtype=np.float32))
    joined.sort_indices()  # the learner would sort a copy of its rows on every fit
    return joined


def build(library: Library) -> TasteFeatures:
    """Vectorise the whole catalog (fit the vocabularies on it)."""
    seq = library.catalog.last_seq()
    nums: list[int] = []
    texts: list[str] = []
    for change in library.catalog.changes_since(0):
        nums.append(change.num)
        texts.append(taste_text(change.paper))
    words, terms = _vectorisers(len(texts))
    if not texts:
        matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        return TasteFeatures(matrix, [], seq, 0, (words, terms))
    matrix = _joined(words.fit_transform(texts), terms.fit_transform(texts))
    sums = [checksum(t) for t in texts]
    return TasteFeatures(matrix, nums, seq, len(nums), (words, terms), sums)


def caught_up(library: Library, features: TasteFeatures) -> TasteFeatures:
    """`features` with the papers added or rewritten since, vectorised with the fitted
    vocabularies (an upvote or a summary changes no text: no new row)."""
    behind = library.catalog.count_since(features.seq)
    if not behind:
        return features
    if not features.built_rows:  # never fitted (an empty library then): fit now
        return build(library)
    changes = list(library.catalog.changes_since(features.seq))
    seq = max((c.seq for c in changes), default=features.seq)
    fresh = []
    for change in changes:
        known = features.row_of.get(change.num)
        text = taste_text(change.paper)
        if known is None or features.texts[known] != checksum(text):
            fresh.append((change, text))
    if not fresh:
        return replace(features, seq=seq)
    rows = features.vectors([change.paper for change, _ in fresh])
    stale = np.concatenate([features.stale, np.zeros(len(fresh), dtype=bool)])
    for change, _ in fresh:
        if change.num in features.row_of:
            stale[features.row_of[change.num]] = True
    matrix = sp.vstack([features.matrix, rows], format="csr")
    matrix.sort_indices()
    return TasteFeatures(
        matrix,
        features.nums + [change.num for change, _ in fresh],
        seq,
        features.built_rows,
        features.vectorisers,
        features.texts + [checksum(text) for _, text in fresh],
        stale,
    )


def outgrown(features: TasteFeatures) -> bool:
    """The vocabularies were fitted on too few of the rows there are now."""
    return len(features) > (1 + REBUILD_GROWTH) * max(features.built_rows, 1)


def save(features: TasteFeatures, data_dir: Path) -> None:
    """Write the features beside the search index (a temporary file renamed into place)."""
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / "features.pickle.tmp"
    state = {
        "matrix": features.matrix,
        "nums": features.nums,
        "seq": features.seq,
        "built_rows": features.built_rows,
        "vectorisers": features.vectorisers,
        "texts": features.texts,
        "stale": features.stale,
    }
    with temporary.open("wb") as handle:
        pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(folder / "features.pickle")


def load(data_dir: Path) -> TasteFeatures | None:
    """The saved features, or None when there are none or they cannot be read (rebuilt)."""
    path = data_dir / FOLDER / "features.pickle"
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            state = pickle.load(handle)  # our own derived file, written by `save`
        return TasteFeatures(**state)
    except Exception as error:  # damaged or from another release: derived data, rebuild it
        log.warning("the taste features in %s could not be read (%s); rebuilding", path, error)
        return None


class FeatureStore:
    """The library's features, kept current: loaded, or built (in the background when the
    library is big: a request never waits minutes), then caught up on use."""

    def __init__(self, library: Library):
        self.library = library
        self._lock = threading.Lock()
        self._features: TasteFeatures | None = None
        self._building: threading.Thread | None = None

    def current(self, wait: bool = False) -> TasteFeatures | None:
        """The features, or None while a big library's first build runs (`wait`: build now)."""
        with self._lock:
            if self._features is None:
                self._features = load(self.library.data_dir)
            if self._features is None or outgrown(self._features):
                if wait or len(self.library) <= BUILD_NOW_LIMIT:
                    self._features = self._saved(build(self.library))
                else:
                    self._build_in_background()
            if self._features is None:
                return None
            # Caught up in memory only: a save rewrites the whole file, so it waits for the
            # next build (a restart catches up from the saved position again, cheaply).
            self._features = caught_up(self.library, self._features)
            return self._features

    def _build_in_background(self) -> None:
        if self._building is not None and self._building.is_alive():
            return

        def run() -> None:
            try:
                built = self._saved(build(self.library))
            except Exception:
                log.exception("building the taste features failed; For you waits for them")
                return
            with self._lock:
                self._features = built

        self._building = threading.Thread(target=run, name="taste-features", daemon=True)
        self._building.start()

    def _saved(self, features: TasteFeatures) -> TasteFeatures:
        try:
            save(features, self.library.data_dir)
        except OSError as error:  # a full disk: serve from memory, save next time
            log.warning("could not save the taste features: %s", error)
        return features
