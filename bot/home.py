"""The App Home tab of one person, as a Slack view: their reading list, the latest digest, the
library's span and their For you picks. No Bolt here: `SlackBot.refresh_home` publishes it."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import for_you, render
from bot.digest import latest_digest_papers
from bot.runtime import Runtime
from bot.team import most_read


def home_view(runtime: Runtime, user: str, today: date) -> dict[str, Any]:
    library = runtime.library
    day, digest = latest_digest_papers(library)
    first, last = library.catalog.listing_span()
    picks = for_you.home_picks(runtime, user, today)
    week = most_read(library, limit=5) if runtime.settings.team_signals else []
    return render.home_view(
        library.saved_papers(user),
        day,
        digest,
        runtime.settings.save_emoji,
        library=(len(library), first, last),
        for_you=render.for_you_home_blocks(picks.papers, picks.empty),
        team=render.team_home_blocks(week),
    )
