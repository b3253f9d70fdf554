"""Doctor's checks of the install: the Python, the installed versions against uv.lock, and each
optional native part's probe (run afresh, not read from the cache)."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import bot
from bot.cli.doctor.checks import Check, fail, ok, skip
from bot.config import Settings
from bot.search.semantic import installed, native_check
from bot.search.semantic.model import ModelMissing

# The Pythons uv.lock has a wheel of every run-time package for (`scripts/check_lock.py`
# checks it in `make lint`): on another, a native part may have to be built, or not install.
PYTHONS = ((3, 11), (3, 12), (3, 13), (3, 14))
PROJECT = "papers-bot"
LOCK_FILE = "uv.lock"
REINSTALL = (
    "reinstall the locked versions: `make semantic` (or `uv sync --locked` with your extras)"
)


def install_checks(settings: Settings) -> list[Check]:
    return [python_check(), lock_check(), semantic_check(settings)]


def python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] not in PYTHONS:
        covered = f"{PYTHONS[0][0]}.{PYTHONS[0][1]}-{PYTHONS[-1][0]}.{PYTHONS[-1][1]}"
        return fail(
            "Python",
            f"{version} at {sys.executable}: uv.lock has wheels for {covered}",
            f"make .venv with Python {covered}: `make clean`, then `make PYTHON=python3.12 run`",
        )
    return ok("Python", f"{version} at {sys.executable}")


def lock_file() -> Path | None:
    """uv.lock of the checkout this runs from (an editable install), else of the working
    folder (the Docker image keeps it in /app)."""
    for folder in (Path(bot.__file__).resolve().parent.parent, Path.cwd()):
        if (folder / LOCK_FILE).is_file():
            return folder / LOCK_FILE
    return None


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_check(path: Path | None = None) -> Check:
    """The installed distributions against `path` (by default `lock_file()`)."""
    name = "installed versions"
    path = path or lock_file()
    if path is None:
        return skip(name, f"no {LOCK_FILE} here to compare with (run from the checkout)")
    try:
        lock = tomllib.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        return fail(name, f"{path} cannot be read: {error}", "restore uv.lock from git")
    locked: dict[str, set[str]] = {}
    required: list[str] = []
    for package in lock.get("package", []):
        locked.setdefault(_normal(package["name"]), set()).add(package["version"])
        if package["name"] == PROJECT:
            required = [_normal(edge["name"]) for edge in package.get("dependencies", [])]
    installed_now = {_normal(d.metadata["Name"]): d.version for d in distributions()}
    installed_now.pop(PROJECT, None)
    differ = [
        f"{n} {v} (lock: {' or '.join(sorted(locked[n]))})"
        for n, v in sorted(installed_now.items())
        if n in locked and v not in locked[n]
    ]
    missing = [n for n in required if n not in installed_now]
    unlocked = sorted(n for n in installed_now if n not in locked)
    if differ or missing:
        found = "; ".join(differ + [f"{n} missing" for n in missing])
        return fail(name, f"not as {path.name} says: {found}", REINSTALL)
    extra = f"; not in the lock: {', '.join(unlocked)}" if unlocked else ""
    counted = sum(1 for n in installed_now if n in locked)
    return ok(name, f"{counted} packages as {path} says{extra}")


def semantic_check(settings: Settings) -> Check:
    name = "search by meaning"
    if not installed(settings.embedding_model):
        return skip(name, "not installed (`make semantic` adds it)")
    if not settings.semantic:
        return skip(name, "turned off by PAPERS_SEMANTIC=0")
    try:
        verdict = native_check(settings.embedding_model, fresh=True)
    except (ModelMissing, OSError) as error:
        return fail(name, str(error), "set PAPERS_EMBEDDING_MODEL right, or unset it")
    versions = ", ".join(f"{n} {v}" for n, v in verdict.versions.items())
    if not verdict.ok:
        return fail(name, f"{verdict.reason} [{versions}]", verdict.fix)
    return ok(name, f"its check passed in a child process [{versions}]")
