"""What a user types, from the locked install: every `papers-bot` command, run as the console
script `make` installed in .venv (a fresh interpreter each time, as in a terminal), in a folder
of its own with its settings in `.env`, search by meaning on (the default), and an empty cache,
so the native parts' check runs as on a first install. The loopback Slack, Hugging Face and
arXiv stand in for the real ones; PostgreSQL is the tests' own server.

A fresh install of the newest dependencies once crashed `papers-bot search` (SIGSEGV: usearch
imported before onnxruntime) while every in-process test passed: these run what the README
tells people to run. `make smoke` runs this file alone; `make upgrade` and CI run it with the
rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.console.slack_requests import signed_headers
from bot.library import Library
from bot.search.semantic.fusion import LABEL
from tests.fakes.arxiv import ArxivStandIn
from tests.fakes.arxiv_html import ArxivHtmlStandIn
from tests.fakes.hf import HFStandIn
from tests.fakes.scholar import ScholarStandIn
from tests.postgres_server import fresh_database
from tests.slack.conftest import SECRET, TOKEN, all_text
from tests.slack.standin import TestSlack
from tests.slack.test_run_and_console import free_port

PAPERS_BOT = Path(sys.executable).with_name("papers-bot")
CHANNEL = "C0PAPERS"
ASK_PAGE = Path(__file__).parent / "data" / "ask" / "2508.08468.html"
MEANING_QUERY = "questions about long videos"  # the query that crashed: two words and more


def meaning_on(**extra: str) -> dict[str, str]:
    """This environment as a user's: search by meaning at its default (on; the tests' own
    processes turn it off, tests/conftest.py), with `extra`."""
    return {k: v for k, v in os.environ.items() if k != "PAPERS_SEMANTIC"} | extra


class User:
    """A person at a terminal in `folder`: `papers-bot ARGS` with the folder's `.env`."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env = folder, env

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PAPERS_BOT), *args],
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def ok(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, f"papers-bot {' '.join(args)}: {done.returncode}\n{done}"
        assert "Traceback" not in done.stderr, done.stderr
        assert "search by meaning is off" not in done.stderr, done.stderr
        return done


@pytest.fixture(scope="module")
def services(fixtures: Path) -> Iterator[tuple[TestSlack, HFStandIn, ArxivStandIn]]:
    slack = TestSlack(bot_token=TOKEN).start()
    hf = HFStandIn(fixtures).start()
    arxiv = ArxivStandIn(fixtures, min_interval=0.5).start()
    arxiv.categories["cs.LG"] = 5
    yield slack, hf, arxiv
    for server in (slack, hf, arxiv):
        server.stop()
    assert slack.violations == [], "payloads Slack would reject"


@pytest.fixture(scope="module")
def html(fixtures: Path) -> Iterator[ArxivHtmlStandIn]:
    """arXiv's HTML pages: the real one kept in tests/data/ask, served for every paper of the
    2026-07-31 listing (`papers-bot fulltext`, then `/papers ask`)."""
    standin = ArxivHtmlStandIn(fixtures / "ask", min_interval=0.9).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def scholar() -> Iterator[ScholarStandIn]:
    """Semantic Scholar's Graph API, knowing every paper of the 2026-07-31 listing."""
    standin = ScholarStandIn().start()
    standin.know("1706.03762", 150_000)  # what `papers-bot doctor --network` asks about
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def user(
    tmp_path_factory: pytest.TempPathFactory,
    services: tuple[TestSlack, HFStandIn, ArxivStandIn],
    html: ArxivHtmlStandIn,
    scholar: ScholarStandIn,
    fixtures: Path,
) -> User:
    """A folder with `.env` as README's Slack setup writes it, and the fixtures imported."""
    slack, hf, arxiv = services
    folder = tmp_path_factory.mktemp("smoke")
    (folder / ".env").write_text(
        "\n".join(
            [
                f"SLACK_BOT_TOKEN={TOKEN}",
                f"SLACK_SIGNING_SECRET={SECRET}",
                f"SLACK_API_URL={slack.api_url}",
                f"PAPERS_CHANNEL={CHANNEL}",
                f"HF_API_URL={hf.url}",
                f"ARXIV_API_URL={arxiv.url}",
                f"ARXIV_HTML_URL={html.url}",
                f"SEMANTIC_SCHOLAR_API_URL={scholar.url}",
                "PAPERS_REMOTE_SEARCH=0",
            ]
        )
        + "\n"
    )
    # An empty cache: no verdict on the native parts yet, so the first command checks them.
    person = User(folder, meaning_on(XDG_CACHE_HOME=str(folder / "cache")))
    files = sorted(str(path) for path in (fixtures / "hf_fixtures").glob("*.json"))
    imported = person.ok("import", *files)
    assert "added" in imported.stdout
    assert (folder / "data" / "vectors" / "state.json").exists()  # import embedded them
    return person


def test_the_console_script_is_the_locked_install() -> None:
    assert PAPERS_BOT.is_file(), f"{PAPERS_BOT}: `make test` installs the project into .venv"


def test_search_by_meaning_answers_what_crashed(user: User) -> None:
    found = user.ok("search", MEANING_QUERY)
    assert found.stdout.startswith("1. ") and "https://arxiv.org/abs/" in found.stdout
    as_json = json.loads(user.ok("search", "--json", "--limit", "10", MEANING_QUERY).stdout)
    assert any(LABEL in result["matched"] for result in as_json), "meaning took no part"
    verdicts = json.loads((user.folder / "cache" / "papers-bot" / "probes.json").read_text())
    assert [v["ok"] for v in verdicts.values()] == [True]


def test_word_searches_and_a_query_that_cannot_run(user: User) -> None:
    assert "Kolmogorov-Arnold" in user.ok("search", "kan").stdout
    typo = json.loads(user.ok("search", "--json", "--limit", "3", "kolmogorv arnold").stdout)
    assert len(typo) == 3 and all(set(r) >= {"id", "title", "score", "tldr", "url"} for r in typo)
    bad = user.run("search", "since:abc")
    assert bad.returncode == 2 and bad.stderr and "Traceback" not in bad.stderr


def test_index_and_rebuild(user: User) -> None:
    assert "search index caught up" in user.ok("index").stdout
    rebuilt = user.ok("index", "--rebuild").stdout
    assert "search index built" in rebuilt and "vectors for search by meaning" in rebuilt


def test_fetch_a_day_a_range_and_an_arxiv_category(user: User) -> None:
    assert "2026-07-31: 30 rows" in user.ok("fetch", "--date", "2026-07-31").stdout
    user.ok("fetch", "--since", "2026-07-29", "--until", "2026-07-31")
    arxiv = user.ok("fetch", "--arxiv", "cs.LG", "--since", "2026-07-01", "--until", "2026-07-31")
    assert "cs.LG" in arxiv.stdout + arxiv.stderr


def test_digest_printed_then_posted(
    user: User, services: tuple[TestSlack, HFStandIn, ArxivStandIn]
) -> None:
    slack = services[0]
    dry = user.ok("digest", "--date", "2026-07-31", "--dry-run")
    assert "2026-07-31" in dry.stdout and not slack.messages.get(CHANNEL)
    posted = user.ok("digest", "--date", "2026-07-31")
    assert f"{CHANNEL}: posted 5 papers for 2026-07-31" in posted.stdout
    assert len(slack.messages[CHANNEL]) == 6  # the header and five cards


def test_console_answers_by_meaning(user: User) -> None:
    session = user.ok("console", stdin=f"/papers {MEANING_QUERY}\nquit\n")
    assert "[1 Save] [2 Share]" in session.stdout


def test_fulltext_then_a_question_in_the_console(user: User, html: ArxivHtmlStandIn) -> None:
    """A day's full texts fetched ahead (`papers-bot fulltext`), then `/papers ask` in the
    console answered from what was kept, with no fetch."""
    listed = Library(user.folder / "data").listed_on("2026-07-31")[0].id
    html.extra = {listed: ASK_PAGE.read_bytes()}  # the others have no page: 404
    filled = user.ok("fulltext", "--since", "2026-07-31", "--until", "2026-07-31")
    assert "kept 1, no HTML page" in filled.stdout and "failed 0" in filled.stdout
    assert listed in {r.paper for r in html.requests}
    asked = len(html.requests)
    question = f"/papers ask {listed} which phone was used as the user equipment?\nquit\n"
    session = user.ok("console", stdin=question)
    assert "Reading" in session.stdout and "Google Pixel 8" in session.stdout
    assert len(html.requests) == asked  # kept: nothing fetched again


def test_run_answers_a_papers_request(
    user: User, services: tuple[TestSlack, HFStandIn, ArxivStandIn], scholar: ScholarStandIn
) -> None:
    slack, port = services[0], free_port()
    bot = subprocess.Popen(
        [str(PAPERS_BOT), "run"],
        cwd=user.folder,
        env=user.env | {"PORT": str(port), "PAPERS_SCHEDULER": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(port, bot)
        answer = ask(port, slack, MEANING_QUERY)
        assert "arxiv.org/abs/" in all_text(answer)
        # The papers shown are sent to Semantic Scholar after the answer; the next one counts.
        scholar.everyone = 4321
        deadline = time.monotonic() + 20
        while not scholar.calls("/paper/batch") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # kept on the records
        assert "cited by 4,321" in all_text(ask(port, slack, MEANING_QUERY, "again"))
    finally:
        scholar.everyone = None
        bot.terminate()
        output, _ = bot.communicate(timeout=30)
    assert "Traceback" not in output and "search by meaning is off" not in output, output


def test_enrich_then_a_search_by_citations(user: User, scholar: ScholarStandIn) -> None:
    plain = json.loads(user.ok("search", "--json", "kan").stdout)
    least_relevant = plain[-1]["id"]
    scholar.know(least_relevant, 1_000_000)
    done = user.ok("enrich")
    assert "papers to ask Semantic Scholar about" in done.stdout and "failed 0" in done.stdout
    with_code = json.loads(user.ok("search", "--json", "has:code").stdout)
    assert with_code and all(r["code"] for r in with_code)
    # Hugging Face's githubRepo (from the imported Daily Papers responses) is the code link.
    [askchem] = json.loads(user.ok("search", "--json", "--limit", "1", "AskChem").stdout)
    assert askchem["code"] == "https://github.com/bingyan4science/askchem"
    cited = json.loads(user.ok("search", "--json", "kan sort:cited").stdout)
    assert {r["id"] for r in cited} == {r["id"] for r in plain}
    counts = [r["citations"] or 0 for r in cited]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 4321
    assert plain[0]["id"] != least_relevant and cited[0]["citations"] == max(counts)


def test_db_upgrade_and_copy_both_ways(user: User, postgres_server: str) -> None:
    url = fresh_database(postgres_server)
    with_database = User(user.folder, user.env | {"DATABASE_URL": url})
    with_database.ok("db", "upgrade")
    there = with_database.ok("db", "copy", "--from", "data", "--to", url).stdout
    back = with_database.ok("db", "copy", "--from", url, "--to", "copied").stdout
    assert "added" in there and "added" in back
    assert (user.folder / "copied" / "catalog.sqlite3").exists()


def test_doctor_passes_on_this_install(user: User) -> None:
    report = user.ok("doctor", "--network")
    assert "All good." in report.stdout
    checks = json.loads(user.ok("doctor", "--json").stdout)
    assert checks["ok"] is True
    statuses = {check["name"]: check["status"] for check in checks["checks"]}
    expected = ("Python", "installed versions", "search by meaning", "catalog", "Slack")
    assert all(statuses[name] == "ok" for name in expected), statuses


def test_help_and_usage_errors(user: User) -> None:
    assert "doctor" in user.ok("--help").stdout
    nothing = user.run()
    assert nothing.returncode == 2 and "Traceback" not in nothing.stderr
    unknown = user.run("frobnicate")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr


# -- a bot's HTTP endpoint, as Slack calls it ------------------------------------------------


def wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the bot never answered /healthz")


def ask(port: int, slack: TestSlack, text: str, name: str = "smoke") -> dict[str, object]:
    """`/papers TEXT` signed as Slack signs it; the answer the bot sent to its response_url."""
    body = urlencode(
        {
            "command": "/papers",
            "text": text,
            "user_id": "U0ALICE",
            "channel_id": CHANNEL,
            "team_id": "T0STANDIN",
            "response_url": slack.response_url(name),
        }
    )
    headers = signed_headers(body, SECRET) | {"content-type": "application/x-www-form-urlencoded"}
    before = len(slack.calls_to("response_url"))
    response = httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    answers = slack.wait_for("response_url", count=before + 1, timeout=60)[before:]
    return answers[0].args
