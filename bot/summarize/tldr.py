"""The extractive TL;DR: the sentence that states what the paper contributes, made to stand
alone, and its headline result when both fit.

Centrality methods (LexRank, TextRank) favour background sentences; authors state their
contribution in a sentence of its own ("we propose X ...") and their result in another
("X cuts evaluations 4x"). Such a sentence often leans on the one before it ("To address this
issue, we propose ..."): the leaning part goes, because the reader never sees that sentence.
bench/summary_quality.py measures it against Hugging Face's summaries and LexRank, TextRank,
the first sentence and the title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.summarize.latex import latex_to_unicode
from bot.summarize.sentences import shorten, split_sentences

TLDR_LIMIT = 280
MIN_HEAD = 90  # a contribution cut shorter than this says too little to make room

_SUBJECT = r"(?:we|this (?:paper|work|study|article|survey|report)|our (?:\w+ ){0,2}?\w+|(?-i:I))"
_CONTRIBUTION_VERB = (
    r"(?:propose|introduce|present|develop|design|describe|build|release|establish|formulate|"
    r"devise|construct|create|offer|contribute|curate|collect|derive|provide)s?"
)
_FINDING_VERB = (
    r"(?:show|demonstrate|find|study|investigate|explore|analy[sz]e|reveal|identify|prove|"
    r"examine|evaluate|benchmark|compare|contrast|test|measure|quantify|characteri[sz]e|"
    r"distinguish|train|apply|extend|use|consider|review|survey|summari[sz]e|take a (?:deep )?"
    r"look|run|perform|conduct|report|argue|observe|call|provide)s?"
)
# The authors as the subject of a clause, not inside one ("the tasks we test").
_CLAUSE_START = (
    r"(?:^|^(?:as|based on|building on|using|with|from|by|after|given|inspired by|motivated by|"
    r"guided by|drawing on|in|on|through|via)\b[^,;]{0,100}?\s|[,;:(]\s*|"
    r"\b(?:here|that|then|thus|and|so|first|also|further|finally|therefore|"
    r"paper|work|study|article|hence|now|instead|next|lastly|secondly|specifically)\s+)"
)
_CONTRIBUTION = re.compile(
    rf"{_CLAUSE_START}{_SUBJECT}\b[^.;]{{0,60}}?\b{_CONTRIBUTION_VERB}\b|"
    r"\b(?:is|are) (?:proposed|introduced|presented)\b",
    re.IGNORECASE,
)
_FINDING = re.compile(
    rf"{_CLAUSE_START}{_SUBJECT}\b[^.;]{{0,50}}?\b{_FINDING_VERB}\b", re.IGNORECASE
)
_RESULT = re.compile(
    r"\b(?:outperform\w*|surpass\w*|improv\w*|state-of-the-art|SOTA|speed-?ups?|"
    r"reduc\w*|faster|better|gains?|achiev\w*|beats?|exceeds?|matches|cuts?)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?\s?(?:%|x\b|×|-fold| times\b)|\b\d+(?:\.\d+)?\b")
_PURPOSE = re.compile(r"\bto (?:\w+ly )?\w+")  # "to reduce costs" is an aim, not a result
_LATER_WORK = re.compile(r"\b(?:we hope|future work|we believe|we expect|we envision)\b", re.I)

# Words that point at a sentence the reader of a TL;DR does not see.
_BACK_NOUN = (
    r"(?:issues?|problems?|challenges?|gaps?|limitations?|questions?|observations?|findings?|"
    r"insights?|vision|objectives?|goals?|needs?|shortcomings?|drawbacks?|difficult(?:y|ies)|"
    r"concerns?|deficienc(?:y|ies)|inefficienc(?:y|ies)|bottlenecks?|phenomen(?:on|a)|"
    r"trade-?offs?|tensions?|ideas?|analys[ie]s|results?|lines?|aims?|ends?|motivations?)"
)
BACK_REFERENCE = re.compile(
    rf"\b(?:this|that|these|those|such|both|the (?:above|aforementioned|latter|former))"
    rf"(?: \w+)? {_BACK_NOUN}\b|\b(?:address(?:es|ing)?|solv(?:e|es|ing)|tackl(?:e|es|ing)|"
    r"overcom(?:e|es|ing)|mitigat(?:e|es|ing)|alleviat(?:e|es|ing)|resolv(?:e|es|ing)|"
    r"bridg(?:e|es|ing)|fill(?:s|ing)?) (?:this|these|them|both|it|that)\b|"
    r"\b(?:them|both)\s*[.,;]|\b(?:these|those|such|similar)\s+(?!as\b)[a-z]+|"
    r"\bthis\s+(?!paper|work|study|article|survey|report|is\b)[a-z]+|"
    r"\bboth\s+(?!\S+(?:\s+\S+){0,2}\s+and\b)[a-z]+s\b|"
    r"^(?:it|they|this)\b(?! paper| work)",
    re.IGNORECASE,
)
# Where a trailing clause starts: ", utilizing ...", ", and ablations ...", "that redesigns".
_TRAILING_CLAUSE = re.compile(
    r",\s+(?:which|where|while|whereas|and|but|so|thereby|\w+ing)\b|"
    r"\s(?:that|which|who)\s(?=\w+s\b)"
)
# A leading connective ("Secondly,", "To this end,") or anything before a main clause whose
# subject is the authors or the paper: "To address this issue, we propose X" -> "We propose X".
_LEADING_CONNECTIVE = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|finally|lastly|moreover|furthermore|"
    r"additionally|in addition|then|thus|therefore|hence|specifically|concretely|instead|"
    r"accordingly|consequently|importantly|crucially|notably|here|in this (?:paper|work|study)|"
    r"to this end|in particular|in contrast|however|overall|together|also|subsequently|next|"
    r"later|similarly|likewise|meanwhile)\b,?\s+",
    re.IGNORECASE,
)
_LEAD_BEFORE_SUBJECT = re.compile(
    r"^(?:[^;:]{2,220}?,\s+(?:and\s+|so\s+|thus\s+|then\s+)?(?:(?:in this (?:paper|work|study)|"
    r"here|then|therefore|thus|further|finally),?\s+)?"
    r"(?=(?:we|this (?:paper|work|study|article)|our (?:\w+ ){0,2}?\w+)\b)|"
    r"(?:as|based on|building on|given|guided by|inspired by|motivated by)\b[^,;]{0,100}?\s"
    r"(?=we\b))",
    re.IGNORECASE,
)
_BACK_PURPOSE = re.compile(
    r",?\s+(?:in order )?to (?:address|solve|tackle|overcome|mitigate|alleviate|resolve|bridge|"
    r"fill|handle|remedy|fix|close) (?:this|these|them|both|it|that|such|the (?:above|"
    r"aforementioned))\b[^,;]*?(?=[,;.]|$)",
    re.IGNORECASE,
)
_RESULT_LEAD = re.compile(
    r"^(?:(?:extensive |comprehensive |our )?(?:experiments?|experimental results?|results?|"
    r"evaluations?|empirical(?:ly)?|evaluation|analys[ie]s)\b[^,;]{0,90}?\b(?:show|demonstrate|"
    r"indicate|reveal|confirm|suggest)s?|(?:we|this paper) (?:show|demonstrate|find)s?) that\s+",
    re.IGNORECASE,
)
_ASIDE = re.compile(
    r"\s*\((?:e\.g\.|i\.e\.|see|cf\.|resp\.|such as|including)[^()]*\)|\s*\[[^\]]*]"
)
_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)")
_LIST_TAIL = re.compile(
    r":\s*(?:\(?(?:1|i|a)\)|\d\.|first)[\s\S]*$|,? (?:including|such as|e\.g\.|"
    r"namely)[^.;]*$",
    re.IGNORECASE,
)
_CLAUSE_CUTS = re.compile(
    r",\s+(?:which|where|while|whereas|thereby|so that|as well as|and|but|or|with|using|via|"
    r"by|through|without|rather than|in which|whose|\w+ing\b|\w+ed\b)|[;:]|\s[–—-]\s"
)


@dataclass(frozen=True)
class _Candidate:
    index: int
    text: str  # the sentence as it will be shown, standing alone
    score: float


def coined_name(title: str) -> str | None:
    """The name a title gives its method or dataset: `DPM-Solver: A Fast ODE Solver ...` ->
    DPM-Solver, `Use Your INSTINCT: ...` -> INSTINCT, a word with inner capitals or digits
    (`MgNO`, `CIF-Bench`); not a title-cased compound (`First-Order`)."""
    head, _, rest = title.partition(":")
    words = _NAME_WORD.findall(head)
    if rest and len(words) == 1:
        return str(words[0])
    coined = [word for word in _NAME_WORD.findall(title) if _coined(word)]
    return str(coined[0]) if coined else None


_NAME_WORD = re.compile(r"\w[\w\-+.]*[\w+]|\w")


def _coined(word: str) -> bool:
    """Inner capitals or digits (`MgNO`, `Σ-Mem`, `CIF-Bench`), not an acronym's plural
    (`LLMs`) nor a title-cased compound (`First-Order`)."""
    if word.endswith("s") and word[:-1].isupper():
        return False
    parts = [part for part in word.split("-") if part]
    return any(
        (any(c.isupper() for c in part[1:]) and any(c.islower() for c in part))
        or (any(c.isdigit() for c in part) and any(c.isalpha() for c in part))
        or (len(part) >= 4 and part.isupper() and part.isalpha())
        for part in parts
    )


def stand_alone(sentence: str) -> str:
    """The sentence without what leans on text before it: a leading connective, an opening
    clause before "we ...", a trailing "to address this"."""
    text = sentence.strip()
    for _ in range(3):  # "Secondly, in this paper, we ..." has several
        before = text
        text = _LEADING_CONNECTIVE.sub("", text)
        text = _LEAD_BEFORE_SUBJECT.sub("", text)
        if text == before:
            break
    text = _BACK_PURPOSE.sub("", text)
    text = re.sub(r"^in this (?:paper|work|study),?\s+", "", text, flags=re.I)
    return _capitalised(without_leaning_tail(text.strip()))


def without_leaning_tail(text: str) -> str:
    """The sentence up to a trailing clause that points back at what the reader cannot see
    ("We introduce MgNO, utilizing ... these linear operators" -> "We introduce MgNO.")."""
    for cut in _TRAILING_CLAUSE.finditer(text):
        head = text[: cut.start()]
        if len(head) >= 30 and not leans_back(head) and leans_back(text, after=cut.start()):
            return _ended(head)
    return text


def leans_back(text: str, after: int = 0) -> bool:
    """Whether `text` (from `after` on) points at something it has not named itself: "this
    interface" does, "a new task ... for this task" does not."""
    for pointer in BACK_REFERENCE.finditer(text, after):
        noun = pointer.group(0).split()[-1].lower().rstrip("s.,;")
        if len(noun) < 3 or noun not in text[: pointer.start()].lower():
            return True
    return False


