"""Citation alerts: once a week, each person who asked (`/papers citations on`) gets a DM with
the new papers citing the papers they saved, grouped by saved paper, each with Save.

"New" means not seen before by that person: every citing paper sent is recorded
(`CitationAlerts`), so none is sent twice, whatever its date; a paper Semantic Scholar adds
late, with an old date, is still sent once it appears. A person's first check records what
cites their papers already as a starting point (a first DM of hundreds of old citations would
be noise) and sends only those dated within the last week; so does the first look at a paper
saved later (one no citing paper was recorded for yet). Claimed before the DM, released if
Slack refuses it: at most once. A saved paper's citing papers are asked for once per run,
whoever saved it.

When: Monday 09:00 in the workspace's zone (its channel digests' last zone, else
PAPERS_TIMEZONE), from the minute tick of `bot.daily.workspaces`, one replica per week
(`claim_week`); `papers-bot citations --now` runs it at once for everyone subscribed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery import Messenger, PostRefused
from bot.library import Library, StoreWriteError
from bot.models import Paper
from bot.render import citations as words
from bot.render import replies
from bot.runtime import Runtime
from bot.sources.semantic_scholar import CitingPaper, ScholarClient, ScholarError

log = logging.getLogger(__name__)
CHECK_WEEKDAY, CHECK_TIME = 0, (9, 0)  # Monday 09:00, the workspace's zone
NEW_DAYS = 7  # a first check sends what is dated within this many days
MOST_SAVED = 100  # saved papers looked at per person (the newest saves)
Citing = Callable[[str], list[CitingPaper] | None]


@dataclass
class CheckReport:
    sent: dict[str, int] = field(default_factory=dict)  # user -> citing papers sent
    started: dict[str, int] = field(default_factory=dict)  # user -> recorded as a start
    failed: list[str] = field(default_factory=list)  # saved papers Semantic Scholar failed


def set_alerts(runtime: Runtime, user: str, choice: str) -> str:
    """`/papers citations on|off`."""
    if choice not in ("on", "off"):
        return words.CITATIONS_USAGE
    if choice == "on" and not runtime.settings.enrich:
        return words.CITATIONS_OFF_HERE
    try:
        changed = runtime.library.citation_alerts.turn(user, choice == "on")
    except StoreWriteError:
        return replies.COULD_NOT_CHANGE
    return words.citations_set(choice == "on", changed)


def check_week(runtime: Runtime, messenger: Messenger, citing: Citing, today: date) -> CheckReport:
    """Everyone subscribed in this workspace: their new citing papers, in one DM each."""
    library = runtime.library
    asked: dict[str, list[CitingPaper] | None] = {}
    report = CheckReport()
    for person in library.citation_alerts.people():
        user = person["user"]
        try:
            first = person.get("checked") is None
            _check_person(library, messenger, user, first, today, asked, citing, report)
        except Exception:  # one person's trouble must not stop the others
            log.exception("citation alerts for %s failed", user)
    report.failed = sorted(paper for paper, found in asked.items() if found is None)
    return report


def _check_person(
    library: Library,
    messenger: Messenger,
    user: str,
    first: bool,
    today: date,
    asked: dict[str, list[CitingPaper] | None],
    citing: Citing,
    report: CheckReport,
) -> None:
    alerts = library.citation_alerts
    seen, watched = alerts.seen(user), alerts.watched(user)
    saved = [paper_id for paper_id, _ in library.saves.of_user(user)][:MOST_SAVED]
    groups: list[tuple[Paper, list[CitingPaper]]] = []
    start: list[tuple[str, str]] = []
    for paper in library.get_many(saved):
        if paper.id not in asked:
            asked[paper.id] = _ask(citing, paper.id)
        new = [c for c in asked[paper.id] or [] if c.scholar_id not in seen]
        seen |= {c.scholar_id for c in new}
        if first or paper.id not in watched:  # a paper's first look: its starting point
            recent = (today - timedelta(days=NEW_DAYS)).isoformat()
            start += [(c.scholar_id, paper.id) for c in new if not (c.date and c.date >= recent)]
            new = [c for c in new if c.date and c.date >= recent]
        if new:
            groups.append((paper, new))
    if start:
        report.started[user] = alerts.claim(user, start, sent=False)
    shown = _at_most(groups, words.MOST_SHOWN)
    if shown:
        _send(library, messenger, user, shown, report)
    if not any(asked.get(paper_id, []) is None for paper_id in saved):
        alerts.checked(user)  # a failed first look stays a first look


def _ask(citing: Citing, paper_id: str) -> list[CitingPaper] | None:
    try:
        return citing(paper_id)
    except ScholarError as error:
        log.warning("citing papers of %s not fetched: %s", paper_id, error)
        return None


def _at_most(
    groups: list[tuple[Paper, list[CitingPaper]]], most: int
) -> list[tuple[Paper, list[CitingPaper]]]:
    """The first `most` citing papers (the rest are not recorded: they come next week)."""
    kept, left = [], most
    for paper, new in groups:
        if left <= 0:
            break
        kept.append((paper, new[:left]))
        left -= len(new[:left])
    return kept


def _send(
    library: Library,
    messenger: Messenger,
    user: str,
    groups: list[tuple[Paper, list[CitingPaper]]],
    report: CheckReport,
) -> None:
    pairs = [(c.scholar_id, paper.id) for paper, new in groups for c in new]
    alerts = library.citation_alerts
    alerts.claim(user, pairs, sent=True)
    _keep_citing_papers(library, [c for _, new in groups for c in new])
    try:
        channel = messenger.open_dm(user)
        messenger.post(channel, words.citation_alert_message(groups))
    except PostRefused as refused:
        log.warning("citation alert for %s refused (%s); sent next week", user, refused.code)
        alerts.release(user, [c for c, _ in pairs])
        return
    report.sent[user] = len(pairs)


def _keep_citing_papers(library: Library, citing: list[CitingPaper]) -> None:
    """Citing papers on arXiv go into the library, so their Save button saves them."""
    known = {p.id for p in library.get_many([c.arxiv_id for c in citing if c.arxiv_id])}
    new = [
        Paper(
            c.arxiv_id,
            c.title,
            authors=list(c.authors),
            published=c.date,
            source="semantic-scholar",
        )
        for c in citing
        if c.arxiv_id and c.arxiv_id not in known
    ]
    if new:
        library.upsert_many(new)


# -- when --------------------------------------------------------------------------------------


def week_due(zone: str, now: datetime, grace_hours: float) -> str | None:
    """The ISO week ("2026-W49") whose Monday-morning check is due at `now` in `zone`, or
    None (not yet, or more than the grace ago)."""
    local = now.astimezone(ZoneInfo(zone))
    monday = local.date() - timedelta(days=(local.weekday() - CHECK_WEEKDAY) % 7)
    at = datetime(monday.year, monday.month, monday.day, *CHECK_TIME, tzinfo=ZoneInfo(zone))
    if not (at <= local and local - at <= timedelta(hours=grace_hours)):
        return None
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def scholar_citing(runtime: Runtime) -> tuple[ScholarClient, Citing]:
    """A client (to close) and its `citing` call, with the installation's settings."""
    client = ScholarClient(runtime.settings.scholar_url, runtime.settings.scholar_key)
    return client, client.citing
