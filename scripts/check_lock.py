"""What uv.lock promises, checked: for Linux on x86-64 and aarch64 and CPython 3.11 to 3.14,
a wheel of every package the bot runs on (the base install and `[semantic]`), so that no
machine compiles one; `[dev]` tools may build from source, and are named when they would.

`make lint` runs it after `uv lock --check` (which checks that pyproject.toml and the lock
agree). Exit 1 when a run-time package would have to be built, or cannot be installed at all.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from bot.cli.doctor.install import PYTHONS

LOCK = Path(__file__).resolve().parent.parent / "uv.lock"
PROJECT = "papers-bot"
ARCHES = ("x86_64", "aarch64")
RUN_TIME_EXTRAS = ("semantic",)
GLIBC_MINOR = 28  # manylinux_2_28: Debian 10, Ubuntu 20.04, RHEL 8 and newer


def platforms(arch: str) -> list[str]:
    """Linux platform tags a glibc 2.28 machine of `arch` accepts, the most specific first."""
    many = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 16, -1)]
    return [*many, f"manylinux2014_{arch}", f"linux_{arch}"]


def accepted_tags(python: tuple[int, int], arch: str) -> set[Tag]:
    names = platforms(arch)
    interpreter = f"cp{python[0]}{python[1]}"
    return {
        *cpython_tags(python, platforms=names),
        *compatible_tags(python, interpreter=interpreter, platforms=names),
    }


def environment(python: tuple[int, int], arch: str) -> dict[str, str]:
    version = f"{python[0]}.{python[1]}"
    return {
        "python_version": version,
        "python_full_version": f"{version}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": arch,
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def applies(edge: dict[str, Any], env: dict[str, str]) -> bool:
    return "marker" not in edge or Marker(edge["marker"]).evaluate(env)


def needed(
    packages: dict[tuple[str, str], dict[str, Any]], env: dict[str, str], extras: tuple[str, ...]
) -> Iterator[tuple[str, str]]:
    """(name, version) of every package installed on `env` with the project's `extras`."""
    root = next(p for p in packages.values() if p["name"] == PROJECT)
    edges = list(root.get("dependencies", []))
    for extra in extras:
        edges += root.get("optional-dependencies", {}).get(extra, [])
    versions = {name: [v for n, v in packages if n == name] for name, _ in packages}
    seen: set[tuple[str, str]] = set()
    while edges:
        edge = edges.pop()
        if not applies(edge, env):
            continue
        key = (edge["name"], edge.get("version") or versions[edge["name"]][0])
        if key in seen:
            continue
        seen.add(key)
        yield key
        edges += packages[key].get("dependencies", [])


def installable(package: dict[str, Any], tags: set[Tag]) -> str:
    """'wheel', 'source' (an sdist to build) or 'none'."""
    for wheel in package.get("wheels", []):
        if parse_wheel_filename(wheel["url"].rsplit("/", 1)[1])[3] & tags:
            return "wheel"
    return "source" if "sdist" in package else "none"


def main() -> int:
    lock = tomllib.loads(LOCK.read_text("utf-8"))
    packages = {(p["name"], p["version"]): p for p in lock["package"]}
    failures, built = [], set()
    for arch in ARCHES:
        for python in PYTHONS:
            env, tags = environment(python, arch), accepted_tags(python, arch)
            run_time = set(needed(packages, env, RUN_TIME_EXTRAS))
            for key in set(needed(packages, env, (*RUN_TIME_EXTRAS, "dev"))):
                if key[0] == PROJECT:
                    continue
                how = installable(packages[key], tags)
                where = f"{key[0]} {key[1]} on Linux {arch}, CPython {python[0]}.{python[1]}"
                if how == "none" or (how == "source" and key in run_time):
                    failures.append(f"{where}: no wheel" + (" and no sdist" * (how == "none")))
                elif how == "source" and any(w for w in packages[key].get("wheels", [])):
                    built.add(f"{key[0]} {key[1]} (dev, Linux {arch})")
    for line in failures:
        print(f"uv.lock: {line}", file=sys.stderr)
    if built:
        print(
            "uv.lock: built from source by `make test` (needs a C/C++ compiler): "
            + ", ".join(sorted(built))
        )
    print(
        f"uv.lock: {len(packages)} packages; every run-time one has a wheel for Linux "
        f"{' and '.join(ARCHES)}, CPython "
        f"{PYTHONS[0][0]}.{PYTHONS[0][1]}-{PYTHONS[-1][0]}.{PYTHONS[-1][1]}"
        if not failures
        else "uv.lock: see above"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
