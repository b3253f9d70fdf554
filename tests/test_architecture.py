"""The code's shape, as docs/architecture.md states it: one router for `/papers`, and every
sentence a Slack user reads written in `bot/render/`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot import commands

BOT = Path(__file__).resolve().parent.parent / "bot"
# Three or more words, the first a word of letters: a sentence or a piece of one.
PROSE = re.compile(r"[A-Za-z][a-z']+(?: [A-Za-z'`(),:;/.-]+){3,}")
SQL = re.compile(r"\s*(SELECT|INSERT|CREATE|UPDATE|DELETE|WITH)\b")
# Where other text may live, and why: each of these speaks to the operator (a terminal, a log,
# a start-up error, a model's prompt), not to a person in Slack.
OPERATOR_TEXT = {
    "render": "the product's text itself",
    "cli": "papers-bot's commands print to a terminal",
    "console": "the console's own words (its /papers answers come from render)",
    "config.py": "settings errors at start-up",
    "probe.py": "a broken native part, in the log and in doctor",
    "slack/runner.py": "start-up errors for the operator",
    "slack/http.py": "why a request from Slack was refused, in the log",
    "ingest": "import and fetch reports, printed by the CLI",
    "library": "storage errors for the operator (and SQL)",
    "sources": "errors of outside APIs, and User-Agents",
    "summarize": "word lists and the LLM's prompt",
    "search/builder.py": "the index builder's own usage line",
    "search/lexicon.py": "pieces of SQL",
    "search/semantic": "the model check's sentences and its errors",
    "digest.py": "why a digest was not posted, printed by the CLI and the console",
    "delivery.py": "Slack's refusal, in the log",
    "slack/workspaces.py": "the install page's HTML",
}


def _allowed(path: Path) -> bool:
    relative = path.relative_to(BOT).as_posix()
    return any(
        relative == p or relative.startswith(p.removesuffix(".py") + "/") for p in OPERATOR_TEXT
    )


def _quiet_nodes(tree: ast.AST) -> set[int]:
    """Docstrings, log calls and raised errors: text for developers and logs."""
    quiet: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            quiet.add(id(body[0].value))
        logged = isinstance(node, ast.Call) and (
            isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("log", "logging")
        )
        if logged or isinstance(node, ast.Raise):
            quiet.update(id(sub) for sub in ast.walk(node))
    return quiet


def prose_outside_render(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    quiet = _quiet_nodes(tree)
    return [
        f"{path.relative_to(BOT)}:{node.lineno}: {node.value[:70]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in quiet
        and PROSE.search(node.value)
        and not SQL.match(node.value)
    ]


def test_what_a_slack_user_reads_is_written_in_render() -> None:
    assert all((BOT / p).exists() for p in OPERATOR_TEXT)  # no stale exemption
    modules = [p for p in BOT.rglob("*.py") if not _allowed(p)]
    assert len(modules) > 30  # the router, the answers, the listeners, search...
    found = [line for path in modules for line in prose_outside_render(path)]
    assert not found, "user-facing text belongs in bot/render/:\n" + "\n".join(found)


def test_the_checker_sees_a_sentence_and_lets_logs_and_docstrings_be(tmp_path: Path) -> None:
    sample = BOT / "_architecture_sample.py"
    sample.write_text(
        '"""A docstring is for developers and may say anything it likes."""\n'
        'log.info("a log line may say anything it likes")\n'
        'def f():\n    raise ValueError("an error for the log says what went wrong")\n'
        'REPLY = "Sorry, that paper is not here any more."\n',
        encoding="utf-8",
    )
    try:
        found = prose_outside_render(sample)
    finally:
        sample.unlink()
    assert len(found) == 1 and "Sorry, that paper" in found[0]


def test_every_papers_word_is_one_row_of_the_router() -> None:
    names = [name for word in commands.WORDS for name in word.names]
    assert len(names) == len(set(names))  # no word routed twice
    for typed in ("help", "trending", "saved 2", "foryou", "picks on", "forget me", "digest off"):
        word = commands.word_for(typed)
        assert word is not None and typed.split()[0] in word.names
    # A word that does not take what follows it is a search for all of it.
    assert commands.word_for("trending diffusion models") is None
    assert commands.word_for("forget everything") is None
    assert commands.word_for("kolmogorov arnold networks") is None
