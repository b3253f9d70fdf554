"""Settings from the environment and `.env`, with one clear error for what is wrong.

Every setting is declared once, below, as a field of `Settings`: its variable, how its text is
read (`read`, which raises ValueError for a malformed value), its default, its range and the
words that explain it. `load_settings` reads each one the same way; `.env.example` and
README's settings table are written from these declarations (`scripts/settings_docs.py`,
checked by `make lint`), so the three never disagree. A malformed value never raises on its
own: every problem is collected in `Settings.problems`, each naming its variable, and a
command checks the ones it uses (`require_valid`).

Why not pydantic: declaring these fields with it gave the same messages, and made every
process start 0.24 s slower (its import and schema build: a cold `papers-bot search` went
from 0.12 to 0.36 s), for what a dozen small readers below do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.text import whole_number

SETUP_HINT = "See README.md, section 'Slack setup', and .env.example."
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_HF_API_URL = "https://huggingface.co/api"
DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_ARXIV_HTML_URL = "https://arxiv.org/html"
DEFAULT_SCHOLAR_URL = "https://api.semanticscholar.org/graph/v1"
ARXIV_CATEGORY_RE = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")
DATABASE_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")

# The sections of `.env.example`, in order: (key, heading).
GROUPS = {
    "slack": 'Slack (see README, "Slack setup")',
    "library": "The library",
    "digest": "Digests (the operator's default channel digest; channels set their own in Slack)",
    "hf": "Hugging Face",
    "llm": "LLM TL;DRs (optional; off unless both the URL and the model are set)",
    "semantic": "Search by meaning (added to the contract)",
    "arxiv": "arXiv",
    "sharing": "Links and team signals (added to the contract)",
    "scholar": "Citations and code: Semantic Scholar (added to the contract)",
}


class SettingsError(ValueError):
    """One or more settings are missing or malformed; the message names each one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"papers-bot cannot start:\n{lines}\n{SETUP_HINT}")


def load_env_file(path: str | Path = ".env") -> None:
    """Load `.env` from the working directory; real environment variables win."""
    from dotenv import load_dotenv

    load_dotenv(path, override=False)


# -- how values are read -------------------------------------------------------------------


def _text(value: str) -> str:
    return value


def _flag(value: str) -> bool:
    """Anything but 0/false/no/off is on (`PAPERS_SCHEDULER=yes`, `=1`, `=true`)."""
    return value.strip().lower() not in ("0", "false", "no", "off")


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _emoji(value: str) -> list[str]:
    names = [name.strip(":") for name in _csv(value)]
    if not names:
        raise ValueError("no reaction names")
    return names


def _whole(value: str) -> int:
    """Only ASCII digits are a whole number (`5`, not `5.0`, `+5` or `²`)."""
    number = whole_number(value)
    if number is None:
        raise ValueError("not a whole number")
    return number


def _hours(value: str) -> float:
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("not a number")
    return number


def _time(value: str) -> str:
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        raise ValueError("not HH:MM")
    return value


def zone_name(name: str) -> str:
    """The IANA spelling of a zone typed in another case (`utc`, `europe/paris`)."""
    try:
        ZoneInfo(name)  # spelled right: one file read, not a scan of every zone (40 ms)
        return name
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    by_folded = {zone.casefold(): zone for zone in available_timezones()}
    return by_folded.get(name.casefold(), name)


def _zone(value: str) -> str:
    value = zone_name(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("not a zone") from None
    return value


def _url(value: str) -> str:
    if not re.match(r"^https?://", value):
        raise ValueError("not an http(s) URL")
    return value


def _base_url(value: str) -> str:
    """A base URL that paths are joined to (`…/api/` + `chat.postMessage`)."""
    url = _url(value)
    return url if url.endswith("/") else url + "/"


def _root_url(value: str) -> str:
    """A base URL that paths starting with `/` are added to."""
    return _url(value).rstrip("/")


def _database_url(value: str) -> str:
    if not value.startswith(DATABASE_SCHEMES):
        raise ValueError("not a PostgreSQL URL")
    return value


def _rate(value: str) -> tuple[int, float]:
    """`450/300` (requests per seconds) -> (450, 300.0)."""
    match = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)s?", value)
    if not (match and int(match[1]) >= 1 and float(match[2]) > 0):
        raise ValueError("not REQUESTS/SECONDS")
    return int(match[1]), float(match[2])


