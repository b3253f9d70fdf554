"""Optional native parts are probed, not trusted: checked in a child process before a process
first uses them.

A compiled extension can kill the interpreter (usearch 2.26.2 and later, imported before
onnxruntime, die with SIGSEGV), hang, or answer wrong after an upgrade of any of its
dependencies. An optional part must cost only its own feature, never the bot, a command or a
request, so a `Part` names its modules and a check (`"module:function"`, our own code doing
what the feature does) which `probe` runs in `python -m bot.probe`, one child per variant (the
import orders our code can take), with a timeout. The verdict is kept in
`$XDG_CACHE_HOME/papers-bot/probes.json` (`~/.cache` by default) under a key made of the
Python, each module's file and version, and the check's own code: one check per installed set
of versions, again after an upgrade or a reinstall. A failing part is said once per process,
with what to do; `papers-bot doctor` probes afresh.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT = 60.0  # seconds for a check: a model loaded and run once takes 2-5 s on a busy CPU
CACHE_ENTRIES = 32  # verdicts kept (one per installed set of versions, per check)
FIX = "run `make upgrade` (or reinstall: `make semantic`), then `papers-bot doctor`"


@dataclass(frozen=True)
class Part:
    name: str  # as people call it: "search by meaning"
    modules: tuple[str, ...]  # top-level import names whose files identify the install
    distributions: tuple[str, ...]  # the installed distributions named in messages
    check: str  # "package.module:function", called in the child as function(variant, *args)
    variants: tuple[str, ...] = ("",)  # one child each, in parallel (import orders)
    fix: str = FIX


@dataclass(frozen=True)
class Verdict:
    part: str
    ok: bool
    reason: str = ""  # why not, when not ok: "model-first: crashed (SIGSEGV)"
    versions: dict[str, str] = field(default_factory=dict)
    fix: str = FIX
    cached: bool = False  # read from the cache, not checked by this call

    def describe(self) -> str:
        """One line: the part, why it is off, which versions, what to do."""
        versions = ", ".join(f"{name} {version}" for name, version in self.versions.items())
        return f"{self.part} is off: {self.reason} [{versions}]; to fix: {self.fix}"


_verdicts: dict[str, Verdict] = {}  # this process's, by key: each part checked and said once
_lock = threading.Lock()


def probe(part: Part, *args: str, fresh: bool = False, timeout: float = TIMEOUT) -> Verdict:
    """Whether `part` works on this install: its check passed in every variant's child.
    Cached per install; a failure is logged once per process. `fresh` checks again and leaves
    saying it to the caller (`papers-bot doctor` prints it in its table)."""
    key = install_key(part, args)
    with _lock:
        verdict = None if fresh else _verdicts.get(key) or _cached(key)
        if verdict is None:
            verdict = _checked(part, args, timeout)
            _remember(key, verdict)
        if not fresh and key not in _verdicts and not verdict.ok:
            log.error("%s", verdict.describe())
        _verdicts[key] = verdict
        return verdict


def versions(part: Part) -> dict[str, str]:
    """Each distribution's installed version; a module found outside this environment (a
    folder on PYTHONPATH) is named with its place, since that is what gets imported."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for name in part.distributions:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    for module in part.modules:
        origin = _origin(module)
        if origin and not origin.startswith((sys.prefix, sys.base_prefix)):
            installed = f", not the installed {found[module]}" if module in found else ""
            found[module] = f"at {Path(origin).parent}{installed}"
    return found


def install_key(part: Part, args: tuple[str, ...]) -> str:
    """Names what the verdict depends on: Python, each module's file (path, time, size), the
    distributions' versions, our code the check runs (its package's files and this one) and
    the check's arguments."""
    stamps = [_stamp(name) for name in part.modules]
    check_file = _origin(part.check.split(":")[0])  # our own package: importing it is fine
    ours = sorted(Path(check_file).parent.glob("*.py")) if check_file else []
    stamps += [_file_stamp(str(path)) for path in (*ours, Path(__file__))]
    material = [sys.version, sys.executable, part.check, list(args), stamps, versions(part)]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:32]


