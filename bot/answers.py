"""The answers to `/papers` words, as messages: the same for Slack and the console, no Bolt here.

`bot.commands` routes each word to one of these; the text is `bot.render`'s, a paper the
library lacks is looked up by `bot.ingest.lookup`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import render
from bot.ingest.lookup import look_up_paper, search_hugging_face
from bot.library import StoreWriteError
from bot.models import Paper
from bot.render import replies
from bot.render.reading_list import SAVED_PAGE_SIZE
from bot.render.search_text import notes_text
from bot.runtime import Runtime
from bot.search import Note, SearchResponse
from bot.search.query import parse_query
from bot.search.topics import topic_problem
from bot.team import TeamCounts, counts_for, most_read
from bot.text import whole_number

log = logging.getLogger(__name__)
SEARCH_LIMIT = 5
REMOTE_BELOW = 3  # fewer good matches (every query word found) than this: ask Hugging Face
SUMMARISED_AFTER_SEARCH = 5  # a search's top results get LLM TL;DRs for their next showing
REMOTE_SHOWN = 3  # papers from Hugging Face shown under the library's own

Progress = Callable[[dict[str, Any]], None]


@dataclass
class Reply:
    message: dict[str, Any]
    # When the answer is too long for a message (a big BibTeX export): (filename, content).
    file: tuple[str, str] | None = None
    # A search with too few good matches here: Hugging Face may know more. The surface shows
    # `message` at once, then `Answers.from_hugging_face(this)` as an update when it comes.
    ask_hugging_face: SearchResponse | None = None
    # The papers a search showed: their LLM TL;DRs are asked for once the answer is out.
    shown: list[Paper] = field(default_factory=list)
    # A public channel the bot should join (the digest now goes there, and its reactions
    # must reach the bot).
    join: str | None = None
    # Posted in the channel for everyone, after the reply (a channel's digest was changed).
    announce: dict[str, Any] | None = None


def text_reply(text: str) -> Reply:
    return Reply(replies.text_message(text))


class Answers:
    """The answers that read or change the library: search, saved, follows, trending."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.library = runtime.library
        self.search = runtime.search
        self.follows = runtime.library.follows

    # -- search ------------------------------------------------------------------------------

    def search_reply(self, text: str, progress: Progress | None, channel: str = "") -> Reply:
        """`/papers QUERY` (or an arXiv id or URL), typed in `channel`. `progress` is told
        first when the answer needs the network (a paper looked up on Hugging Face), so nobody
        is left waiting."""
        response = self.search.search(text, limit=SEARCH_LIMIT)
        if response.paper_id and not response.results:
            if progress is not None:
                progress(render.looking_up_message(response.paper_id))
            paper = self.fetch_paper(response.paper_id)
            if paper is not None:
                return Reply(render.paper_card_message(paper, replies.NEW_FROM_HUGGING_FACE))
            response.message = [Note("unknown-anywhere", response.paper_id)]
        week = self.team_counts([r.paper.id for r in response.results], channel)
        reply = Reply(render.search_results_message(response, week))
        reply.shown = [r.paper for r in response.results]
        if self._too_few(response):
            reply.ask_hugging_face = response
        return reply

    def team_counts(self, paper_ids: list[str], here: str) -> dict[str, TeamCounts]:
        """The team's week for these papers, as `here` may see it (none when switched off)."""
        if not self.runtime.settings.team_signals:
            return {}
        return counts_for(self.library, paper_ids, here)

    def team(self, here: str) -> Reply:
        """`/papers team`: what the workspace shared and saved most in the last 7 days."""
        if not self.runtime.settings.team_signals:
            return Reply(render.team_message([], off=True))
        return Reply(render.team_message(most_read(self.library, here)))

    def after_answer(self, reply: Reply) -> None:
        """Once an answer is sent: LLM TL;DRs (PAPERS_LLM_URL) and citation counts for the
        papers it showed, in the background, for their next showing; never for the answer
        already sent."""
        summaries = self.runtime.summaries
        if summaries is not None and reply.shown:
            summaries.summarise_later(reply.shown[:SUMMARISED_AFTER_SEARCH])
        self.runtime.enrich_later(reply.shown)

    def _too_few(self, response: SearchResponse) -> bool:
        good = sum(1 for r in response.results if r.coverage == 1.0)
        return (
            self.runtime.settings.remote_search
            and good < REMOTE_BELOW
            and not response.paper_id
            and not response.problem
            and bool(parse_query(response.query).text)
        )

    def from_hugging_face(self, response: SearchResponse) -> dict[str, Any] | None:
        """The answer again with what Hugging Face's paper search found that it lacks, those
        papers added to the library; None when it found nothing new (or was not reached)."""
        words = parse_query(response.query).text  # its search knows no author:/since:/cat:
        shown = {r.paper.id for r in response.results}
        found = search_hugging_face(self.runtime.settings, self.library, words, shown, REMOTE_SHOWN)
        if not found:
            return None
        self.search.refresh(wait=False)
        return render.with_hugging_face(render.search_results_message(response), found)

    def fetch_paper(self, paper_id: str) -> Paper | None:
        """A paper the library lacks, from Hugging Face, added to the library and the index."""
        paper = look_up_paper(self.runtime.settings, self.library, paper_id)
        if paper is not None:
            self.search.refresh(wait=False)  # the card comes from the library, not the index
        return paper

    # -- the reading list and trending -------------------------------------------------------

    def trending(self) -> Reply:
        day, papers = self.library.latest_listing()
        return Reply(render.trending_message(day, papers))

    def saved(self, user: str, page_text: str) -> Reply:
        page = whole_number(page_text or "1")
        if page is None:
            return text_reply(replies.SAVED_USAGE)
        papers = self.library.saved_papers(user)
        message = render.saved_list_message(papers, page, self.runtime.settings.save_emoji)
        self.runtime.enrich_later(papers[(page - 1) * SAVED_PAGE_SIZE : page * SAVED_PAGE_SIZE])
        return Reply(message)

    def bibtex(self, user: str) -> Reply:
        papers = self.library.saved_papers(user)
        inline = render.bibtex_message(papers)
        if inline is not None:
            return Reply(inline)
        fallback, note = replies.bibtex_note(len(papers))
        return Reply(
            render.message(fallback, [render.text_section(note)]),
            file=("reading-list.bib", render.bibtex_text(papers)),
        )

    # -- follows -----------------------------------------------------------------------------

    def follow(self, user: str, query: str, follow: bool) -> Reply:
        verb = "follow" if follow else "unfollow"
        if not re.search(r"[^\W_]", query):
            return Reply(replies.follow_usage(verb))
        problem = self.unfollowable(query) if follow else None
        if problem:
            return text_reply(replies.unfollowable(*problem))
        try:
            changed = self.follows.add(user, query) if follow else self.follows.remove(user, query)
        except StoreWriteError:
            return text_reply(replies.could_not_save(verb))
        return text_reply(replies.follow_changed(query, follow, changed))

    def unfollowable(self, query: str) -> tuple[str, str] | None:
        """Why a follow could never alert anyone, as (reason, detail); None when it can."""
        problem = topic_problem(self.search, query)
        if problem is None:
            return None
        return problem.reason, problem.detail or notes_text(problem.notes)

    def following(self, user: str) -> Reply:
        return text_reply(replies.following(self.follows.of_user(user)))
