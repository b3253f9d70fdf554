"""The objects every surface shares: settings, the library and its search engine."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.search import SearchEngine
from bot.store import Library


@dataclass
class Services:
    settings: Settings
    library: Library
    search: SearchEngine

    @classmethod
    def open(cls, settings: Settings) -> Services:
        library = Library(settings.data_dir, sample_data=settings.sample_data)
        return cls(settings, library, SearchEngine(library))
