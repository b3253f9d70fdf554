"""Links to papers posted in Slack (`link_shared`): which paper each link names, the papers
themselves (looked up on Hugging Face, then arXiv, when the library lacks them) and the share,
remembered so a reaction on the message saves its papers and the team's week counts it.

No Bolt here: the Slack listener hands in the event's links and sends what `bot.render`
makes of the papers with one `chat.unfurl`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from bot.ingest.lookup import look_up_anywhere
from bot.library import StoreWriteError
from bot.models import Paper, canonical_id
from bot.runtime import Runtime

log = logging.getLogger(__name__)

# A card must reach Slack within 10 s of the link (the promise); looking up papers the
# library lacks gets 8 of them, the rest is Slack's round trips.
LOOKUP_SECONDS = 8.0
LEAST_LOOKUP_SECONDS = 1.0  # less than this left: the next paper is not looked up
MOST_CARDS = 10  # a message with more paper links unfurls its first ten
SHARED_IN_SLACK = "slack-share"  # the `source` of a paper the library first met as a link


def papers_named(links: Iterable[Any]) -> dict[str, str]:
    """URL -> paper id for each link of Slack's `links` that names a paper, in order; links
    to anything else (a listing, a search, a profile) are left to Slack's own preview."""
    named: dict[str, str] = {}
    for link in links:
        url = link.get("url") if isinstance(link, dict) else None
        if not isinstance(url, str):
            continue
        paper_id = canonical_id(url)
        if paper_id and url not in named and len(set(named.values()) | {paper_id}) <= MOST_CARDS:
            named[url] = paper_id
    return named


def papers_for_links(runtime: Runtime, links: Iterable[Any]) -> dict[str, Paper]:
    """URL -> paper for each link naming a paper the library has or could find; a paper found
    nowhere (or not in time) has no entry."""
    named = papers_named(links)
    wanted = list(dict.fromkeys(named.values()))
    found = {paper.id: paper for paper in runtime.library.get_many(wanted)}
    missing = [paper_id for paper_id in wanted if paper_id not in found]
    if missing:
        found |= _looked_up(runtime, missing)
    runtime.enrich_later(found.values())  # citation counts for the next showing
    return {url: found[paper_id] for url, paper_id in named.items() if paper_id in found}


def _looked_up(runtime: Runtime, paper_ids: list[str]) -> dict[str, Paper]:
    deadline = time.monotonic() + LOOKUP_SECONDS
    found: dict[str, Paper] = {}
    for paper_id in paper_ids:
        left = deadline - time.monotonic()
        if left < LEAST_LOOKUP_SECONDS:
            log.warning("no time left to look up %s for its link's card", paper_id)
            break
        paper = look_up_anywhere(runtime.settings, runtime.library, paper_id, SHARED_IN_SLACK, left)
        if paper is not None:  # else look_up_anywhere said why, in one line
            found[paper.id] = paper
    if found:
        runtime.search.refresh(wait=False)  # searchable soon; the card comes from the library
    return found


def remember_share(
    runtime: Runtime, channel: str, ts: str, user: str, papers: list[Paper], private: bool
) -> None:
    """Record that `user`'s message (channel, ts) carries `papers`; a failed write is one log
    line (the card was already sent; only the reaction and the counts miss it)."""
    try:
        runtime.library.shares.record(channel, ts, user, [p.id for p in papers], private)
    except StoreWriteError as error:
        log.error("the share of %s in %s was not remembered: %s", len(papers), channel, error)
