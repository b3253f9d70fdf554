"""Doctor's checks of the settings and of what the bot talks to: Slack (`auth.test`, and the
scopes the token was granted, from the response's `x-oauth-scopes` header, against those the
manifest asks for), PostgreSQL (reachable, migrated), and with `--network` Hugging Face, arXiv
and the LLM."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from bot.cli.doctor.checks import Check, fail, ok, skip
from bot.config import Settings, SettingsError
from bot.logs import SecretFilter
from bot.sources.arxiv_client import USER_AGENT as ARXIV_USER_AGENT
from bot.sources.hf_client import USER_AGENT
from bot.sources.semantic_scholar import USER_AGENT as SCHOLAR_USER_AGENT

NETWORK_TIMEOUT = 15.0
SLACK_TOKEN_FIX = (
    "copy the Bot User OAuth Token (xoxb-) again from the app's OAuth & Permissions page into "
    "SLACK_BOT_TOKEN"
)
SLACK_REACH_FIX = "check SLACK_API_URL, the network and any proxy (HTTPS_PROXY)"


def service_checks(settings: Settings) -> list[Check]:
    return [settings_check(settings), slack_check(settings), database_check(settings)]


def settings_check(settings: Settings) -> Check:
    name = "settings"
    problems = list(settings.problems)
    if settings.slack_bot_token or settings.many_workspaces:
        try:
            settings.require_slack()
        except SettingsError as error:
            problems = error.problems
    if problems:
        return fail(name, "; ".join(problems), "fix them in .env (see .env.example)")
    return ok(name, _mode(settings))


def _mode(settings: Settings) -> str:
    if settings.many_workspaces:
        return "installed by OAuth in many workspaces, HTTP mode on PORT " + str(settings.port)
    if not settings.slack_bot_token:
        return "no Slack token: `make run` opens the console (README, 'Slack setup')"
    if settings.socket_mode:
        return "one workspace, Socket Mode"
    return f"one workspace, HTTP mode on PORT {settings.port}"


def slack_check(settings: Settings) -> Check:
    name = "Slack"
    if settings.many_workspaces:
        return skip(name, "many workspaces: each install's token is checked as it is used")
    if not settings.slack_bot_token:
        return skip(name, "no SLACK_BOT_TOKEN")
    from slack_sdk.errors import SlackApiError

    from bot.slack.client import make_client
    from bot.slack.workspaces import BOT_SCOPES

    try:
        response = make_client(settings).auth_test()
    except SlackApiError as error:
        return fail(name, f"auth.test: {error.response.get('error')}", SLACK_TOKEN_FIX)
    except OSError as error:  # urllib's URLError, a timeout, a refused connection
        return fail(name, f"{settings.slack_api_url} cannot be reached: {error}", SLACK_REACH_FIX)
    headers = {key.lower(): value for key, value in (response.headers or {}).items()}
    granted = {s.strip() for s in str(headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    who = f"{response.get('user')} in {response.get('team')}"
    if "x-oauth-scopes" not in headers:
        return ok(name, f"auth.test: {who} (Slack did not say the token's scopes)")
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        fix = (
            "add them (manifest.yml lists every scope), then OAuth & Permissions > Reinstall "
            "to Workspace, and copy the new token"
        )
        return fail(name, f"auth.test: {who}; the token lacks {', '.join(missing)}", fix)
    return ok(name, f"auth.test: {who}, every scope manifest.yml asks for")


def database_check(settings: Settings) -> Check:
    name = "database"
    if not settings.database_url:
        return skip(name, "no DATABASE_URL: the library is in PAPERS_DATA_DIR")
    from sqlalchemy.exc import SQLAlchemyError

    from bot.library import pg_schema

    redact = SecretFilter(settings.secrets()).redact
    try:
        engine = pg_schema.connect(settings.database_url)
        with engine.connect() as conn:
            version = pg_schema.current_version(conn)
        engine.dispose()
    except SQLAlchemyError as error:
        detail = redact(str(error).splitlines()[0])
        return fail(name, f"cannot be used: {detail}", "check DATABASE_URL and the server")
    latest = pg_schema.SCHEMA_VERSION
    if version < latest:
        return fail(name, f"schema version {version} of {latest}", "`papers-bot db upgrade`")
    if version > latest:
        return fail(name, f"schema version {version} is newer than {latest}", "upgrade papers-bot")
    return ok(name, f"reachable, schema version {version} (current)")


# -- --network -----------------------------------------------------------------------------

Problem = Callable[[httpx.Response], str | None]  # what is wrong with an answer, if anything


def network_checks(settings: Settings) -> list[Check]:
    checks = [
        _answers("Hugging Face", f"{settings.hf_api_url}/daily_papers", {"limit": "1"}, _a_list),
        _answers(
            "arXiv",
            settings.arxiv_api_url,
            {"search_query": "cat:cs.LG", "max_results": "1"},
            _a_feed,
            ARXIV_USER_AGENT,
        ),
    ]
    checks.append(_scholar_check(settings))
    if not settings.llm:
        return [*checks, skip("LLM", "no PAPERS_LLM_URL")]
    key = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    url = f"{(settings.llm_url or '').rstrip('/')}/models"
    return [*checks, _answers("LLM", url, {}, _serving(settings.llm_model or ""), headers=key)]


def _scholar_check(settings: Settings) -> Check:
    """One paper's figures (a GET of a well-known arXiv id: no batch for a check)."""
    if not settings.enrich:
        return skip("Semantic Scholar", "PAPERS_CITATIONS=0")
    key = {"x-api-key": settings.scholar_key} if settings.scholar_key else {}
    url = f"{settings.scholar_url}/paper/arXiv:1706.03762"
    return _answers(
        "Semantic Scholar", url, {"fields": "citationCount"}, _counted, SCHOLAR_USER_AGENT, key
    )