def _origin(module: str) -> str | None:
    """Where `module` would be imported from, without importing it (for a part's modules,
    top-level names only: finding `a.b` imports `a`, which must not happen in this process)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _stamp(module: str) -> list[object]:
    origin = _origin(module)
    return [module, *_file_stamp(origin)] if origin else [module, None]


def _file_stamp(path: str) -> list[object]:
    try:
        stat = os.stat(path)
    except OSError:
        return [path, None]
    return [path, stat.st_mtime_ns, stat.st_size]


# -- the children ------------------------------------------------------------------------------


def _checked(part: Part, args: tuple[str, ...], timeout: float) -> Verdict:
    command = [sys.executable, "-P", "-m", "bot.probe", part.check]
    children = [(variant, _start([*command, variant, *args])) for variant in part.variants]
    deadline = time.monotonic() + timeout
    failure: tuple[str, str | None] | None = None
    try:
        for variant, child in children:
            failure = failure or _failure(variant, child, deadline, timeout)
    finally:
        for _, child in children:
            if child.poll() is None:
                child.kill()
            child.communicate()
    if failure is None:
        return Verdict(part.name, True, versions=versions(part), fix=part.fix)
    reason, fix = failure
    return Verdict(part.name, False, reason, versions(part), fix or part.fix)


def _start(command: list[str]) -> subprocess.Popen[str]:
    """A child that imports what this process would: its `sys.path`, and no more (`-P`: not
    the working folder, which `-m` would add). Its output stays apart from the bot's (a crash
    report, library noise); its answer is its last line of stdout."""
    path = os.pathsep.join(entry for entry in sys.path if entry)
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )


def _failure(
    variant: str, child: subprocess.Popen[str], deadline: float, timeout: float
) -> tuple[str, str | None] | None:
    """Why `child` failed, and what to do when the check said it; None when it passed."""
    label = f"{variant}: " if variant else ""
    try:
        out, err = child.communicate(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return f"{label}the check did not finish in {timeout:.0f} s (hung)", None
    if child.returncode < 0:
        name = signal.Signals(-child.returncode).name
        return f"{label}the check process crashed ({name})", None
    try:
        answer = json.loads(out.strip().splitlines()[-1])
        if answer["ok"] is True:
            return None
        return f"{label}{answer['reason']}", answer.get("fix")
    except (ValueError, IndexError, KeyError, TypeError):
        last = (err.strip().splitlines() or ["no output"])[-1]
        return f"{label}the check process exited {child.returncode}: {last}", None


def main(argv: list[str]) -> int:
    """The child: `python -m bot.probe module:function VARIANT [ARGS...]` prints one JSON line,
    {"ok": true} or {"ok": false, "reason": ..., "fix": ...} (`fix`: the error's own advice,
    when it has one)."""
    target, *args = argv
    module, function = target.split(":")
    try:
        getattr(importlib.import_module(module), function)(*args)
    except Exception as error:  # the check's own failure, a wrong answer: said, not raised
        reason = str(error) or type(error).__name__
        print(json.dumps({"ok": False, "reason": reason, "fix": getattr(error, "fix", None)}))
        return 1
    print(json.dumps({"ok": True}))
    return 0


# -- the cache ---------------------------------------------------------------------------------


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "papers-bot" / "probes.json"


def _entries() -> dict[str, dict[str, object]]:
    try:
        raw = json.loads(cache_file().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _cached(key: str) -> Verdict | None:
    entry = _entries().get(key)
    if not isinstance(entry, dict):
        return None
    try:
        fields = {name: entry[name] for name in ("part", "ok", "reason", "versions", "fix")}
        return Verdict(**fields, cached=True)  # type: ignore[arg-type]
    except (KeyError, TypeError):
        return None


def _remember(key: str, verdict: Verdict) -> None:
    """Keep `verdict` for the next process; a cache that cannot be written costs a check."""
    entries = _entries()
    entries.pop(key, None)
    entries[key] = {**asdict(verdict), "cached": False, "at": time.time()}
    kept = dict(list(entries.items())[-CACHE_ENTRIES:])
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(kept, indent=1), "utf-8")
        os.replace(partial, path)
    except OSError as error:
        log.debug("could not keep the probe's verdict in %s: %s", path, error)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
