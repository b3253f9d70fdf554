"""`.env.example` and README's settings table, written from the settings' declarations.

    python scripts/settings_docs.py          # write both
    python scripts/settings_docs.py --check  # exit 1 when either differs (make lint)

Each setting is declared once, in `bot/config.py` (`Settings`, with `setting(...)`); this
prints what those declarations say, so the docs never drift from the code.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

from bot.config import GROUPS, Settings, declared

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"
START, END = "<!-- settings table: scripts/settings_docs.py -->", "<!-- end of settings table -->"
HEADER = """\
# papers-bot settings. Copy to .env (same folder you run papers-bot from) and fill in.
# Real environment variables win over this file. Written from bot/config.py by
# scripts/settings_docs.py: edit the declarations there, then run `make settings-docs`.
"""


def _value(declaration: dict[str, Any], default: Any) -> str:
    if declaration["example"] is not None:
        return str(declaration["example"])
    if isinstance(default, bool):
        return "1" if default else "0"
    return "" if default is None else str(default)


def env_example() -> str:
    lines = [HEADER.rstrip("\n")]
    defaults = _defaults()
    for group, heading in GROUPS.items():
        lines += ["", f"# --- {heading} " + "-" * max(3, 88 - len(heading))]
        for name, declaration in declared():
            if declaration["group"] != group:
                continue
            if declaration["note"]:
                lines += textwrap.wrap(
                    declaration["note"],
                    95,
                    initial_indent="# ",
                    subsequent_indent="# ",
                    break_on_hyphens=False,
                    break_long_words=False,
                )
            line = f"{declaration['env']}={_value(declaration, defaults[name])}"
            lines.append(line if not declaration["listed"] else f"# {line}")
            if declaration["also"]:
                lines.append(f"# {declaration['also']}=")
    return "\n".join(lines) + "\n"


def _shown(declaration: dict[str, Any], default: Any) -> str:
    if declaration["shown"] is not None:
        return str(declaration["shown"])
    if default is None:
        return "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, str):
        return f"`{default}`"
    return str(default)


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    defaults = _defaults()
    for name, declaration in declared():
        meaning = declaration["meaning"]
        if declaration["added"]:
            meaning = f"**added to the contract:** {meaning}"
        rows.append(
            f"| `{declaration['env']}` | {_shown(declaration, defaults[name])} | {meaning} |"
        )
    return "\n".join([START, *rows, END])


def _defaults() -> dict[str, Any]:
    """Each setting's default, as `Settings()` has it."""
    return vars(Settings())


def readme_with_table(readme: str) -> str:
    before, _, rest = readme.partition(START)
    _, found, after = rest.partition(END)
    if not found:
        raise SystemExit(f"README.md has no settings table between {START!r} and {END!r}")
    return before + settings_table() + after


def main(argv: list[str]) -> int:
    wanted = {ENV_EXAMPLE: env_example(), README: readme_with_table(README.read_text())}
    stale = [path.name for path, text in wanted.items() if path.read_text() != text]
    if "--check" in argv:
        for name in stale:
            print(f"{name} does not match bot/config.py's settings: run `make settings-docs`")
        return 1 if stale else 0
    for path, text in wanted.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
