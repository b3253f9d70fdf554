"""The runtime every surface shares: the settings, the open library and its search engine."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.library import Library
from bot.search import SearchEngine


@dataclass
class Runtime:
    settings: Settings
    library: Library
    search: SearchEngine

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        library = Library(settings.data_dir, sample_data=settings.sample_data)
        return cls(settings, library, SearchEngine(library))

    def warm_up(self) -> None:
        """Load every catalog shard and the typo vocabulary now, before serving.

        A long-running bot pays this once at start (a few seconds at 100,000 papers) instead of
        on the first requests: parsing a shard holds the GIL for tens of milliseconds, and a
        burst of first-time searches would otherwise delay the 3-second acknowledgements.
        """
        self.library.papers()
        self.search.warm_up()
