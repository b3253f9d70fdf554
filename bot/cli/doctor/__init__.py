"""`papers-bot doctor`: the checklist a person runs when something is wrong.

Each check says what it found and, when it fails, what to do. The install (`install`), the data
(`data`), then the settings and the services (`services`; `--network` adds Hugging Face, arXiv
and the LLM). Exit 0 only when nothing failed; a check that does not apply here (no Slack
token, no database) is skipped and says why. `--json` prints the same for scripts.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from bot.cli.doctor.checks import Check
from bot.cli.doctor.data import data_checks
from bot.cli.doctor.install import install_checks
from bot.cli.doctor.services import network_checks, service_checks
from bot.cli.errors import EXIT_FAILED, EXIT_OK
from bot.config import Settings

MARKS = {"ok": "ok", "fail": "FAIL", "skip": "skip"}


def doctor_command(args: argparse.Namespace) -> int:
    checks = run_checks(args.settings, network=args.network)
    failed = [check for check in checks if check.status == "fail"]
    if args.json:
        print(json.dumps(as_json(checks), indent=2, ensure_ascii=False))
    else:
        print(table(checks))
        print(f"\n{len(failed)} of {len(checks)} checks failed." if failed else "\nAll good.")
    return EXIT_FAILED if failed else EXIT_OK


def run_checks(settings: Settings, network: bool = False) -> list[Check]:
    groups: list[Callable[[Settings], list[Check]]] = [install_checks, data_checks, service_checks]
    if network:
        groups.append(network_checks)
    return [check for group in groups for check in group(settings)]


def table(checks: list[Check]) -> str:
    width = max(len(check.name) for check in checks)
    lines = []
    for check in checks:
        lines.append(f"{MARKS[check.status]:<5} {check.name:<{width}}  {check.detail}")
        if check.status == "fail" and check.fix:
            lines.append(f"{'':<5} {'':<{width}}  -> {check.fix}")
    return "\n".join(lines)


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {
        "ok": not any(check.status == "fail" for check in checks),
        "checks": [check._asdict() for check in checks],
    }
