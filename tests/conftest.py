"""Shared fixtures: real libraries in temporary data dirs, and the test data in tests/data."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.library import Library
from bot.search import SearchEngine
from tests.fakes.hf import HFStandIn
from tests.postgres_server import HOW_TO_ENABLE, fresh_database, running_server, server_binaries

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# A server the caller provides (`DATABASE_URL=... make test`); read before any test runs, and
# kept from the tests' own environment, so that no CLI test switches backends by accident.
CALLER_DATABASE_URL = os.environ.get("DATABASE_URL")
BACKENDS = ["files", "postgres"]


@pytest.fixture(scope="session")
def probe_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cache folder of the run (XDG_CACHE_HOME): the native parts' check (`bot.probe`)
    runs once for all the tests, and never reads or writes the developer's own verdicts."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, probe_cache: Path) -> None:
    """Tests never see a developer's real Slack settings."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PAPERS_", "HF_")) or name in ("PORT", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
    # Search by meaning is on wherever its extra is installed, as here; embedding each test's
    # library would cost seconds, so it is off unless a test turns it on (tests/test_semantic.py).
    monkeypatch.setenv("PAPERS_SEMANTIC", "0")
    monkeypatch.setenv("XDG_CACHE_HOME", str(probe_cache))


def run_papers_bot(
    cwd: Path, *args: str, input: str | None = None, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in a new process, with `env` added to this (clean) environment."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the whole run: the caller's, or one started here."""
    if CALLER_DATABASE_URL:
        yield CALLER_DATABASE_URL
        return
    if server_binaries() is None:
        print(f"\n*** {HOW_TO_ENABLE} ***", file=sys.stderr)
        pytest.skip(HOW_TO_ENABLE)
    with running_server() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each backend in turn: None for the files, a new empty database for PostgreSQL."""
    if request.param == "files":
        return None
    return fresh_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def library(tmp_path: Path, database_url: str | None) -> Library:
    return Library(tmp_path / "data", database_url=database_url)


@pytest.fixture
def empty_library(tmp_path: Path, database_url: str | None) -> Library:
    return Library(tmp_path / "data", sample_data=False, database_url=database_url)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `files_only` tests what only files have (a damaged file, a full disk):
    its PostgreSQL variant is not collected (deselected, not skipped)."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("files_only")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database_url") == "postgres"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def reopen(library: Library, **options: object) -> Library:
    """The same library opened anew, as another process would: same data dir, same database."""
    return Library(library.data_dir, database_url=library.database_url, **options)  # type: ignore[arg-type]


@pytest.fixture
def file_library(tmp_path: Path) -> Library:
    """The embedded backend only: for what only files have (damage, locks, a full disk)."""
    return Library(tmp_path / "data")


@pytest.fixture
def engine(library: Library) -> SearchEngine:
    return SearchEngine(library)


@pytest.fixture
def hf(fixtures: Path) -> Iterator[HFStandIn]:
    """The loopback Hugging Face, serving the real Daily Papers responses of tests/data."""
    standin = HFStandIn(fixtures).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """tests/data: real API responses, the seed papers and Slack's manifest schema, copied
    into the repo with their SOURCES notes, so a fresh clone runs every test."""
    return DATA


@contextlib.contextmanager
def small_tmpfs(tmp_path: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of `size` (`4m`) for full- and read-only-disk tests; skipped where this
    machine cannot mount one."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill_disk(disk: Path) -> Path:
    """Write until not one more byte fits; delete the file it returns to free the space."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return filler
