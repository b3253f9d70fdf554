"""The runtime every surface shares: the settings, the open library and its search engine."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.library import Library
from bot.models import Paper
from bot.search import SearchEngine
from bot.search.semantic import Semantic, installed
from bot.summarize import use_word_share
from bot.summarize import warm_up as warm_summaries
from bot.summarize.llm import LLMSummaries
from bot.taste.picks import ForYou

if TYPE_CHECKING:
    from bot.ingest.enrich import Enricher


@dataclass
class Runtime:
    settings: Settings
    library: Library
    search: SearchEngine
    for_you: ForYou  # each person's picks, learned from their saves
    summaries: LLMSummaries | None = None  # TL;DRs by an LLM, when PAPERS_LLM_URL is set
    # Citation counts asked in the background for the papers shown (a serving bot's, when
    # PAPERS_CITATIONS is on; `bot.ingest.enrich`).
    enricher: Enricher | None = None

    @classmethod
    def open(cls, settings: Settings, serving: bool = False) -> Runtime:
        """`serving`: a long-running bot, which never builds a search index in its own
        process (a separate one does; see `bot.search.builder`)."""
        library = Library(
            settings.data_dir, sample_data=settings.sample_data, database_url=settings.database_url
        )
        search = SearchEngine(library, separate_builder=serving, semantic=semantic_for(settings))
        use_word_share(search.word_share)  # key phrases said of every paper are demoted
        summaries = _llm_summaries(settings, library)
        enricher = enricher_for(settings, library) if serving else None
        return cls(settings, library, search, ForYou(library), summaries, enricher)

    def enrich_later(self, papers: Iterable[Paper]) -> None:
        """The papers just shown: their citation counts refreshed in the background if stale."""
        if self.enricher is not None:
            self.enricher.refresh_later(papers)

    def for_team(self, team: str) -> Runtime:
        """The runtime as one workspace sees it: its own state, the shared catalog and index."""
        if team == self.library.team:
            return self
        scoped = self.library.for_team(team)
        return replace(self, library=scoped, for_you=self.for_you.for_team(scoped))

    def close(self) -> None:
        """Let go of the index's and the catalog's files (a process that goes on, like a test
        run, would otherwise keep their descriptors)."""
        self.search.close()
        self.library.catalog.close()

    def warm_up(self) -> None:
        """Load the English word list the first typo needs now, before serving; then
        leave everything loaded so far out of the cycle collector's rounds (it lives as long
        as the process: scanning it again on every collection only slows requests down)."""
        self.search.warm_up()
        warm_summaries()
        gc.collect()
        gc.freeze()


def semantic_for(settings: Settings, threads: int = 1) -> Semantic | None:
    """Search by meaning: on when the `[semantic]` extra is installed, unless
    PAPERS_SEMANTIC=0."""
    if not settings.semantic or not installed(settings.embedding_model):
        return None
    return Semantic(settings.data_dir, settings.embedding_model, threads)


def _llm_summaries(settings: Settings, library: Library) -> LLMSummaries | None:
    if not (settings.llm_url and settings.llm_model):
        return None
    from bot.sources.llm_client import LLMClient  # httpx: only when the LLM is on

    client = LLMClient.for_settings(settings)
    return LLMSummaries(
        library,
        client.complete,
        settings.llm_model,
        settings.llm_language,
        settings.llm_daily_limit,
    )


def enricher_for(settings: Settings, library: Library) -> Enricher | None:
    """Semantic Scholar's figures for what the bot shows, unless PAPERS_CITATIONS=0."""
    if not settings.enrich:
        return None
    from bot.ingest.enrich import Enricher  # httpx: only in a serving bot
    from bot.sources.semantic_scholar import ScholarClient

    return Enricher(library, lambda: ScholarClient(settings.scholar_url, settings.scholar_key))
