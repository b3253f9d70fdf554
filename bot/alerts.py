"""Follow alerts: after an ingest, new papers that match a user's follow go to them in one DM.

"Match well" means every word of the followed topic matches (coverage 1.0, through the same
engine as search: acronyms, typos and word forms included) and the score clears a floor that
keeps one stray mention deep in an abstract out. An author follow (`author:goldstein`,
`author:"Tom Goldstein"`) matches every new paper by that author. Each paper reaches each user
once, ever.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from bot import render
from bot.delivery import Messenger
from bot.models import Paper
from bot.runtime import Runtime
from bot.search.filters import author_matches
from bot.search.query import parse_query

log = logging.getLogger(__name__)
MIN_SCORE = 3.0
SEARCH_DEPTH = 200


def follow_matches(runtime: Runtime, query: str, new_ids: set[str]) -> list[Paper]:
    parsed = parse_query(query)
    if not parsed.text and parsed.authors:  # `author:NAME`: every new paper of theirs
        papers = (runtime.library.get(paper_id) for paper_id in sorted(new_ids))
        return [
            p for p in papers if p and all(author_matches(a, p.authors) for a in parsed.authors)
        ]
    # By the words alone: an alert says a new paper is about the topic, not near it.
    response = runtime.search.search(query, limit=SEARCH_DEPTH, meaning=False)
    return [
        r.paper
        for r in response.results
        if r.paper.id in new_ids and r.coverage == 1.0 and r.score >= MIN_SCORE
    ]


def send_follow_alerts(
    runtime: Runtime, messenger: Messenger, new_ids: list[str]
) -> dict[str, list[str]]:
    """DM each follower the new papers for their topics; returns user -> paper ids sent."""
    if not new_ids:
        return {}
    follows = runtime.library.follows
    fresh = set(new_ids)
    per_user: dict[str, list[tuple[str, list[Paper]]]] = defaultdict(list)
    for user, query in follows.all():
        papers = [
            p
            for p in follow_matches(runtime, query, fresh)
            if not follows.already_alerted(user, p.id)
        ]
        if papers:
            per_user[user].append((query, papers))
    sent: dict[str, list[str]] = {}
    for user, topics in per_user.items():
        ids = list(dict.fromkeys(p.id for _, papers in topics for p in papers))
        try:
            channel = messenger.open_dm(user)
            messenger.post(channel, render.alert_message(topics))
        except Exception as error:  # one user's failure must not stop the others
            log.warning("follow alert for %s not sent: %s", user, error)
            continue
        follows.mark_alerted(user, ids)
        sent[user] = ids
    return sent
