"""Follow alerts: after an ingest, new papers that match a user's follow go to them in one DM.

"Match well" is `bot.search.topics`' rule, the channel digests' too: every word of the
followed topic matched, with a score over a floor that keeps one stray mention deep in an
abstract out; an author follow (`author:goldstein`) matches every new paper by that author.
Each paper reaches each user once, ever.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from bot import render
from bot.delivery import Messenger
from bot.models import Paper
from bot.runtime import Runtime
from bot.search.topics import topic_matches

log = logging.getLogger(__name__)


def follow_matches(runtime: Runtime, query: str, new_ids: set[str]) -> list[Paper]:
    """The new papers on the followed topic (`bot.search.topics`: the digests' rule too)."""
    papers = runtime.library.get_many(sorted(new_ids))
    matched = topic_matches(runtime.search, query, papers)
    return [p for p in papers if p.id in matched]


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