def _capitalised(text: str) -> str:
    if text[:1].islower() and not re.match(r"\w*[A-Z0-9]", text.split(" ")[0][1:] or "x"):
        return text[0].upper() + text[1:]
    return text


def _defining(parenthetical: str) -> bool:
    """An acronym or name being defined, `(S-KAN)`, `(NAPs)`: kept; other asides go."""
    words = parenthetical.split()
    return 0 < len(words) <= 2 and any(c.isupper() for c in parenthetical)


def compressed(text: str) -> str:
    """Asides dropped: e.g./i.e. parentheticals, citations, parentheses that define nothing."""
    text = _ASIDE.sub("", text)
    return _PARENTHESIS.sub(lambda m: m.group(0) if _defining(m.group(1)) else "", text)


def _ended(text: str) -> str:
    text = text.rstrip(" ,;:-–—")
    return text if text.endswith((".", "!", "?")) else text + "."


def fitted(text: str, limit: int) -> str | None:
    """`text` within `limit` characters, cut only at a clause boundary (a list left out
    whole); None when no clause boundary leaves a sentence of some substance."""
    text = _ended(text)
    if len(text) <= limit:
        return text
    listless = _ended(_LIST_TAIL.sub("", text[:-1]))
    if len(listless) <= limit and len(listless) >= 40:
        return listless
    cuts = [m.start() for m in _CLAUSE_CUTS.finditer(listless) if 40 <= m.start() < limit]
    return _ended(listless[: cuts[-1]]) if cuts else None


