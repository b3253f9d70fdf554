"""Each person's picks: their taste model over the library, cached until their saves change.

`ForYou.picks(user, ...)` ranks the library (or a pool of it: the last 30 days, a day's new
papers) by the person's taste, never a paper they saved or marked Not interested, each pick
with the saved paper it is most like. Models live in memory per person and are refitted when
that person's saves or marks change; the features are the library's (`features.FeatureStore`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.library import Library
from bot.models import Paper

if TYPE_CHECKING:  # numpy, scipy and scikit-learn are imported where used: `papers-bot search`
    # and `fetch` start without them (they cost a cold start more than the search itself)
    import numpy as np

    from bot.taste import model
    from bot.taste.features import FeatureStore, TasteFeatures

MODELS_KEPT = 500  # people whose fitted model stays in memory
PICK_FLOOR = 0.12  # a pick shares at least this much (cosine) with a saved paper


@dataclass
class Pick:
    paper: Paper
    score: float
    like: Paper | None  # the saved paper it is most like: the "why"
    similarity: float


class ForYou:
    """Picks for the people of one library (its saves and Not interested marks)."""

    def __init__(self, library: Library, features: FeatureStore | None = None):
        self.library = library
        self._store = features
        self._models: OrderedDict[tuple[str, str], tuple[tuple[int, ...], model.Taste | None]]
        self._models = OrderedDict()
        self._lock = threading.Lock()

    @property
    def features(self) -> FeatureStore:
        """The library's features, made on first use: scikit-learn takes seconds to import,
        and a command that shows no picks (`papers-bot fetch`, `search`) never pays for it."""
        if self._store is None:
            from bot.taste.features import FeatureStore

            with self._lock:
                if self._store is None:
                    self._store = FeatureStore(self.library)
        return self._store

    def for_team(self, library: Library) -> ForYou:
        """The same features and cache, another workspace's saves."""
        scoped = ForYou(library, self.features)
        scoped._models, scoped._lock = self._models, self._lock
        return scoped

    def taste(self, user: str) -> tuple[TasteFeatures | None, model.Taste | None]:
        """The person's model over the current features (refitted when their saves or marks
        changed since); (None, None) while a big library's features are first built."""
        features = self.features.current()
        if features is None:
            return None, None
        saved = self._nums([paper_id for paper_id, _ in self.library.saves.of_user(user)])
        hidden = self._nums(self.library.tastes.hidden_of(user))
        saved_rows, hidden_rows = features.rows_for(saved), features.rows_for(hidden)
        signature = (len(features), *saved_rows, -1, *hidden_rows)
        key = (self.library.team, user)
        with self._lock:
            known = self._models.get(key)
            if known is not None and known[0] == signature:
                self._models.move_to_end(key)
                return features, known[1]
        from bot.taste import model

        taste = model.fit(features, saved_rows, hidden_rows, seed=f"{self.library.team}:{user}")
        with self._lock:
            self._models[key] = (signature, taste)
            self._models.move_to_end(key)
            while len(self._models) > MODELS_KEPT:
                self._models.popitem(last=False)
        return features, taste

    def like(self, paper_id: str, limit: int = 5) -> list[Paper] | None:
        """ "More like this": the papers a taste of this one paper ranks first (the same model
        as For you, from one save); None while a big library's features are first built."""
        import numpy as np

        features = self.features.current()
        num = self.library.catalog.num_of(paper_id)
        if features is None or num is None or num not in features.row_of:
            return None
        from bot.taste import model

        row = features.row_of[num]
        taste = model.fit(features, [row], [], seed=paper_id)
        if taste is None:
            return None
        scores = taste.scores(features.matrix)
        scores[features.stale] = -np.inf
        order = [r for r in np.argsort(-scores, kind="stable")[: limit + 1].tolist() if r != row]
        papers = self.library.catalog.by_nums(features.nums[r] for r in order[:limit])
        return [papers[features.nums[r]] for r in order[:limit] if features.nums[r] in papers]

    def forget(self, user: str) -> None:
        with self._lock:
            self._models.pop((self.library.team, user), None)

    def picks(
        self,
        user: str,
        limit: int = 5,
        offset: int = 0,
        pool: Iterable[str] | None = None,
        floor: float | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Pick]:
        """The person's best papers (of `pool`, else the whole library), best first, from
        `offset`; only those sharing at least `floor` with a saved paper when given."""
        import numpy as np

        features, taste = self.taste(user)
        if features is None or taste is None or not len(features):
            return []
        rows = None if pool is None else self._pool_rows(features, pool)
        if rows is not None and not len(rows):
            return []
        # The whole library is scored in place (a copy of its rows would cost more than the
        # scoring); a pool, a few thousand papers at most, is scored on its own rows.
        scores = taste.scores(features.matrix if rows is None else features.matrix[rows])
        excluded = set(taste.saved_rows) | set(taste.hidden_rows)
        excluded |= set(features.rows_for(self._nums(exclude)))
        positions = np.arange(len(scores)) if rows is None else rows
        scores[np.isin(positions, list(excluded))] = -np.inf
        if rows is None:
            scores[features.stale] = -np.inf  # a paper's old text, superseded by a new row
        order = _best_first(scores, None if floor is not None else offset + limit)
        chosen = [int(positions[i]) for i in order if np.isfinite(scores[i])]
        by_row = {int(positions[i]): float(scores[i]) for i in order}
        return self._as_picks(features, taste, chosen, by_row, limit, offset, floor)

    def _as_picks(
        self,
        features: TasteFeatures,
        taste: model.Taste,
        order: list[int],
        scores: dict[int, float],
        limit: int,
        offset: int,
        floor: float | None,
    ) -> list[Pick]:
        from bot.taste import model

        chosen: list[tuple[int, int, float]] = []
        skipped = 0
        for row in order:
            like_row, similarity = model.nearest_saved(features, taste, row)
            if floor is not None and similarity < floor:
                continue
            if skipped < offset:
                skipped += 1
                continue
            chosen.append((row, like_row, similarity))
            if len(chosen) == limit:
                break
        nums = [features.nums[r] for r, _, _ in chosen] + [features.nums[r] for _, r, _ in chosen]
        papers = self.library.catalog.by_nums(nums)
        return [
            Pick(papers[features.nums[row]], scores[row], papers.get(features.nums[like]), sim)
            for row, like, sim in chosen
            if features.nums[row] in papers
        ]

    def _pool_rows(self, features: TasteFeatures, pool: Iterable[str] | None) -> np.ndarray:
        import numpy as np

        if pool is None:
            return np.arange(len(features))
        return np.array(sorted(set(features.rows_for(self._nums(pool)))), dtype=int)

    def _nums(self, paper_ids: Iterable[str]) -> list[int]:
        """Catalog keys of the papers, in one query (a pool holds thousands)."""
        ids = list(paper_ids)
        found = self.library.catalog.nums_of(ids)
        return [found[paper_id] for paper_id in ids if paper_id in found]


def _best_first(scores: np.ndarray, enough: int | None) -> np.ndarray:
    """Positions of `scores`, best first: only the `enough` best when that is all that is
    needed (a partial sort of 100,000 scores is ten times cheaper than a full one)."""
    import numpy as np

    if enough is None or enough >= len(scores):
        return np.argsort(-scores, kind="stable")
    top = np.argpartition(-scores, enough)[:enough]
    return top[np.argsort(-scores[top], kind="stable")]
