"""TL;DRs, readable LaTeX and keywords for papers.

The TL;DR is Hugging Face's `ai_summary` when a paper has one. Otherwise it is extractive: the
sentence where the authors state their contribution ("we propose / introduce / present ...")
and, when it fits in 280 characters, the sentence with the headline result. That rule picks the
contribution far more often than centrality methods such as LexRank, which favour background
sentences (measured by bench/summary_quality.py, checked in tests/test_summary.py; figures in
README).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any

from bot.models import Paper
from bot.search.aliases import find_definitions
from bot.search.analyzer import STOPWORDS

TLDR_LIMIT = 280
ELLIPSIS = "…"

# -- text helpers --------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


# -- LaTeX -----------------------------------------------------------------------------------

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


# -- sentences ---------------------------------------------------------------------------------

_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "approx.", "resp.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"“])")


def split_sentences(text: str) -> list[str]:
    protected = " ".join(text.split())
    for i, abbreviation in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbreviation, f"\x00{i}\x00")
    parts = _SENTENCE_END.split(protected)
    restore = re.compile(r"\x00(\d+)\x00")
    return [
        restore.sub(lambda m: _ABBREVIATIONS[int(m.group(1))], p).strip()
        for p in parts
        if p.strip()
    ]


_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|study|article)|in this (?:paper|work),? we|here,? we)\b"
    r"[^.]{0,60}?\b(?:propose|introduce|present|develop|design|describe|introduces|proposes|"
    r"presents|develops|designs|describes|build|release|establish|formulate|devise)",
    re.IGNORECASE,
)
_WEAK_CONTRIBUTION = re.compile(
    r"\b(?:we|our (?:method|approach|framework|model|work)|this (?:paper|work))\b"
    r"[^.]{0,40}?\b(?:show|demonstrate|find|study|investigate|explore|analy[sz]e|"
    r"shows|demonstrates|finds|studies|investigates|explores|reveal|reveals|identify)",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:outperform\w*|achiev\w*|surpass\w*|improv\w*|state-of-the-art|SOTA|speed-?up\w*|"
    r"reduc\w*|faster|better|gains?)\b|\d+(?:\.\d+)?\s?(?:%|x\b|×)",
    re.IGNORECASE,
)


def _contribution_index(sentences: list[str]) -> int:
    for pattern in (_CONTRIBUTION, _WEAK_CONTRIBUTION):
        for i, sentence in enumerate(sentences):
            if pattern.search(sentence):
                return i
    return 0


def extractive_tldr(abstract: str, limit: int = TLDR_LIMIT) -> str:
    """The contribution sentence, plus the headline-result sentence when both fit."""
    sentences = split_sentences(latex_to_unicode(abstract))
    if not sentences:
        return ""
    main = _contribution_index(sentences)
    summary = sentences[main]
    for sentence in sentences[main + 1 :]:
        if _RESULT.search(sentence):
            if len(summary) + 1 + len(sentence) <= limit:
                summary = f"{summary} {sentence}"
            break
    return shorten(summary, limit)


def tldr(paper: Paper, limit: int = TLDR_LIMIT) -> str:
    if paper.ai_summary:
        return shorten(latex_to_unicode(paper.ai_summary), limit)
    if paper.abstract:
        return extractive_tldr(paper.abstract, limit)
    return ""


# -- keywords ----------------------------------------------------------------------------------

_KEYWORD_STOP = STOPWORDS | frozenset(
    # Words that make poor key phrases in abstracts, on top of the search stopwords.
    """
    achieve achieves across allows approach art based demonstrate demonstrates due enables
    existing experiments first four given high however including instead introduce introduces
    key large leaving low make makes many method methods model models new novel one paper
    paradigm performance present presents propose proposed provide provides remains results
    second several show shows significantly small some state study take takes task tasks three
    two use used using various within without work
    """.split()
)
_PHRASE_SPLIT = re.compile(r"[.,;:!?()\[\]{}\"“”]|\s-\s|\s–\s")


def extract_keywords(text: str, title: str = "", limit: int = 5) -> list[str]:
    """RAKE-style key phrases: runs of content words, scored by word degree and frequency."""
    candidates: list[list[str]] = []
    for chunk in _PHRASE_SPLIT.split(f"{title}. {text}"):
        run: list[str] = []
        for word in chunk.split():
            bare = word.strip("'’")
            if bare.lower() in _KEYWORD_STOP or not re.search(r"[A-Za-z]", bare) or len(bare) < 2:
                if run:
                    candidates.append(run)
                run = []
            else:
                run.append(bare)
        if run:
            candidates.append(run)
    definitions = find_definitions(f"{title}. {text}")
    phrases = [run for run in candidates if 1 <= len(run) <= 3]
    phrases += [long.split() for _, long in definitions if len(long.split()) <= 5]
    frequency: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for run in phrases:
        for word in run:
            frequency[word.lower()] += 1
            degree[word.lower()] += len(run)
    title_words = {w.lower() for w in re.findall(r"[\w-]+", title)}
    defined = {long.lower() for _, long in definitions}
    occurrences = Counter(" ".join(run).lower() for run in phrases)
    scored: dict[str, float] = {}
    for run in phrases:
        key = " ".join(run)
        score = sum(degree[w.lower()] / frequency[w.lower()] for w in run)
        score += sum(1.5 for w in run if w.lower() in title_words)
        score += sum(1.0 for w in run if sum(c.isupper() for c in w) >= 2)
        score += 2.0 * (occurrences[key.lower()] - 1)
        score += 6.0 if key.lower() in defined else 0.0
        score -= sum(2.0 for w in run if w.lower().endswith(("ly", "ing", "ed")) and len(run) > 1)
        scored[key] = max(scored.get(key, 0.0), score)
    chosen: list[str] = []
    seen_words: set[str] = set()
    for phrase in sorted(scored, key=lambda k: -scored[k]):
        words = {w.lower() for w in phrase.split()}
        if words & seen_words:
            continue
        chosen.append(phrase)
        seen_words |= words
        if len(chosen) == limit:
            break
    return chosen


def keywords(paper: Paper, limit: int = 5) -> list[str]:
    if paper.ai_keywords:
        return paper.ai_keywords[:limit]
    return extract_keywords(latex_to_unicode(paper.abstract), latex_to_unicode(paper.title), limit)
