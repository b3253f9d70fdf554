"""Shared fixtures: real libraries in temporary data dirs, and the test data in tests/data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.library import Library
from bot.search import SearchEngine

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's real Slack settings."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PAPERS_", "HF_")) or name == "PORT":
            monkeypatch.delenv(name, raising=False)


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


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return Library(tmp_path / "data")


@pytest.fixture
def empty_library(tmp_path: Path) -> Library:
    return Library(tmp_path / "data", sample_data=False)


@pytest.fixture
def engine(library: Library) -> SearchEngine:
    return SearchEngine(library)


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """tests/data: real API responses, the seed papers and Slack's manifest schema, copied
    into the repo with their SOURCES notes, so a fresh clone runs every test."""
    return DATA