def _counted(response: httpx.Response) -> str | None:
    found = response.json()
    counted = isinstance(found, dict) and isinstance(found.get("citationCount"), int)
    return None if counted else "no citation count in its answer"


def _a_list(response: httpx.Response) -> str | None:
    return None if isinstance(response.json(), list) else "not a list of papers"


def _a_feed(response: httpx.Response) -> str | None:
    return None if "<feed" in response.text else "not an Atom feed"


def _serving(model: str) -> Problem:
    """An OpenAI-compatible `GET /models` answer that lists `model`."""

    def problem(response: httpx.Response) -> str | None:
        listed = {str(m.get("id")) for m in response.json().get("data", []) if isinstance(m, dict)}
        return None if model in listed else f"it does not serve PAPERS_LLM_MODEL={model}"

    return problem


def _answers(
    name: str,
    url: str,
    params: dict[str, str],
    problem: Problem,
    agent: str = USER_AGENT,
    headers: dict[str, str] | None = None,
) -> Check:
    """One polite GET: whether `url` answers as the bot expects it to."""
    start = time.perf_counter()
    try:
        response = httpx.get(
            url,
            params=params,
            headers={"User-Agent": agent, **(headers or {})},
            timeout=NETWORK_TIMEOUT,
            follow_redirects=True,
        )
        took = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            return fail(name, f"{url} answered HTTP {response.status_code}", _url_fix(name))
        wrong = problem(response)
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        return fail(name, f"{url} cannot be used: {error}", _url_fix(name))
    if wrong:
        return fail(name, f"{url} answered, but {wrong}", _url_fix(name))
    return ok(name, f"{url} answered in {took:.0f} ms")


def _url_fix(name: str) -> str:
    setting = {
        "Hugging Face": "HF_API_URL",
        "arXiv": "ARXIV_API_URL",
        "LLM": "PAPERS_LLM_URL",
        "Semantic Scholar": "SEMANTIC_SCHOLAR_API_URL",
    }
    return f"check {setting[name]}, the network and any proxy (HTTPS_PROXY)"
