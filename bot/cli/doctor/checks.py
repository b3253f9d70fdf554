"""What one check of `papers-bot doctor` found."""

from __future__ import annotations

from typing import Literal, NamedTuple

Status = Literal["ok", "fail", "skip"]


class Check(NamedTuple):
    name: str
    status: Status
    detail: str  # what was found (why it was skipped)
    fix: str = ""  # what to do when it failed


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


def skip(name: str, why: str) -> Check:
    return Check(name, "skip", why)
