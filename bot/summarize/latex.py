"""LaTeX and TeX conventions in titles and abstracts, as readers expect to see them."""

from __future__ import annotations

import functools
import re
from typing import Any

_SUPER = dict(zip("0123456789+-=()nijkT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱʲᵏᵀ", strict=True))
_SUB = dict(zip("0123456789+-=()aeijkmnoprstx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₘₙₒₚᵣₛₜₓ", strict=True))
_SCRIPT_RE = re.compile(r"([\^_])(?:\{([^{}]{1,12})\}|([A-Za-z0-9]))")
_MATH_RE = re.compile(r"\$\$?([^$]{1,300}?)\$\$?")
_COMMAND_RE = re.compile(r"\\[A-Za-z]+\*?(?:\{[^{}]{0,200}\})*|\\[%&_#$]")
_MACRO_NAME_RE = re.compile(r"\\([A-Za-z]+)")


@functools.lru_cache(maxsize=1)
def _latex() -> tuple[Any, Any]:
    from pylatexenc.latex2text import LatexNodes2Text, get_default_latex_context_db

    return LatexNodes2Text(math_mode="text"), get_default_latex_context_db()


def _scripts(text: str) -> str | None:
    """x^{2} -> x², x_i -> xᵢ; None if a script has no Unicode form."""
    failed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal failed
        table = _SUPER if match.group(1) == "^" else _SUB
        body = match.group(2) or match.group(3)
        if all(ch in table for ch in body):
            return "".join(table[ch] for ch in body)
        failed = True
        return match.group(0)

    converted = _SCRIPT_RE.sub(replace, text)
    return None if failed else converted


def _convert_fragment(fragment: str) -> str:
    converter, db = _latex()
    if any(db.get_macro_spec(name) is None for name in _MACRO_NAME_RE.findall(fragment)):
        return f"`{fragment}`"
    scripted = _scripts(fragment)
    if scripted is None:
        return f"`{fragment}`"
    try:
        text = converter.latex_to_text(scripted)
    except Exception:  # pylatexenc raises its own errors on odd input; show it as code
        return f"`{fragment}`"
    text = " ".join(text.split())
    if "\\" in text or "{" in text or "^" in text or "_" in text:
        return f"`{fragment}`"
    return text


_LATEX_RE = re.compile(f"{_MATH_RE.pattern}|{_COMMAND_RE.pattern}")


_TEX_DOUBLE_QUOTES = re.compile(r"``(.*?)''", re.DOTALL)
_TEX_SINGLE_QUOTES = re.compile(r"`([^`']{1,200})'")
_TEX_TIE = re.compile(r"(?<=\S)~(?=\S)")
_TEXT_SUBSCRIPT = re.compile(r"(?<=[^\W_])_(\{[0-9+\-]{1,6}\}|[0-9+\-])(?![^\W_])")


def tex_text(text: str) -> str:
    """TeX's text conventions as readers see them: ``x'' -> “x”, `x' -> ‘x’, a tie ~ -> a
    no-break space, Fid_+ -> Fid₊. In Slack mrkdwn a stray backtick or tilde would start
    code or strikethrough, so what is left of them becomes ‘ and ∼."""
    if not any(ch in text for ch in "`~_"):
        return text
    text = _TEX_DOUBLE_QUOTES.sub(lambda m: f"“{m.group(1)}”", text)
    text = _TEX_SINGLE_QUOTES.sub(lambda m: f"‘{m.group(1)}’", text)
    text = _TEX_TIE.sub("\u00a0", text).replace("`", "‘").replace("~", "∼")
    return _TEXT_SUBSCRIPT.sub(
        lambda m: "".join(_SUB.get(ch, ch) for ch in m.group(1).strip("{}")), text
    )


def latex_to_unicode(text: str) -> str:
    """`$\\alpha$` -> α, `$O(n^2)$` -> O(n²), `\\textbf{x}` -> x; the rest as `code`."""
    text = tex_text(text)
    if "$" not in text and "\\" not in text:
        return text
    return _LATEX_RE.sub(lambda m: _convert_fragment(m.group(0)), text)
