"""What `/papers ...` answers, as messages: the same for Slack and the console, no Bolt here.

`/papers` alone or `help`, `trending`, `saved [PAGE]`, `saved bibtex`, `follow QUERY`,
`unfollow QUERY`, `following`, an arXiv id or URL, or anything else as a search query.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import for_you, render
from bot.library import StoreWriteError
from bot.models import Paper
from bot.runtime import Runtime
from bot.search import SearchResponse
from bot.search.query import parse_query
from bot.text import plural, whole_number

log = logging.getLogger(__name__)
SEARCH_LIMIT = 5
REMOTE_BELOW = 3  # fewer good matches (every query word found) than this: ask Hugging Face
SUMMARISED_AFTER_SEARCH = 5  # a search's top results get LLM TL;DRs for their next showing
REMOTE_SHOWN = 3  # papers from Hugging Face shown under the library's own
REMOTE_SECONDS = 8.0  # its answer comes as an update: never holds up the library's
MAX_FOLLOW_CHARS = 200
EXAMPLE = "speculative decoding"


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


def could_not_save(action: str = "save") -> str:
    return (
        f"Sorry, I couldn't {action} that right now (the library could not be written). "
        "Try again in a minute."
    )


class Answers:
    """Answers to `/papers TEXT`, as messages (Slack and the console render them)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.library = runtime.library
        self.search = runtime.search
        self.follows = runtime.library.follows

    @property
    def save_emoji(self) -> list[str]:
        return self.runtime.settings.save_emoji

    def answer(
        self, user: str, text: str, progress: Callable[[dict[str, Any]], None] | None = None
    ) -> Reply:
        """The reply to `/papers TEXT`. `progress` is told first when the answer needs the
        network (a paper looked up on Hugging Face), so the user is not left waiting."""
        reply = self._answer(user, text, progress)
        missing = self.library.missing_parts()
        if missing:  # never a silently partial answer
            reply.message = render.with_warning(reply.message, render.damage_warning(missing))
        return reply

    def _answer(
        self, user: str, text: str, progress: Callable[[dict[str, Any]], None] | None
    ) -> Reply:
        text = (text or "").strip()
        word, _, rest = text.partition(" ")
        word, rest = word.lower(), rest.strip()
        if word in ("", "help", "-h", "--help", "?"):
            return Reply(render.help_message(self.save_emoji))
        if word == "trending" and not rest:
            return Reply(self.trending())
        if word == "saved" and rest.lower() in ("bibtex", "bib"):
            return self.bibtex(user)
        if word == "saved":
            page = whole_number(rest or "1")
            if page is None:
                usage = (
                    "Usage: `/papers saved`, `/papers saved 2` (a page) or `/papers saved bibtex`."
                )
                return Reply(render.message(usage, [render.text_section(usage)]))
            papers = self.library.saved_papers(user)
            return Reply(render.saved_list_message(papers, page, self.save_emoji))
        if word in ("foryou", "for-you") and not rest:
            picked = for_you.picks_page(self.runtime, user)
            return Reply(render.for_you_message(picked.papers, 0, picked.more, picked.empty))
        if word == "picks" and rest.lower() in ("on", "off"):
            turned_on = rest.lower() == "on"
            return Reply(self._text(for_you.set_morning_picks(self.runtime, user, turned_on)))
        if word == "picks":
            return Reply(self._text("Usage: `/papers picks on` or `/papers picks off`."))
        if word == "forget" and rest.lower() == "me":
            return Reply(render.forget_me_message())
        if word in ("follow", "unfollow"):
            return Reply(self.follow(user, rest, word == "follow"))
        if word == "following" and not rest:
            return Reply(self.following(user))
        response = self.search.search(text, limit=SEARCH_LIMIT)
        if response.paper_id and not response.results:
            if progress is not None:
                progress(render.looking_up_message(response.paper_id))
            paper = self.fetch_paper(response.paper_id)
            if paper is not None:
                return Reply(
                    render.paper_card_message(paper, "New to the library, from Hugging Face")
                )
            response.message = (
                f"arXiv {response.paper_id} is not in the library, and Hugging Face does not "
                "know it (or could not be reached)."
            )
        reply = Reply(render.search_results_message(response))
        reply.shown = [r.paper for r in response.results]
        if self._too_few(response):
            reply.ask_hugging_face = response
        return reply

    @staticmethod
    def _text(text: str) -> dict[str, Any]:
        return render.message(text, [render.text_section(text)])

    def after_answer(self, reply: Reply) -> None:
        """Once an answer is sent: LLM TL;DRs for the papers it showed (PAPERS_LLM_URL), in
        the background, for their next showing; never for the answer already sent."""
        summaries = self.runtime.summaries
        if summaries is not None and reply.shown:
            summaries.summarise_later(reply.shown[:SUMMARISED_AFTER_SEARCH])

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
        from bot.sources.hf import RowError, parse_daily_row
        from bot.sources.hf_client import HFError, client_for

        words = parse_query(response.query).text  # its search knows no author:/since:/cat:
        try:
            with client_for(
                self.runtime.settings,
                timeout=REMOTE_SECONDS,
                connect_timeout=3,
                max_attempts=1,
            ) as client:
                rows = client.search_papers(words, limit=10)
        except HFError as error:
            log.warning("Hugging Face's paper search for %r failed: %s", words[:80], error)
            return None
        shown = {r.paper.id for r in response.results}
        found: list[Paper] = []
        for row in rows:
            try:
                paper = parse_daily_row(row, source="hf-search")
            except RowError:
                continue
            paper.listed = None  # a search hit is not a Daily Papers listing (see fetch_paper)
            if paper.id not in shown and all(p.id != paper.id for p in found):
                found.append(paper)
        found = found[:REMOTE_SHOWN]
        if not found:
            return None
        try:
            self.library.upsert_many(found)
            self.search.refresh(wait=False)
            found = [self.library.get(p.id) or p for p in found]
        except StoreWriteError as error:  # still worth showing; saving them will not work
            log.error("papers from Hugging Face's search were not stored: %s", error)
        return render.with_hugging_face(render.search_results_message(response), found)

    def fetch_paper(self, paper_id: str) -> Paper | None:
        """A paper the library lacks, from Hugging Face's `GET /papers/{id}`, added to it."""
        from bot.sources.hf import RowError, parse_paper_object
        from bot.sources.hf_client import HFError, client_for

        try:
            with client_for(
                self.runtime.settings, timeout=5, connect_timeout=3, max_attempts=2
            ) as client:
                raw = client.paper(paper_id)
            if raw is None:
                return None
            paper = parse_paper_object(raw, source="hf-paper")
            # One paper looked up is not a Daily Papers listing: giving it its listing day
            # would make a "day" of one paper for trending and the digest.
            paper.listed = None
            self.library.upsert_many([paper])
        except (HFError, RowError, StoreWriteError) as error:
            log.warning("looking up %s on Hugging Face failed: %s", paper_id, error)
            return None
        self.search.refresh(wait=False)  # the card comes from the library, not the index
        return self.library.get(paper.id)

    # -- pieces ------------------------------------------------------------------------------

    def trending(self) -> dict[str, Any]:
        day, papers = self.library.latest_listing()
        return render.trending_message(day, papers)

    def bibtex(self, user: str) -> Reply:
        papers = self.library.saved_papers(user)
        inline = render.bibtex_message(papers)
        if inline is not None:
            return Reply(inline)
        note = render.message(
            f"BibTeX for {plural(len(papers), 'paper')}",
            [
                render.text_section(
                    f"BibTeX for your {plural(len(papers), 'saved paper')} is attached."
                )
            ],
        )
        return Reply(note, file=("reading-list.bib", render.bibtex_text(papers)))

    def follow(self, user: str, query: str, follow: bool) -> dict[str, Any]:
        verb = "follow" if follow else "unfollow"
        if not re.search(r"[^\W_]", query):
            return render.message(
                f"Usage: /papers {verb} TOPIC",
                [
                    render.text_section(
                        f"Usage: `/papers {verb} TOPIC`, e.g. `/papers {verb} {EXAMPLE}`."
                    )
                ],
            )
        problem = self.unfollowable(query) if follow else None
        if problem:
            return render.message(problem, [render.text_section(render.esc(problem))])
        try:
            changed = self.follows.add(user, query) if follow else self.follows.remove(user, query)
        except StoreWriteError:
            return render.message(could_not_save(verb), [render.text_section(could_not_save(verb))])
        shown = render.esc_short(query, 200)
        if follow:
            text = (
                f"Following _{shown}_: new papers that match will come to you in a DM."
                if changed
                else f"You already follow _{shown}_."
            )
        else:
            text = (
                f"Stopped following _{shown}_." if changed else f"You were not following _{shown}_."
            )
        return render.message(render.mrkdwn_to_text(text), [render.text_section(text)])

    def unfollowable(self, query: str) -> str | None:
        """Why a follow could never alert anyone, or None when it can."""
        how = "Follow words or an author, e.g. `/papers follow speculative decoding` or "
        how += "`/papers follow author:goldstein`."
        if len(query) > MAX_FOLLOW_CHARS:
            return (
                f"That is too long to follow ({len(query):,} characters, at most "
                f"{MAX_FOLLOW_CHARS}). {how}"
            )
        parsed = parse_query(query)
        if parsed.paper_id:
            return f"arXiv {parsed.paper_id} is one paper: no new paper can match it. {how}"
        if parsed.problem:
            return " ".join(parsed.notes) or how
        if not parsed.text and not parsed.authors:
            return f"A date alone is not a topic: it would match every new paper. {how}"
        if parsed.text and not self.search.has_words(parsed.text):
            return f"Those words are too common to follow: they would match anything. {how}"
        return None

    def following(self, user: str) -> dict[str, Any]:
        topics = self.follows.of_user(user)
        if not topics:
            text = "You follow no topics. Try `/papers follow speculative decoding`."
        else:
            text = "*You follow:*\n" + "\n".join(f"• {render.esc_short(t, 200)}" for t in topics)
        return render.message(render.mrkdwn_to_text(text), [render.text_section(text)])
