"""Settings from the environment and `.env`, with one clear error for what is wrong.

Every setting of the contract (README, "Settings") is here with its default; `.env.example`
documents each.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.text import whole_number

SETUP_HINT = "See README.md, section 'Slack setup', and .env.example."
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_HF_API_URL = "https://huggingface.co/api"
DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"
ARXIV_CATEGORY_RE = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")


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


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _csv(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


DATABASE_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


@dataclass
class Settings:
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_client_id: str | None = None  # with the secret and no bot token: many workspaces
    slack_client_secret: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    data_dir: Path = field(default_factory=lambda: Path("data"))
    sample_data: bool = True
    channels: list[str] = field(default_factory=list)
    digest_time: str = "09:00"
    timezone: str = "UTC"
    digest_size: int = 5
    save_emoji: list[str] = field(default_factory=lambda: ["bookmark"])
    hide_emoji: list[str] = field(default_factory=lambda: ["no_entry_sign"])  # Not interested
    hf_api_url: str = DEFAULT_HF_API_URL
    hf_token: str | None = None  # raises the Hub's rate limit; sent as a Bearer token
    hf_rate: tuple[int, float] | None = None  # (requests, seconds); None: the Hub's default
    arxiv_api_url: str = DEFAULT_ARXIV_API_URL
    remote_search: bool = True  # too few local matches: ask Hugging Face's paper search too
    arxiv_categories: list[str] = field(default_factory=list)  # pulled by the daily job too
    digest_grace_hours: float = 3.0
    database_url: str | None = None  # PostgreSQL for replicas and workspaces; files when unset
    takeover_seconds: int = 60  # with a database: how soon a replica finishes a dead leader's day
    scheduler: bool = True  # off: `papers-bot run` posts no digest (a cron job runs `digest`)
    llm_url: str | None = None  # an OpenAI-compatible base URL: TL;DRs by an LLM when set
    llm_model: str | None = None
    llm_api_key: str | None = None  # PAPERS_LLM_API_KEY, else OPENAI_API_KEY
    llm_language: str = "English"
    llm_daily_limit: int = 200  # calls a day, across every replica
    semantic: bool = True  # search by meaning, when the [semantic] extra is installed
    embedding_model: str | None = None  # a sentence-transformers folder; None: the packaged one
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
        return [
            s
            for s in (
                self.slack_bot_token,
                self.slack_app_token,
                self.slack_signing_secret,
                self.slack_client_secret,
                self.hf_token,
                self.llm_api_key,
                password,
            )
            if s
        ]

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


def zone_name(name: str) -> str:
    """The IANA spelling of a zone typed in another case (`utc`, `europe/paris`)."""
    try:
        ZoneInfo(name)  # spelled right: one file read, not a scan of every zone (40 ms)
        return name
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    by_folded = {zone.casefold(): zone for zone in available_timezones()}
    return by_folded.get(name.casefold(), name)


def channel_problem(channel: str, where: str) -> str | None:
    """Why `channel` is not a Slack channel id, naming where it came from; None when it is."""
    if re.fullmatch(r"[CGD][A-Z0-9]{2,}", channel):
        return None
    return (
        f"{where}: {channel!r} is not a channel id (C0123ABCD; in Slack: channel details, "
        "bottom of the About tab)"
    )


def _llm_problems(settings: Settings, limit: str) -> list[str]:
    """The LLM summariser's settings: both or neither of its URL and model, a daily limit."""
    problems = []
    if bool(settings.llm_url) != bool(settings.llm_model):
        problems.append(
            "PAPERS_LLM_URL and PAPERS_LLM_MODEL go together (an OpenAI-compatible base URL "
            "such as https://api.openai.com/v1, and a model it serves); set both or neither"
        )
    number = whole_number(limit)
    if number is not None and number <= 100_000:
        settings.llm_daily_limit = number
    else:
        problems.append(
            f"PAPERS_LLM_DAILY_LIMIT must be a whole number of calls a day, not {limit!r}"
        )
    return problems


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings; malformed values are collected in `problems`, never raised one by one."""
    env = dict(os.environ if env is None else env)
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value is not None and value.strip() else None

    settings = Settings(
        slack_bot_token=get("SLACK_BOT_TOKEN"),
        slack_app_token=get("SLACK_APP_TOKEN"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_client_id=get("SLACK_CLIENT_ID"),
        slack_client_secret=get("SLACK_CLIENT_SECRET"),
        slack_api_url=get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
        data_dir=Path(get("PAPERS_DATA_DIR") or "data"),
        sample_data=_flag(get("PAPERS_SAMPLE_DATA"), True),
        channels=_csv(get("PAPERS_CHANNEL")),
        digest_time=get("PAPERS_DIGEST_TIME") or "09:00",
        timezone=get("PAPERS_TIMEZONE") or "UTC",
        save_emoji=[e.strip(":") for e in _csv(get("PAPERS_SAVE_EMOJI"))] or ["bookmark"],
        hide_emoji=[e.strip(":") for e in _csv(get("PAPERS_HIDE_EMOJI"))] or ["no_entry_sign"],
        hf_api_url=(get("HF_API_URL") or DEFAULT_HF_API_URL).rstrip("/"),
        hf_token=get("HF_TOKEN"),
        arxiv_api_url=get("ARXIV_API_URL") or DEFAULT_ARXIV_API_URL,
        arxiv_categories=_csv(get("PAPERS_ARXIV_CATEGORIES")),
        remote_search=_flag(get("PAPERS_REMOTE_SEARCH"), True),
        database_url=get("DATABASE_URL"),
        scheduler=_flag(get("PAPERS_SCHEDULER"), True),
        llm_url=get("PAPERS_LLM_URL"),
        llm_model=get("PAPERS_LLM_MODEL"),
        llm_api_key=get("PAPERS_LLM_API_KEY") or get("OPENAI_API_KEY"),
        llm_language=get("PAPERS_LLM_LANGUAGE") or "English",
        semantic=_flag(get("PAPERS_SEMANTIC"), True),
        embedding_model=get("PAPERS_EMBEDDING_MODEL"),
    )
    if settings.database_url and not settings.database_url.startswith(DATABASE_SCHEMES):
        problems.append(
            "DATABASE_URL must be a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:5432/DB); "
            "leave it unset to keep the library in PAPERS_DATA_DIR"
        )
    if not settings.slack_api_url.endswith("/"):
        settings.slack_api_url += "/"
    port = get("PORT") or "3000"
    port_number = whole_number(port)
    if port_number is not None and 0 < port_number < 65536:
        settings.port = port_number
    else:
        problems.append(f"PORT must be a port number from 1 to 65535, not {port!r}")
    size = get("PAPERS_DIGEST_SIZE") or "5"
    size_number = whole_number(size)
    if size_number is not None and 1 <= size_number <= 20:
        settings.digest_size = size_number
    else:
        problems.append(f"PAPERS_DIGEST_SIZE must be a whole number from 1 to 20, not {size!r}")
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", settings.digest_time):
        problems.append(f"PAPERS_DIGEST_TIME must be HH:MM (24-hour), not {settings.digest_time!r}")
    settings.timezone = zone_name(settings.timezone)
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"PAPERS_TIMEZONE must be an IANA zone such as Europe/Paris, not {settings.timezone!r}"
        )
    grace = get("PAPERS_DIGEST_GRACE_HOURS") or "3"
    try:
        settings.digest_grace_hours = float(grace)
        if not 0 <= settings.digest_grace_hours <= 24:
            raise ValueError
    except ValueError:
        problems.append(f"PAPERS_DIGEST_GRACE_HOURS must be hours from 0 to 24, not {grace!r}")
    takeover = get("PAPERS_TAKEOVER_SECONDS") or "60"
    takeover_number = whole_number(takeover)
    if takeover_number is not None and 1 <= takeover_number <= 3600:
        settings.takeover_seconds = takeover_number
    else:
        problems.append(
            f"PAPERS_TAKEOVER_SECONDS must be whole seconds from 1 to 3600, not {takeover!r}"
        )
    rate = get("HF_RATE_LIMIT")
    if rate:
        match = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)s?", rate)
        if match and int(match[1]) >= 1 and float(match[2]) > 0:
            settings.hf_rate = (int(match[1]), float(match[2]))
        else:
            problems.append(f"HF_RATE_LIMIT must be REQUESTS/SECONDS such as 450/300, not {rate!r}")
    for category in settings.arxiv_categories:
        if not ARXIV_CATEGORY_RE.fullmatch(category):
            problems.append(
                f"PAPERS_ARXIV_CATEGORIES: {category!r} is not an arXiv category (cs.LG, stat.ML)"
            )
    problems += _llm_problems(settings, get("PAPERS_LLM_DAILY_LIMIT") or "200")
    for name in ("SLACK_API_URL", "HF_API_URL", "ARXIV_API_URL", "PAPERS_LLM_URL"):
        value = get(name)
        if value and not re.match(r"^https?://", value):
            problems.append(f"{name} must be an http(s) URL, not {value!r}")
    for channel in settings.channels:
        problem = channel_problem(channel, "PAPERS_CHANNEL")
        if problem:
            problems.append(problem)
    settings.problems = problems
    return settings
