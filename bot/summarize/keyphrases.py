"""Key phrases for a card: noun phrases of the title and abstract, the paper's own names first.

Candidates are noun phrases found by a part-of-speech tagger (TextBlob's Pattern tagger: a
lexicon and contextual rules shipped inside the package, so no model is downloaded at run time),
cut to at most four words, without determiners and empty modifiers ("novel", "existing"). They
are scored by how often the abstract uses their words (RAKE's degree over frequency), with
bonuses for the title, for a name the paper coins (`DPM-Solver`) or defines ("Kolmogorov-Arnold
Networks (KANs)": the long form stands for both), and demoted when the library's papers use
their words everywhere (`word_share`). bench/summary_quality.py measures them against Hugging
Face's `ai_keywords`.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
import threading
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.search.aliases import find_definitions
from bot.search.analyzer import STOPWORDS, analyze
from bot.summarize.tldr import coined_name

MAX_WORDS = 3
GENERIC_SHARE = 0.12  # a word in more than this share of the library's papers says little

# Modifiers that carry no topic of their own: "a novel method" is about "method".
_EMPTY_MODIFIERS = frozenset(
    """
    novel new existing current recent various different several many multiple other such
    further previous prior proposed extensive comprehensive significant simple effective
    efficient key important main first second third single same certain specific general
    overall standard typical common traditional conventional remarkable impressive promising
    strong substantial better best state-of-the-art unified broad wide whole entire full high
    low true own few final sufficient complete explicit practical modern diverse distinct fresh
    strongest moderate possible potential real-world open-source extensive additional original
    """.split()
)
# Nouns too general to be a key phrase alone, whatever the library says.
_GENERIC_HEADS = frozenset(
    """
    approach approaches method methods model models framework frameworks paper work study
    result results task tasks performance problem problems way ways use data improvement
    improvements experiment experiments analysis scale improve variant variants baseline
    baselines setting settings technique techniques system systems evaluation evaluations
    benchmark benchmarks dataset datasets application applications step steps issue issues
    challenge challenges number amount level levels range type types effect effects role
    need needs case cases fact part parts set sets term terms order addition respect
    intelligence behavior behaviour training accuracy quality capability capabilities
    """.split()
)
# Third-person verbs the tagger reads as plural nouns after an adverb ("therefore yields").
_VERBS = frozenset(
    """
    yields works outperforms outperform shows show asks achieves enables improves remains
    documented mines report map support move bind exhibit addresses face compresses degrades
    suffices retrieves filters mixes use using exhibits maps binds moves supports faces
    allows leads provides requires uses makes reduces increases offers produces captures
    suggests indicates demonstrates reveals performs surpasses learns generalizes scales
    relies depends consists fails holds exhibits matches exceeds supports
    """.split()
)
_LEADING_WORDS = re.compile(
    r"^(?:(?:beyond|towards?|rethinking|revisiting|on|a|an|the|via|for|with|using|of|and|in)\s+)+",
    re.I,
)
_STRAY = re.compile(r"[`~\"“”‘’'^$\\{}\[\]]")
_NOUN_TAGS = ("NN", "NNS", "NNP", "NNPS")
_MODIFIER_TAGS = _NOUN_TAGS + ("JJ", "JJR", "JJS", "VBN", "VBG", "CD")

WordShare = Callable[[str], float]  # an analysed word -> the share of papers that have it


_tagger_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _tagger() -> Callable[[str], list[tuple[str, str]]]:
    """TextBlob's Pattern tagger (`textblob.en.tag`), without the rest of TextBlob.

    `import textblob` runs its `__init__`, which imports NLTK: 1.5 s and 106 MB that the
    tagger never uses (it needs only `textblob._text` and the lexicon files). So the two
    modules are loaded under a bare package for the moment of the import: 0.2 s, 18 MB
    (measured). A later real `import textblob` still runs its `__init__` as usual."""
    with _tagger_lock:
        if "textblob" in sys.modules:
            from textblob.en import tag
        else:
            spec = importlib.util.find_spec("textblob")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("textblob is not installed; run `make run` to install it")
            package = types.ModuleType("textblob")
            package.__path__ = list(spec.submodule_search_locations)
            sys.modules["textblob"] = package
            try:
                from textblob.en import tag
            finally:  # forget the bare package and what was loaded under it
                for name in [m for m in sys.modules if m.partition(".")[0] == "textblob"]:
                    del sys.modules[name]
    return lambda text: [(str(w), str(t)) for w, t in tag(text)]


def warm_up() -> None:
    """Load the tagger now (0.2 s), not in the first request that shows a card."""
    _tagger()


def _tagged(text: str) -> list[tuple[str, str]]:
    """(word, tag) pairs. Words are tagged in lower case unless they are names (Title Case
    makes the tagger read "Auditing Parametric Tool" as proper nouns); names with inner
    capitals or digits (`S-KAN`, `GPT-4o`) are proper nouns whatever the lexicon guesses."""
    words = re.findall(r"\S+", text)
    lowered = " ".join(w if _name_like(w) else w.lower() for w in words)
    pairs = []
    for word, tag in _tagger()(lowered):
        if _name_like(word):
            tag = "NNP"
        elif word in _VERBS:
            tag = "VBZ"
        pairs.append((word, tag))
    return pairs


def _name_like(word: str) -> bool:
    """`S-KAN`, `GPT-4o`, `MgNO`, `KV-cache`: a name; `Memory-Efficient`: Title Case."""
    parts = [p for p in re.split(r"[-/]", word.strip("()[],.;:")) if p]
    return any(
        (len(p) >= 2 and sum(c.isupper() for c in p) >= 2)
        or (any(c.isupper() for c in p[1:]) and any(c.islower() for c in p))
        or (any(c.isdigit() for c in p) and any(c.isupper() for c in p))
        for p in parts
    )


def noun_phrases(text: str) -> list[list[str]]:
    """Runs of modifiers ending in a noun, split at everything else."""
    phrases: list[list[str]] = []
    run: list[tuple[str, str]] = []
    for word, tag in _tagged(text) + [("", ".")]:
        if tag in _MODIFIER_TAGS and re.search(r"[^\W\d_]", word):
            run.append((word, tag))
            continue
        phrases.extend(_cut_run(run))
        run = []
    return phrases


def _cut_run(run: list[tuple[str, str]]) -> list[list[str]]:
    """A phrase ends on a noun, keeps its nouns and at most one modifier before them, and
    drops empty modifiers and gerunds at its start."""
    while run and run[-1][1] not in _NOUN_TAGS:
        run = run[:-1]
    plural_inside = [i for i, (_, tag) in enumerate(run[:-1]) if tag == "NNS"]
    if plural_inside:  # "aligns feature distributions": a plural noun modifies nothing
        cut = plural_inside[-1] + 1
        return _cut_run(run[:cut]) + _cut_run(run[cut:])
    nouns = len(run)
    while nouns and run[nouns - 1][1] in _NOUN_TAGS:
        nouns -= 1
    run = run[max(0, nouns - 1) :][-MAX_WORDS:]
    while run and (run[0][0].lower() in _EMPTY_MODIFIERS or run[0][1] in ("VBG", "VBN", "CD")):
        run = run[1:]
    return [[word for word, _ in run]] if run else []


def _clean(word: str) -> str:
    return _STRAY.sub("", word).strip("-.,;:")


@dataclass
class _Candidates:
    scores: dict[str, float] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # folded phrase -> as written

    def add(self, words: list[str], score: float) -> None:
        phrase = " ".join(w for w in (_clean(w) for w in words) if w)
        phrase = _LEADING_WORDS.sub("", phrase)
        if not phrase or not re.search(r"[^\W\d_]", phrase):
            return
        key = phrase.lower()
        self.scores[key] = max(self.scores.get(key, 0.0), score)
        self.shown.setdefault(key, phrase)


def _stems(phrase: str) -> list[str]:
    return [w.whole for w in analyze(phrase)]


def extract_keywords(
    text: str, title: str = "", limit: int = 5, word_share: WordShare | None = None
) -> list[str]:
    """Up to `limit` key phrases, best first, no two alike."""
    title_phrases = noun_phrases(title)
    body_phrases = noun_phrases(text)
    definitions = {
        _LEADING_WORDS.sub("", long).lower(): short
        for short, long in find_definitions(f"{title}. {text}")
    }
    frequency: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for run in title_phrases + body_phrases:
        for word in run:
            frequency[word.lower()] += 1
            degree[word.lower()] += len(run)
    title_words = {w.lower() for w in re.findall(r"[\w-]+", title)}
    occurrences = Counter(" ".join(run).lower() for run in title_phrases + body_phrases)
    title_keys = {" ".join(run).lower() for run in title_phrases}
    name = coined_name(title)
    candidates = _Candidates()
    for run in title_phrases + body_phrases:
        key = " ".join(run).lower()
        score = sum(degree[w.lower()] / frequency[w.lower()] for w in run)
        score += sum(1.5 for w in run if w.lower() in title_words)
        score += 2.0 * (occurrences[key] - 1)
        score += 6.0 if key in definitions else 0.0
        score += 3.0 if key in title_keys else 0.0  # the title's own noun phrase
        score -= _genericness(run, word_share)
        if len(run) == 1 and not _name_like(run[0]):
            score -= 1.5  # one common word rarely names what a paper is about
        candidates.add(run, score)
    if name:
        candidates.add([name], 8.0 + 2.0 * text.count(name))
    for long_form in definitions:  # what the paper defines is what it is about
        words = long_form.split()
        if len(words) <= 5:
            bonus = 7.0 + len(words) - _genericness(words, word_share)
            candidates.add(_as_written(long_form, text, title).split(), bonus)
    for long_form in definitions:  # the long form stands for its acronym (and its plural)
        acronym = definitions[long_form].lower()
        merged = [
            candidates.scores.pop(a) for a in (acronym, acronym + "s") if a in candidates.scores
        ]
        if merged:
            best = max(*merged, candidates.scores.get(long_form, 0.0))
            candidates.shown.setdefault(long_form, _as_written(long_form, text, title))
            candidates.scores[long_form] = best + 2.0
    return _chosen(candidates, limit, text)


def _as_written(folded: str, *texts: str) -> str:
    for text in texts:
        found = re.search(re.escape(folded), text, re.IGNORECASE)
        if found:
            return found.group(0)
    return folded


def _genericness(run: list[str], word_share: WordShare | None) -> float:
    """How much to take off a phrase for being said of every paper: everything when its words
    are all empty ones, a lot when the library uses all of them everywhere."""
    words = [w.lower() for w in run]
    if all(w in _GENERIC_HEADS or w in _EMPTY_MODIFIERS or w in STOPWORDS for w in words):
        return 100.0  # "performance", "current methods": never a key phrase
    if word_share is None:
        return 0.0
    stems = _stems(" ".join(run))
    common = sum(1 for s in stems if word_share(s) > GENERIC_SHARE)
    if stems and common == len(stems):
        return 12.0  # "large language models" in a library of language-model papers
    return 3.0 * common / max(len(stems), 1)


def _chosen(candidates: _Candidates, limit: int, text: str) -> list[str]:
    chosen: list[str] = []
    taken: list[set[str]] = []
    for key in sorted(candidates.scores, key=lambda k: -candidates.scores[k]):
        if candidates.scores[key] <= 0:
            break
        stems = set(_stems(key))
        if not stems or any(_near(stems, other) for other in taken):
            continue
        chosen.append(
            _as_written(key, text)
            if key in text.lower()
            else _readable(candidates.shown[key], text)
        )
        taken.append(stems)
        if len(chosen) == limit:
            break
    return chosen


def _near(stems: set[str], other: set[str]) -> bool:
    """Near duplicates: one inside the other, or most words shared."""
    shared = len(stems & other)
    return shared == len(stems) or shared == len(other) or shared * 2 >= len(stems | other)


def _readable(phrase: str, text: str) -> str:
    """A word capitalised only because it opened a sentence or a title is written small
    when the abstract writes it small elsewhere."""
    first, _, rest = phrase.partition(" ")
    if first[:1].isupper() and first[1:].islower() and re.search(rf"\b{first.lower()}\b", text):
        first = first.lower()
    return f"{first} {rest}".strip()
