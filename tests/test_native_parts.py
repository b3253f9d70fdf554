"""Optional native parts are probed, not trusted (`bot.probe`): a part that crashes, hangs or
answers wrong costs search by meaning, never a command, the console or a running bot.

The broken parts are real: a `usearch` that aborts the interpreter as it is imported (the way
usearch 2.26 killed it beside onnxruntime), or one that never finishes importing, placed first
on PYTHONPATH; a model whose weights are all zero. Each process under test is a fresh
`papers-bot` of the locked install, on a library whose vectors were made (without them no
search would touch the vectors, broken or not).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.search.semantic.fusion import LABEL
from bot.search.semantic.model import model_folder
from tests.slack.conftest import SECRET, TOKEN, all_text
from tests.slack.standin import TestSlack
from tests.slack.test_run_and_console import free_port
from tests.test_smoke import MEANING_QUERY, PAPERS_BOT, User, ask, meaning_on, wait_healthy

OFF = "search by meaning is off"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, fixtures: Path) -> Path:
    """A folder whose library (the sample papers and the fixtures) has its vectors."""
    folder = tmp_path_factory.mktemp("embedded")
    files = sorted(str(path) for path in (fixtures / "hf_fixtures").glob("*.json"))
    User(folder, meaning_on(PAPERS_REMOTE_SEARCH="0")).ok("import", *files)
    assert (folder / "data" / "vectors" / "ann.usearch").exists()
    return folder


def fake_usearch(folder: Path, body: str) -> Path:
    """A folder holding a `usearch` package whose import runs `body`."""
    (folder / "usearch").mkdir(parents=True)
    (folder / "usearch" / "__init__.py").write_text(body)
    return folder


CRASHING = "import os\nos.abort()  # as a native extension's crash: no Python error, no exit\n"
HANGING = "import time\ntime.sleep(3600)\n"


def user_of(embedded: Path, tmp_path: Path, **env: str) -> User:
    """A person with a copy of the embedded library, an empty cache and `env`."""
    folder = tmp_path / "work"
    shutil.copytree(embedded, folder)
    return User(folder, meaning_on(XDG_CACHE_HOME=str(tmp_path / "cache"), **env))


def said_off(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if OFF in line]


def test_a_crashing_part_leaves_search_by_words_with_one_line_saying_why(
    embedded: Path, tmp_path: Path
) -> None:
    broken = fake_usearch(tmp_path / "broken", CRASHING)
    person = user_of(embedded, tmp_path, PYTHONPATH=str(broken))
    found = person.run("search", MEANING_QUERY)
    assert found.returncode == 0 and found.stdout.startswith("1. "), found
    (line,) = said_off(found.stderr)
    assert "crashed (SIGABRT)" in line and "usearch" in line and str(broken) in line
    assert "make upgrade" in line and "Traceback" not in found.stderr
    lexical = User(person.folder, person.env | {"PAPERS_SEMANTIC": "0"}).run(
        "search", MEANING_QUERY
    )
    assert found.stdout == lexical.stdout  # exactly the answer by words
    as_json = json.loads(person.run("search", "--json", MEANING_QUERY).stdout)
    assert as_json and not any(LABEL in r["matched"] for r in as_json)


def test_the_console_and_a_running_bot_answer_by_words(embedded: Path, tmp_path: Path) -> None:
    broken = fake_usearch(tmp_path / "broken", CRASHING)
    person = user_of(embedded, tmp_path, PYTHONPATH=str(broken))
    console = person.run("console", stdin=f"/papers {MEANING_QUERY}\nquit\n")
    assert console.returncode == 0 and "[1 Save] [2 Share]" in console.stdout, console
    assert len(said_off(console.stderr)) == 1 and "Traceback" not in console.stderr
    slack, port = TestSlack(bot_token=TOKEN).start(), free_port()
    settings = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "PAPERS_REMOTE_SEARCH": "0",
    }
    bot = subprocess.Popen(
        [str(PAPERS_BOT), "run"],
        cwd=person.folder,
        env=person.env | settings,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(port, bot)
        assert "arxiv.org/abs/" in all_text(ask(port, slack, MEANING_QUERY))
        assert "arxiv.org/abs/" in all_text(ask(port, slack, "long video question answering"))
    finally:
        bot.terminate()
        output, _ = bot.communicate(timeout=30)
        slack.stop()
    assert len(said_off(output)) == 1 and "Traceback" not in output, output


def test_doctor_names_the_broken_part_and_passes_with_the_real_one(
    embedded: Path, tmp_path: Path
) -> None:
    broken = fake_usearch(tmp_path / "broken", CRASHING)
    person = user_of(embedded, tmp_path, PYTHONPATH=str(broken))
    sick = person.run("doctor")
    assert sick.returncode == 1, sick
    failing = [line for line in sick.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failing) == 1 and "search by meaning" in failing[0], sick.stdout
    assert "crashed (SIGABRT)" in failing[0] and "make upgrade" in sick.stdout
    healed = User(person.folder, {k: v for k, v in person.env.items() if k != "PYTHONPATH"})
    assert "All good." in healed.ok("doctor").stdout


def probe_in_child(env: dict[str, str], *arguments: str, timeout: float = 60) -> dict:
    """`bot.probe.probe` of search by meaning, in a process of its own (the verdicts it keeps
    in memory stay there), with `env`; the verdict as a dict."""
    script = (
        "import dataclasses, json, sys\n"
        "from bot.probe import probe\n"
        "from bot.search.semantic.selftest import SEARCH_BY_MEANING\n"
        "verdict = probe(SEARCH_BY_MEANING, *sys.argv[2:], timeout=float(sys.argv[1]))\n"
        "print(json.dumps(dataclasses.asdict(verdict)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(timeout), *arguments],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout + 120,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_hanging_part_is_given_up_at_the_timeout(tmp_path: Path) -> None:
    hanging = fake_usearch(tmp_path / "hanging", HANGING)
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    verdict = probe_in_child(cache | {"PYTHONPATH": str(hanging)}, timeout=8)
    assert not verdict["ok"]
    assert "did not finish in 8 s (hung)" in verdict["reason"]


def test_a_model_that_answers_wrong_is_turned_off_with_what_to_fix(tmp_path: Path) -> None:
    """All-zero weights: onnxruntime runs the graph happily, and every vector is zero."""
    from safetensors.numpy import load_file, save_file

    from bot.search.semantic.model import fingerprint

    packaged, zeroed = model_folder(None), tmp_path / "zeroed"
    shutil.copytree(packaged, zeroed, ignore=shutil.ignore_patterns("model.safetensors"))
    weights = load_file(str(packaged / "model.safetensors"))
    zeros = {name: 0 * tensor for name, tensor in weights.items()}
    save_file(zeros, str(zeroed / "model.safetensors"))
    verdict = probe_in_child(
        {"XDG_CACHE_HOME": str(tmp_path / "cache")}, str(zeroed), fingerprint(zeroed)
    )
    assert not verdict["ok"] and "answers wrong" in verdict["reason"]
    assert "PAPERS_EMBEDDING_MODEL" in verdict["fix"]


def test_a_verdict_is_kept_per_install_and_a_change_checks_again(tmp_path: Path) -> None:
    broken = fake_usearch(tmp_path / "broken", CRASHING)
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = probe_in_child(cache | {"PYTHONPATH": str(broken)})
    again = probe_in_child(cache | {"PYTHONPATH": str(broken)})
    assert not first["ok"] and not first["cached"]
    assert again == first | {"cached": True}  # no child this time: the kept verdict
    real = probe_in_child(cache)  # another set of modules (the installed usearch): checked
    assert real["ok"] and not real["cached"]
    assert probe_in_child(cache)["cached"]
    kept = json.loads((tmp_path / "cache" / "papers-bot" / "probes.json").read_text())
    assert sorted(v["ok"] for v in kept.values()) == [False, True]
