"""The runtime every surface shares: the settings, the open library and its search engine."""

from __future__ import annotations

import gc
from dataclasses import dataclass, replace

from bot.config import Settings
from bot.library import Library
from bot.search import SearchEngine
from bot.summarize import use_word_share


@dataclass
class Runtime:
    settings: Settings
    library: Library
    search: SearchEngine

    @classmethod
    def open(cls, settings: Settings, serving: bool = False) -> Runtime:
        """`serving`: a long-running bot, which never builds a search index in its own
        process (a separate one does; see `bot.search.builder`)."""
        library = Library(
            settings.data_dir, sample_data=settings.sample_data, database_url=settings.database_url
        )
        search = SearchEngine(library, separate_builder=serving)
        use_word_share(search.word_share)  # key phrases said of every paper are demoted
        return cls(settings, library, search)

    def for_team(self, team: str) -> Runtime:
        """The runtime as one workspace sees it: its own state, the shared catalog and index."""
        if team == self.library.team:
            return self
        return replace(self, library=self.library.for_team(team))

    def warm_up(self) -> None:
        """Load the English word list the first typo needs now, before serving; then
        leave everything loaded so far out of the cycle collector's rounds (it lives as long
        as the process: scanning it again on every collection only slows requests down)."""
        self.search.warm_up()
        gc.collect()
        gc.freeze()