def channel_problem(channel: str, where: str) -> str | None:
    """Why `channel` is not a Slack channel id, naming where it came from; None when it is."""
    if re.fullmatch(r"[CGD][A-Z0-9]{2,}", channel):
        return None
    return (
        f"{where}: {channel!r} is not a channel id (C0123ABCD; in Slack: channel details, "
        "bottom of the About tab)"
    )


def _channels(value: str) -> list[str]:
    channels = _csv(value)
    for channel in channels:
        problem = channel_problem(channel, "PAPERS_CHANNEL")
        if problem:
            raise ValueError(problem)
    return channels


def _categories(value: str) -> list[str]:
    categories = _csv(value)
    for category in categories:
        if not ARXIV_CATEGORY_RE.fullmatch(category):
            raise ValueError(
                f"PAPERS_ARXIV_CATEGORIES: {category!r} is not an arXiv category (cs.LG, stat.ML)"
            )
    return categories


def setting(
    env: str,
    read: Callable[[str], Any],
    default: Any,
    group: str,
    meaning: str,
    note: str,
    *,
    example: str | None = None,
    must: str | None = None,
    shown: str | None = None,
    secret: bool = False,
    added: bool = False,
    listed: bool = True,
    also: str | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> Any:
    """One setting's declaration: the variable `env`, how its text is `read`, its default
    (a function for a list), the range [`ge`, `le`] of a number, README's `meaning`, the
    `note` above it in `.env.example` (and the `example` value written there, commented out
    unless `listed` is False: then it is a line to fill in), what a value `must` be (for the
    error), how README `shown`s the default, whether it is a `secret` (never echoed back),
    whether it was `added` to the contract, and `also` a second variable read when unset."""
    declaration = {
        "env": env,
        "read": read,
        "ge": ge,
        "le": le,
        "group": group,
        "meaning": meaning,
        "note": note,
        "example": example,
        "must": must,
        "shown": shown,
        "secret": secret,
        "added": added,
        "listed": listed,
        "also": also,
    }
    if callable(default):
        return field(default_factory=default, metadata=declaration)
    return field(default=default, metadata=declaration)


@dataclass
class Settings:
    # -- Slack ---------------------------------------------------------------------------------
    slack_bot_token: str | None = setting(
        "SLACK_BOT_TOKEN",
        _text,
        None,
        "slack",
        "`xoxb-` bot token",
        "Bot User OAuth Token: OAuth & Permissions > Bot User OAuth Token. Starts with xoxb-.",
        secret=True,
        listed=False,
    )
    slack_app_token: str | None = setting(
        "SLACK_APP_TOKEN",
        _text,
        None,
        "slack",
        "`xapp-` app-level token; when set, Socket Mode",
        "App-level token with connections:write: Basic Information > App-Level Tokens. Starts "
        "with xapp-. When set, the bot uses Socket Mode (no public URL needed).",
        secret=True,
        listed=False,
    )
    slack_signing_secret: str | None = setting(
        "SLACK_SIGNING_SECRET",
        _text,
        None,
        "slack",
        "needed in HTTP mode",
        "Basic Information > App Credentials > Signing Secret. Needed in HTTP mode (no "
        "SLACK_APP_TOKEN).",
        secret=True,
        listed=False,
    )
    slack_client_id: str | None = setting(
        "SLACK_CLIENT_ID",
        _text,
        None,
        "slack",
        "both set and no `SLACK_BOT_TOKEN`: installed by OAuth in many workspaces (HTTP mode, "
        "`SLACK_SIGNING_SECRET` needed); a bot token, when set, wins",
        'Installed in many workspaces (README, "Installing in many workspaces"): Basic '
        "Information > App Credentials. With both set and SLACK_BOT_TOKEN empty, the bot serves "
        "GET /slack/install and keeps each workspace's token in the library (HTTP mode; "
        "SLACK_SIGNING_SECRET needed).",
        example="",
        added=True,
    )
    slack_client_secret: str | None = setting(
        "SLACK_CLIENT_SECRET",
        _text,
        None,
        "slack",
        "with `SLACK_CLIENT_ID`: installed by OAuth in many workspaces",
        "",
        example="",
        secret=True,
        added=True,
    )
    slack_api_url: str = setting(
        "SLACK_API_URL",
        _base_url,
        DEFAULT_SLACK_API_URL,
        "slack",
        "base URL of the Slack Web API, for proxies and tests",
        "Base URL of Slack's Web API; change only for a proxy or a local stand-in.",
        must="an http(s) URL",
    )
    port: int = setting(
        "PORT",
        _whole,
        3000,
        "slack",
        "HTTP mode port",
        "HTTP mode: the port of POST /slack/events and GET /healthz.",
        must="a port number from 1 to 65535",
        ge=1,
        le=65535,
    )
    # -- the library ---------------------------------------------------------------------------
    data_dir: Path = setting(
        "PAPERS_DATA_DIR",
        Path,
        lambda: Path("data"),
        "library",
        "where the library lives (with `DATABASE_URL`: only the search index)",
        "Where the library lives (catalog.sqlite3, state.json, index/).",
        example="./data",
        shown="`./data`",
    )
    sample_data: bool = setting(
        "PAPERS_SAMPLE_DATA",
        _flag,
        True,
        "library",
        "a new, empty library starts with the built-in sample papers (`0` to start empty)",
        "A new, empty library starts with the built-in 111 sample papers; 0 to start empty.",
    )
    database_url: str | None = setting(
        "DATABASE_URL",
        _database_url,
        None,
        "library",
        "`postgresql://USER:PASSWORD@HOST:5432/DB`: the catalog and every user's state in "
        'PostgreSQL, shared by replicas (see "Scaling out"); unset, everything stays in '
        "`PAPERS_DATA_DIR`",
        'PostgreSQL instead of files, for several replicas (README, "Scaling out"): the catalog '
        "and every user's state live there; PAPERS_DATA_DIR then holds only this replica's "
        "search index. `papers-bot db upgrade` makes the schema; `papers-bot db copy --from "
        "./data --to URL` moves an existing library in.",
        example="postgresql://papers:secret@127.0.0.1:5432/papers",
        must="a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:5432/DB); leave it unset to "
        "keep the library in PAPERS_DATA_DIR",
        secret=True,
    )
    takeover_seconds: int = setting(
        "PAPERS_TAKEOVER_SECONDS",
        _whole,
        60,
        "library",
        "with `DATABASE_URL`, how often each replica checks for a started, unfinished digest "
        "of the day (its leader died, or Slack failed it midway) and finishes it, within the "
        "grace period; with many workspaces, also how often (at most every 60 s) it looks for a "
        "workspace whose digest is due",
        "With DATABASE_URL: how often (seconds) each replica checks for a started, unfinished "
        "digest of the day (its leader died) and finishes it. With many workspaces, also how "
        "often (at most every 60 s) each replica looks for a workspace whose digest is due.",
        must="whole seconds from 1 to 3600",
        added=True,
        ge=1,
        le=3600,
    )
    # -- the daily digest ----------------------------------------------------------------------
    channels: list[str] = setting(
        "PAPERS_CHANNEL",
        _channels,
        list,
        "digest",
        "channel id(s), comma-separated: the operator's default channel digests (daily, at "
        "`PAPERS_DIGEST_TIME`); any channel can set its own with `/papers digest here`",
        "Channel id(s), comma-separated (channel details > About > at the bottom): the "
        "operator's default channel digests, daily at PAPERS_DIGEST_TIME in PAPERS_TIMEZONE "
        "(one workspace, by SLACK_BOT_TOKEN). Any channel sets its own in Slack with "
        "`/papers digest here [daily | weekly DAY] [HH:MM] [ZONE] [topic QUERY]`, which also "
        "changes or stops these. Empty: no default digest.",
        example="C0123ABCD",
        shown="none",
    )
    digest_time: str = setting(
        "PAPERS_DIGEST_TIME",
        _time,
        "09:00",
        "digest",
        "local time of the default digests (and of the daily fetch for follow alerts)",
        "Local time of PAPERS_CHANNEL's digests and of the daily fetch for follow alerts, "
        "24-hour HH:MM, in PAPERS_TIMEZONE (an IANA zone, any case: utc).",
        must="HH:MM (24-hour)",
    )
    timezone: str = setting(
        "PAPERS_TIMEZONE",
        _zone,
        "UTC",
        "digest",
        "IANA zone of that time (any case: `utc`, `europe/paris`)",
        "",
        must="an IANA zone such as Europe/Paris",
    )
    digest_size: int = setting(
        "PAPERS_DIGEST_SIZE",
        _whole,
        5,
        "digest",
        "papers per digest (1-20)",
        "Papers per digest (1-20).",
        must="a whole number from 1 to 20",
        ge=1,
        le=20,
    )
    digest_grace_hours: float = setting(
        "PAPERS_DIGEST_GRACE_HOURS",
        _hours,
        3.0,
        "digest",
        "if the bot was down at digest time, it still posts on start-up when at most this many "
        "hours late",
        "If the bot was down at digest time, it posts on start-up when at most this many hours "
        "late.",
        example="3",
        shown="3",
        must="hours from 0 to 24",
        added=True,
        ge=0,
        le=24,
    )
    scheduler: bool = setting(
        "PAPERS_SCHEDULER",
        _flag,
        True,
        "digest",
        "`0`: `papers-bot run` posts no digest, so a cron job (`papers-bot digest`, e.g. a "
        "Kubernetes CronJob) can own it",
        "0: `papers-bot run` never posts a digest; a cron job runs `papers-bot digest` instead "
        "(deploy/kubernetes/digest-cronjob.yaml).",
        added=True,
    )
    save_emoji: list[str] = setting(
        "PAPERS_SAVE_EMOJI",
        _emoji,
        lambda: ["bookmark"],
        "digest",
        "reaction name(s), comma-separated, that save a paper",
        "Reaction name(s), comma-separated, that save a paper to the reacting user's list.",
        example="bookmark",
        shown="`bookmark`",
        must="reaction names, comma-separated, such as bookmark",
    )
    hide_emoji: list[str] = setting(
        "PAPERS_HIDE_EMOJI",
        _emoji,
        lambda: ["no_entry_sign"],
        "digest",
        "reaction name(s) that mark a paper Not interested for For you",
        "Reaction name(s) that mark a paper Not interested (For you never picks it for that "
        "person).",
        example="no_entry_sign",
        shown="`no_entry_sign`",
        must="reaction names, comma-separated, such as bookmark",
        added=True,
    )
    # -- Hugging Face --------------------------------------------------------------------------
    hf_api_url: str = setting(
        "HF_API_URL",
        _root_url,
        DEFAULT_HF_API_URL,
        "hf",
        "base URL of the Hugging Face API",
        "",
        must="an http(s) URL",
    )
    hf_token: str | None = setting(
        "HF_TOKEN",
        _text,
        None,
        "hf",
        "a Hugging Face access token, sent as a Bearer token: a higher rate limit for backfills",
        "A Hugging Face access token (hf_...): raises the Hub's rate limit for long backfills "
        "(`papers-bot fetch --since`). Optional; never logged.",
        example="",
        secret=True,
        added=True,
    )
    hf_rate: tuple[int, float] | None = setting(
        "HF_RATE_LIMIT",
        _rate,
        None,
        "hf",
        "at most REQUESTS per SECONDS to Hugging Face, a sliding window",
        "At most this many requests per this many seconds to Hugging Face (default 450/300 "
        "anonymous, 900/300 with HF_TOKEN: under the Hub's 500 per 5 minutes).",
        example="450/300",
        shown="`450/300` (`900/300` with `HF_TOKEN`)",
        must="REQUESTS/SECONDS such as 450/300",
        added=True,
    )
    remote_search: bool = setting(
        "PAPERS_REMOTE_SEARCH",
        _flag,
        True,
        "hf",
        "`0`: a `/papers` search with few matches does not ask Hugging Face's paper search",
        "0: a /papers search with fewer than 3 good matches does not also ask Hugging Face's "
        "paper search (whose finds are added to the library).",
        added=True,
    )
    # -- LLM TL;DRs ----------------------------------------------------------------------------
    llm_url: str | None = setting(
        "PAPERS_LLM_URL",
        _url,
        None,
        "llm",
        "an OpenAI-compatible base URL (`https://api.openai.com/v1`, vLLM, Ollama "
        "`http://localhost:11434/v1`, llama.cpp): with `PAPERS_LLM_MODEL`, TL;DRs by an LLM (see "
        '"LLM TL;DRs")',
        "An OpenAI-compatible API (OpenAI, vLLM, Ollama, llama.cpp all serve POST "
        "{base}/chat/completions). Papers without Hugging Face's AI summary get one grounded "
        "sentence from their title and abstract; a TL;DR whose numbers or names are not in the "
        "abstract is thrown away.",
        example="https://api.openai.com/v1",
        must="an http(s) URL",
        added=True,
    )
    llm_model: str | None = setting(
        "PAPERS_LLM_MODEL",
        _text,
        None,
        "llm",
        "the model it serves; set both or neither",
        "",
        example="gpt-4o-mini",
        added=True,
    )
    llm_api_key: str | None = setting(
        "PAPERS_LLM_API_KEY",
        _text,
        None,
        "llm",
        "sent as a Bearer token; local servers need none",
        "Its key; local servers need none. Never logged. OPENAI_API_KEY is used when this is "
        "unset.",
        example="",
        shown="`OPENAI_API_KEY`",
        secret=True,
        added=True,
        also="OPENAI_API_KEY",
    )
    llm_language: str = setting(
        "PAPERS_LLM_LANGUAGE",
        _text,
        "English",
        "llm",
        "the language the LLM writes TL;DRs in",
        "The language of the TL;DRs.",
        added=True,
    )
    llm_daily_limit: int = setting(
        "PAPERS_LLM_DAILY_LIMIT",
        _whole,
        200,
        "llm",
        "LLM calls a day, across every replica (0: none)",
        "At most this many calls a day, counted across every replica.",
        must="a whole number of calls a day",
        added=True,
        ge=0,
        le=100_000,
    )
    # -- search by meaning ---------------------------------------------------------------------
    semantic: bool = setting(
        "PAPERS_SEMANTIC",
        _flag,
        True,
        "semantic",
        "search by meaning, when the `[semantic]` extra is installed; `0` keeps search lexical",
        "On when the [semantic] extra is installed (make semantic, or pip install "
        "'papers-bot[semantic]'); 0 keeps search by words alone.",
        shown="on (when installed)",
        added=True,
    )
    embedding_model: str | None = setting(
        "PAPERS_EMBEDDING_MODEL",
        _text,
        None,
        "semantic",
        "a sentence-transformers BERT folder (`config.json`, `model.safetensors`, "
        "`tokenizer.json`) to embed with instead; the vectors are made again when it changes",
        "A sentence-transformers BERT folder (config.json, model.safetensors, tokenizer.json) to "
        "embed with instead of the packaged all-MiniLM-L6-v2; changing it makes the vectors "
        "again.",
        example="/models/all-MiniLM-L12-v2",
        shown="the packaged all-MiniLM-L6-v2",
        added=True,
    )
    # -- arXiv ---------------------------------------------------------------------------------
    arxiv_categories: list[str] = setting(
        "PAPERS_ARXIV_CATEGORIES",
        _categories,
        list,
        "arxiv",
        "arXiv categories (`cs.LG,cs.CL,cs.CV`) whose last 3 days of submissions the daily job "
        "also pulls (search and follows get richer; the digest and trending stay Hugging Face "
        "Daily Papers)",
        "arXiv categories the daily job also pulls (their last 3 days of submissions), "
        "comma-separated; empty: none. Backfill one with `papers-bot fetch --arxiv cs.LG "
        "--since 2026-10-01`.",
        example="cs.LG,cs.CL,cs.CV",
        shown="none",
        added=True,
    )
    arxiv_api_url: str = setting(
        "ARXIV_API_URL",
        _url,
        DEFAULT_ARXIV_API_URL,
        "arxiv",
        "the arXiv API, for proxies and tests",
        "The arXiv API; change only for a proxy or a local stand-in.",
        must="an http(s) URL",
        added=True,
    )
    arxiv_html_url: str = setting(
        "ARXIV_HTML_URL",
        _url,
        DEFAULT_ARXIV_HTML_URL,
        "arxiv",
        "arXiv's HTML full texts (`URL/ID`), read to answer `/papers ask`; for proxies and tests",
        "arXiv's HTML full texts (LaTeXML), read to answer /papers ask; change only for a proxy "
        "or a local stand-in.",
        must="an http(s) URL",
        added=True,
    )
    # -- links and team signals -----------------------------------------------------------------
    unfurl: bool = setting(
        "PAPERS_UNFURL",
        _flag,
        True,
        "sharing",
        "unfurl arXiv, Hugging Face and alphaXiv links with a paper card and remember the share "
        "(`0` off: Slack's own preview stays)",
        "Unfurl arXiv, Hugging Face and alphaXiv links with a paper card (Save, react to save); "
        "0 leaves links to Slack's own preview.",
        shown="on",
        added=True,
    )
    team_signals: bool = setting(
        "PAPERS_TEAM_SIGNALS",
        _flag,
        True,
        "sharing",
        "show how often the team shared and saved a paper this week (counts only, never who "
        "saved; `0` off)",
        "Show how often the workspace shared and saved a paper in the last 7 days (counts "
        "only, never who saved), on cards, /papers team and the Home tab; 0 hides them.",
        shown="on",
        added=True,
    )
    # -- citations (Semantic Scholar) --------------------------------------------------------
    enrich: bool = setting(
        "PAPERS_CITATIONS",
        _flag,
        True,
        "scholar",
        "ask Semantic Scholar for the citation counts of the papers the bot shows, in the "
        "background, and send citation alerts (`0` off)",
        "Citation counts, venue and year from Semantic Scholar for the papers the bot shows "
        "(asked in the background, refreshed weekly), and the weekly citation alerts of "
        "/papers citations on; 0 never asks it.",
        shown="on",
        added=True,
    )
    scholar_url: str = setting(
        "SEMANTIC_SCHOLAR_API_URL",
        _url,
        DEFAULT_SCHOLAR_URL,
        "scholar",
        "base URL of Semantic Scholar's Graph API (citation counts, citing papers)",
        "Semantic Scholar's Academic Graph API; change only for a proxy or a local stand-in.",
        must="an http(s) URL",
        added=True,
    )
    scholar_key: str | None = setting(
        "SEMANTIC_SCHOLAR_API_KEY",
        _text,
        None,
        "scholar",
        "a Semantic Scholar API key, sent as `x-api-key` (optional; its own rate limit)",
        "A Semantic Scholar API key (optional: without one, the shared pool is used). Sent as "
        "x-api-key; never logged.",
        example="",
        secret=True,
        added=True,
    )
    # What was wrong with the values read (each names its variable); not a setting.
    problems: list[str] = field(default_factory=list)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def llm(self) -> bool:
        """TL;DRs by an LLM: on when both its URL and its model are set."""
        return bool(self.llm_url and self.llm_model)

    @property
    def many_workspaces(self) -> bool:
        """Installed by OAuth in any number of workspaces (`/slack/install`), each with its
        own bot token kept in the library; the bot token, when set, wins (one workspace)."""
        return bool(self.slack_client_id and self.slack_client_secret and not self.slack_bot_token)

    def secrets(self) -> list[str]:
        password = urlsplit(self.database_url).password if self.database_url else None
        values = [getattr(self, name) for name, info in declared() if info["secret"]]
        return [s for s in [*values, password] if s and s != self.database_url]

    def _bot_token_problems(self) -> list[str]:
        if not self.slack_bot_token:
            return ["SLACK_BOT_TOKEN is not set (the xoxb- bot token from OAuth & Permissions)"]
        if not self.slack_bot_token.startswith("xoxb-"):
            return ["SLACK_BOT_TOKEN must start with xoxb- (it is the bot token)"]
        return []

    def require_bot_token(self) -> None:
        """What posting needs (`papers-bot digest`): the bot token, no signing secret."""
        problems = self.problems + self._bot_token_problems()
        if problems:
            raise SettingsError(problems)

    def require_slack(self) -> None:
        """Raise SettingsError naming every setting `papers-bot run` still needs."""
        if self.many_workspaces:
            return self._require_oauth()
        problems = self.problems + self._bot_token_problems()
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must start with xapp- (an app-level token)")
        if not self.slack_app_token and not self.slack_signing_secret:
            problems.append(
                "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; or set SLACK_APP_TOKEN "
                "for Socket Mode)"
            )
        if problems:
            raise SettingsError(problems)

    def _require_oauth(self) -> None:
        problems = list(self.problems)
        if self.slack_app_token:
            problems.append(
                "SLACK_APP_TOKEN: installing in many workspaces (SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET) runs in HTTP mode; unset SLACK_APP_TOKEN"
            )
        if not self.slack_signing_secret:
            problems.append(
                "SLACK_SIGNING_SECRET is not set (Basic Information, App Credentials; "
                "every request from Slack is checked with it)"
            )
        if problems:
            raise SettingsError(problems)

    def require_valid(self, *names: str) -> None:
        """Raise for the malformed settings among `names` (all of them when none are named):
        a command checks what it uses, so `search` never fails over PAPERS_TIMEZONE."""
        problems = [p for p in self.problems if not names or p.split()[0].rstrip(":") in names]
        if problems:
            raise SettingsError(problems)


def declared() -> list[tuple[str, dict[str, Any]]]:
    """Every setting's field name and declaration, in the order they are declared."""
    return [(f.name, dict(f.metadata)) for f in fields(Settings) if f.metadata]


def _problem(declaration: dict[str, Any], raw: str, why: str) -> str:
    """The error for one malformed value: the reader's own words when they name the variable
    (and the bad item in a list), else what the value must be (never a secret's value)."""
    if why.startswith(declaration["env"]):
        return why
    must = f"{declaration['env']} must be {declaration['must'] or 'valid'}"
    return must if declaration["secret"] else f"{must}, not {raw!r}"


def _read(declaration: dict[str, Any], raw: str) -> Any:
    """The value of one setting's text; ValueError when malformed or out of its range."""
    value = declaration["read"](raw)
    low, high = declaration["ge"], declaration["le"]
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError("out of range")
    return value


def _llm_problems(settings: Settings) -> list[str]:
    """The LLM summariser's URL and model: both or neither."""
    if bool(settings.llm_url) != bool(settings.llm_model):
        return [
            "PAPERS_LLM_URL and PAPERS_LLM_MODEL go together (an OpenAI-compatible base URL "
            "such as https://api.openai.com/v1, and a model it serves); set both or neither"
        ]
    return []


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from `env` (the process environment by default); malformed values are
    collected in `problems` (their defaults used instead), never raised one by one."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, declaration in declared():
        for variable in (declaration["env"], declaration["also"]):
            raw = (env.get(variable) or "").strip() if variable else ""
            if raw:
                break
        if not raw:
            continue  # unset or empty: the default
        try:
            values[name] = _read(declaration, raw)
        except ValueError as error:
            problems.append(_problem(declaration, raw, str(error)))
    settings = Settings(**values)
    settings.problems = problems + _llm_problems(settings)
    return settings
