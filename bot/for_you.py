"""For you, as people meet it: `/papers foryou`, the App Home section, Not interested, the
opt-in morning DM of picks, and `/papers forget me`. No Bolt here: Slack and the console both
render what these return; everything is for one person's eyes (ephemeral, Home, DM).

The morning DM goes after the day's digest: each person who opted in (`/papers picks on`) gets
their top 3 of the new papers that the channel digest did not already show, only when at least
one is close enough to something they saved (`PICK_FLOOR`), never a paper sent before, one DM a
day. Each DM is claimed in the library before it is sent, so a process killed mid-run and
rerun never messages anyone twice; DMs are paced under Slack's rate limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot import render
from bot.delivery import Messenger, Outcome, PostRefused
from bot.library import StoreWriteError
from bot.models import Paper
from bot.render import replies
from bot.runtime import Runtime
from bot.search import SearchResult
from bot.taste.picks import PICK_FLOOR, Pick

log = logging.getLogger(__name__)
HOME_DAYS = 30  # the App Home picks from the last month first
HOME_PICKS = 5
MORNING_PICKS = 3
DM_INTERVAL = 1.0  # seconds between two DMs: Slack's chat.postMessage allows about one a second


@dataclass
class Picks:
    papers: list[tuple[Paper, Paper | None]]  # each pick and the saved paper it is most like
    more: bool = False
    empty: str = ""


def _pairs(picks: Sequence[Pick]) -> list[tuple[Paper, Paper | None]]:
    return [(p.paper, p.like) for p in picks]


def _empty(runtime: Runtime, user: str) -> str:
    ready = runtime.for_you.features.current() is not None
    saved = bool(runtime.library.saves.of_user(user))
    return render.no_picks_text(saved, ready, runtime.settings.save_emoji)


def picks_page(runtime: Runtime, user: str, offset: int = 0) -> Picks:
    """`/papers foryou` and its More button: the whole library, five at a time."""
    found = runtime.for_you.picks(user, render.for_you.PAGE_SIZE + 1, offset=max(0, offset))
    shown = found[: render.for_you.PAGE_SIZE]
    return Picks(_pairs(shown), more=len(found) > len(shown), empty=_empty(runtime, user))


def home_picks(runtime: Runtime, user: str, today: date) -> Picks:
    """The App Home: the best of the last 30 days, the whole library when those are too few."""
    since = (today - timedelta(days=HOME_DAYS)).isoformat()
    recent = runtime.library.catalog.listed_ids(since, today.isoformat())
    found = runtime.for_you.picks(user, HOME_PICKS, pool=recent, floor=PICK_FLOOR)
    if len(found) < HOME_PICKS:
        seen = {p.paper.id for p in found}
        more = runtime.for_you.picks(user, HOME_PICKS, exclude=seen)
        found += more[: HOME_PICKS - len(found)]
    return Picks(_pairs(found), empty=_empty(runtime, user))


def more_like_this(runtime: Runtime, paper: Paper, limit: int = 5) -> list[SearchResult]:
    """The papers most like one paper, by the For you model fitted on it alone (the bench
    measures it well above the search engine's shared-terms query); the search engine's answer
    while a big library's features are first built."""
    similar = runtime.for_you.like(paper.id, limit)
    if similar is None:
        return runtime.search.more_like(paper.id, limit)
    return [SearchResult(p, 0.0) for p in similar]


def not_interested(runtime: Runtime, user: str, paper: Paper) -> Outcome:
    """Mark a paper Not interested for this person (a button or the hide reaction)."""
    changed = _marked(runtime.library.tastes.hide, user, paper, "Not interested")
    if changed is None:
        return Outcome(False, replies.COULD_NOT_NOTE, True)
    return Outcome(changed, replies.not_interested(render.title_of(paper), changed))


def interested_again(runtime: Runtime, user: str, paper: Paper) -> Outcome:
    """Undo Not interested (the hide reaction removed)."""
    changed = _marked(runtime.library.tastes.unhide, user, paper, "undoing Not interested")
    if changed is None:
        return Outcome(False, replies.COULD_NOT_NOTE, True)
    return Outcome(changed, replies.interested_again(render.title_of(paper)))


def _marked(change: Callable[[str, str], bool], user: str, paper: Paper, what: str) -> bool | None:
    """Whether `change` changed the person's marks; None when the library could not be written."""
    try:
        return change(user, paper.id)
    except StoreWriteError as error:
        log.error("%s for %s failed: %s", what, user, error)
        return None


def set_morning_picks(runtime: Runtime, user: str, on: bool) -> str:
    try:
        runtime.library.tastes.set_picks(user, on)
    except StoreWriteError as error:
        log.error("picks %s for %s failed: %s", on, user, error)
        return replies.COULD_NOT_CHANGE
    return replies.morning_picks(on)


def forget_me(runtime: Runtime, user: str) -> str:
    """Delete the person's saves, follows, Not interested marks, picks, shares, citation
    alerts and model."""
    library = runtime.library
    saves = [paper_id for paper_id, _ in library.saves.of_user(user)]
    follows = library.follows.of_user(user)
    try:
        for paper_id in saves:
            library.saves.remove(user, paper_id)
        library.follows.forget(user)  # the follows, and which papers were sent to them
        library.tastes.forget(user)
        library.shares.forget(user)  # the links they posted no longer count for the team
        library.citation_alerts.forget(user)  # the subscription and what was sent
    except StoreWriteError as error:
        log.error("forget me for %s failed: %s", user, error)
        return replies.COULD_NOT_FORGET
    runtime.for_you.forget(user)
    return replies.forgotten(len(saves), len(follows))


def send_morning_picks(
    runtime: Runtime,
    messenger: Messenger,
    day: date,
    new_ids: Sequence[str],
    shown_ids: Sequence[str] = (),
    pace: float = DM_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, list[str]]:
    """DM each opted-in person their top new papers of `day`; returns who got which."""
    tastes = runtime.library.tastes
    pool = sorted(set(new_ids) - set(shown_ids))
    sent: dict[str, list[str]] = {}
    if not pool:
        return sent
    for user in tastes.picks_people():
        try:
            papers = _morning_picks(runtime, user, pool)
            ids = [p.id for p, _ in papers]
            if not papers or not tastes.claim_picks(user, day.isoformat(), ids):
                continue
            if sent and pace:
                sleep(pace)
            message = render.picks_dm_message(papers, _day(day))
            ts = messenger.post(messenger.open_dm(user), message)
            tastes.picks_delivered(user, day.isoformat(), ts)
            sent[user] = ids
        except PostRefused as error:  # claimed and refused: not sent today, never twice
            log.warning("morning picks for %s refused by Slack: %s", user, error)
        except Exception:  # one person's trouble must not stop the others
            log.exception("morning picks for %s failed", user)
    return sent


def _morning_picks(
    runtime: Runtime, user: str, pool: list[str]
) -> list[tuple[Paper, Paper | None]]:
    before = runtime.library.tastes.picked_before(user)
    found = runtime.for_you.picks(
        user, MORNING_PICKS, pool=pool, floor=PICK_FLOOR, exclude=sorted(before)
    )
    return _pairs(found)


def _day(day: date) -> str:
    return day.strftime("%a %-d %b %Y")