def _score(index: int, sentence: str, text: str, name: str | None, count: int) -> float:
    """Contribution first, then a finding, then a result; background (no authors, no paper,
    no name, no effect) last, the opening sentence most of all."""
    score = 0.0
    if _CONTRIBUTION.search(sentence):
        score += 4.0
    elif _FINDING.search(sentence):
        score += 2.0
    elif _RESULT.search(_PURPOSE.sub("", sentence)):
        score += 1.5
    if name and name.lower() in sentence.lower():
        score += 2.0
    if score == 0:
        score -= 3.0 if index == 0 else 2.0
    if leans_back(text):
        score -= 3.0  # what is left still leans on a sentence the reader cannot see
    if _LATER_WORK.search(sentence):
        score -= 3.0
    return score - 0.1 * index / max(count, 1)


def _result(sentences: list[str], after: int) -> str | None:
    """The headline result: the first later sentence that states an effect, a number first."""
    later = [
        s
        for s in sentences[after + 1 :]
        if _RESULT.search(_PURPOSE.sub("", s)) and not _LATER_WORK.search(s)
    ]
    later.sort(key=lambda s: 0 if _NUMBER.search(s) else 1)
    if not later:
        return None
    text = _RESULT_LEAD.sub("", later[0])
    text = _LEADING_CONNECTIVE.sub("", text)
    return _capitalised(without_leaning_tail(compressed(text)))


def extractive_tldr(abstract: str, title: str = "", limit: int = TLDR_LIMIT) -> str:
    """The contribution sentence standing alone, plus the headline result when both fit."""
    source = latex_to_unicode(abstract)
    sentences = split_sentences(source)
    if not sentences:
        return ""
    name = coined_name(latex_to_unicode(title))
    candidates = [
        _Candidate(i, text, _score(i, s, text, name, len(sentences)))
        for i, s in enumerate(sentences)
        if (text := compressed(stand_alone(s)))
    ]
    if not candidates:  # nothing left of any sentence once stripped (an abstract of "()")
        return ""
    best = max(candidates, key=lambda c: c.score)
    main = fitted(best.text, limit) or shorten(best.text, limit)
    result = _result(sentences, best.index)
    if result is None:
        return main
    result = _ended(result)
    cut = fitted(best.text, limit - len(result) - 1)
    for head in (main, cut if cut and len(cut) >= MIN_HEAD else None):
        if head and len(head) + 1 + len(result) <= limit:
            return f"{head} {result}"
    return main
