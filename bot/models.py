"""Paper records and canonical arXiv ids.

Every paper is keyed by its canonical arXiv id: no version, no prefix, no URL. Anything a user
or an API hands us (`2408.08338v2`, `arXiv:2408.08338`, an abs/pdf/Hugging Face URL, an
old-style `hep-th/9901001`) is turned into that key by `canonical_id`.
"""

from __future__ import annotations

import operator
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# New-style ids (since 2007): YYMM.NNNN (to 2014) or YYMM.NNNNN, optional version.
_NEW_ID = r"(?P<new>\d{4}\.\d{4,5})"
# Old-style ids: archive(.SUBJECT)/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = r"(?P<old>[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})"
_VERSION = r"(?:v\d+)?"
_HOSTS = r"(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|hf\.co/papers/|alphaxiv\.org/(?:abs|overview|pdf)/)"
_ID_RE = re.compile(
    rf"^(?:{_HOSTS}|arxiv:\s*)?(?:{_NEW_ID}|{_OLD_ID}){_VERSION}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


# A repository's page: github.com/OWNER/NAME or gitlab.com/GROUP/.../NAME, nothing deeper.
_REPO = re.compile(
    r"https?://(?:www\.)?(?:github\.com/[\w.-]+/[\w.-]+|gitlab\.com/[\w.-]+(?:/[\w.-]+)+)"
)


def canonical_id(text: str) -> str | None:
    """Return the canonical arXiv id that `text` names, or None if it names none."""
    if not isinstance(text, str):
        return None
    candidate = text.strip().strip("<>")
    if len(candidate) > 300:
        return None
    match = _ID_RE.match(candidate)
    if not match:
        return None
    if match.group("new"):
        month = int(match.group("new")[2:4])
        return match.group("new") if 1 <= month <= 12 else None  # 2413.00001 names no paper
    archive, number = match.group("old").split("/")
    # The archive is lower case; a subject class (math.GT) keeps its capitals.
    if "." in archive:
        name, subject = archive.split(".", 1)
        archive = f"{name.lower()}.{subject.upper()}"
    else:
        archive = archive.lower()
    return f"{archive}/{number}"


def arxiv_url(paper_id: str) -> str:
    return f"https://arxiv.org/abs/{paper_id}"


def hf_url(paper_id: str) -> str:
    return f"https://huggingface.co/papers/{paper_id}"


@dataclass(slots=True)  # slots: a third less memory per paper at 100,000 papers
class Paper:
    """One paper of the library, as stored in the catalog."""

    id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # arXiv first-submission date, YYYY-MM-DD
    listed: str | None = None  # the Daily Papers day it was listed on, YYYY-MM-DD
    upvotes: int = 0
    comments: int = 0
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    organization: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] = field(default_factory=list)
    source: str = ""  # where it came from: "hf-daily", "arxiv", ... (comma-separated, sorted)
    first_seen: str | None = None
    updated: str | None = None
    categories: list[str] = field(default_factory=list)  # arXiv's, primary first: cs.LG, ...
    comment: str | None = None  # arXiv's author comment ("20 pages, 3 figures")
    doi: str | None = None
    journal_ref: str | None = None
    llm_summary: str | None = None  # an LLM's TL;DR (PAPERS_LLM_URL), kept once made
    llm_summary_by: str | None = None  # "MODEL prompt-VERSION": another model makes a new one
    # Semantic Scholar's figures (`bot.ingest.enrich`), and when it was last asked (also
    # when it did not know the paper: `scholar_known` False, asked again a week later).
    citations: int | None = None
    influential_citations: int | None = None
    venue: str | None = None
    year: int | None = None
    scholar_checked: str | None = None
    scholar_known: bool | None = None

    @property
    def url(self) -> str:
        return arxiv_url(self.id)

    @property
    def hf_url(self) -> str:
        return hf_url(self.id)

    @property
    def code_url(self) -> str | None:
        """Its code: the repository Hugging Face reports, else the first GitHub or GitLab
        repository written in its abstract or arXiv comment."""
        if self.github_repo and _REPO.match(self.github_repo):
            return self.github_repo
        for text in (self.abstract, self.comment or ""):
            found = _REPO.search(text)
            if found:
                return found.group(0).rstrip(".,;:)")
        return None

    @property
    def pdf_url(self) -> str:
        """The latest version's PDF (arXiv's `link title="pdf"`, without the version)."""
        return f"https://arxiv.org/pdf/{self.id}"

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def date(self) -> str | None:
        """The date shown to people and used by `since:`: arXiv date, else listing day."""
        return self.published or self.listed

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Paper:
        """A stored record as a Paper. Fields a later release added are ignored; fields an
        older one lacked get their defaults."""
        try:
            # Positional: a decoded record's keys are not interned strings, and matching 23
            # keyword arguments by string comparison is several times slower; a search reads
            # 10 papers, a digest hundreds.
            return cls(*_FIELD_VALUES(record))
        except KeyError:  # a record from an older release
            return cls(**{k: v for k, v in record.items() if k in _KNOWN_FIELDS})


PAPER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Paper))
_KNOWN_FIELDS = frozenset(PAPER_FIELDS)
_FIELD_VALUES = operator.itemgetter(*PAPER_FIELDS)  # in the order of Paper's fields


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class ChannelDigest:
    """One channel's digest: when (daily, or weekly on `weekday`, at `time` in `zone`) and on
    what (`topic`: a search; "" for every trending paper). `set_by` None: the operator's
    default channel (PAPERS_CHANNEL), not set in Slack. `quiet`: a day with nothing on the
    topic posts nothing (else one line saying so)."""

    team: str
    channel: str
    cadence: str = "daily"  # or "weekly"
    weekday: int | None = None  # weekly: 0 Monday .. 6 Sunday
    time: str = "09:00"
    zone: str = "UTC"
    topic: str = ""
    quiet: bool = True
    active: bool = True
    set_by: str | None = None
    off_reason: str | None = None

    @property
    def weekly(self) -> bool:
        return self.cadence == "weekly"

    @property
    def day_name(self) -> str:
        return WEEKDAYS[self.weekday or 0].capitalize()

    def last_run(self, now: datetime) -> datetime:
        """Its latest scheduled time at or before `now` (DST moves the UTC time, never the
        local one)."""
        zone = ZoneInfo(self.zone)
        hour, minute = (int(x) for x in self.time.split(":"))
        local = now.astimezone(zone)
        back = 0
        if self.weekly:
            back = (local.weekday() - (self.weekday or 0)) % 7
        for days in (back, back + (7 if self.weekly else 1)):
            day = local.date() - timedelta(days=days)
            at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            if at <= local:
                return at
        raise AssertionError("unreachable: the second candidate is a full period earlier")

    def row(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ChannelDigest:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in known})
