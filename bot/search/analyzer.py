"""Text -> index terms, the way researchers write and type.

- Unicode is folded (NFKC, case, accents), so `Kolmogorov`, `KOLMOGOROV` and `Kolmogórov` meet.
- Hyphenated words give their parts and their join: `multi-agent` -> multi, agent, multiagent;
  `classifier-free` -> classifier, free, classifierfree; `S-KAN` -> s, kan, skan.
- camelCase and glued acronyms are split: `ConvKAN` -> conv, kan, convkan; `DPMSolver` -> dpm,
  solver; and acronym plurals lose their `s`: `KANs` -> kan, `LLMs` -> llm.
- Every term is stemmed with Snowball English (`networks` -> network), never by substring, so
  `kan` can never match `kanban`, `kannada` or `vulkan`.

Analysis of a surface word is cached: real text is Zipf-distributed, so most words are seen
many times and the index build costs one regex scan plus dict look-ups.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import NamedTuple, cast

import Stemmer

from bot.text import fold

# No stemmer cache of its own (its default keeps 10,000 words and sorts them all whenever it
# fills): every word is stemmed once and kept in `_cache` or `_piece_stems` here.
_STEMMER = Stemmer.Stemmer("english", 0)

# A word: letters/digits, with inner hyphens or apostrophes (`multi-agent`, `Tweedie's`).
WORD_RE = re.compile(r"[^\W_]+(?:[-‐‑'’][^\W_]+)*")
_HYPHENS = re.compile(r"[-‐‑]")
_POSSESSIVE_RE = re.compile(r"['’]s$")
# Pieces of a camelCase or glued-acronym word: KANs | KAN | Conv | 4
_CAMEL_RE = re.compile(r"[A-Z]{2,}s(?![a-z])|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+")

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "may",
        "might",
        "more",
        "most",
        "no",
        "nor",
        "not",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "over",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "via",
        "also",
        "both",
        "each",
        "other",
        "only",
        "own",
        "same",
        "so",
        "just",
        "about",
        "against",
        "between",
        "during",
        "before",
        "after",
        "above",
        "below",
        "any",
        "all",
        "few",
        "here",
        "out",
        "off",
        "once",
        "further",
    ]
)

MAX_WORD = 60  # longer "words" are noise (hashes, URLs glued together); they are skipped


def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


class WordTerms(NamedTuple):
    """What one surface word contributes: its whole form and, when split, its parts. (A
    tuple: a million-paper build makes hundreds of thousands, a frozen dataclass 3x slower.)"""

    whole: str  # stemmed folded whole word ("convkan", "multiag")
    parts: tuple[str, ...]  # stemmed parts when the word splits ("conv", "kan"), else ()
    surface: str  # the folded surface word, for display and typo correction
    acronym: bool  # written as an acronym (all capitals, maybe plural `s`)
    pieces: tuple[str, ...] = ()  # folded surface pieces when the word splits
    sequence: tuple[str, ...] = ()  # the stemmed smallest pieces, in order (for long forms)

    def surfaces(self) -> tuple[str, ...]:
        """Every surface form this word shows: the whole and, when split, its pieces."""
        return (self.surface, *self.pieces)


_cache: dict[str, WordTerms | None] = {}


def _drop_plural(part: str) -> str:
    """`KANs`, `LLMs`, `ViTs` -> `KAN`, `LLM`, `ViT`: an `s` right after a capital is a plural."""
    if len(part) > 2 and part.endswith("s") and part[-2].isupper():
        return part[:-1]
    return part


_segment_cache: dict[str, tuple[str, ...]] = {}


def _segment_pieces(part: str) -> tuple[str, ...]:
    """A hyphen segment's folded pieces (cached: compounds are new words of common segments):
    `ConvKANs` -> (conv, kan). camelCase splits only into real pieces: `ViT` and `KArAt` stay
    whole (a one-letter piece is not a word)."""
    cached = _segment_cache.get(part)
    if cached is None:
        bare = _drop_plural(_POSSESSIVE_RE.sub("", part).replace("'", "").replace("’", ""))
        found = _CAMEL_RE.findall(bare) if bare else []
        split = len(found) > 1 and all(len(p) >= 2 or p.isdigit() for p in found)
        cached = tuple(f for f in (fold(p) for p in (found if split else [bare])) if f)
        if len(_segment_cache) < 200_000:
            _segment_cache[part] = cached
    return cached


def _is_acronym(word: str) -> bool:
    if word.islower():  # most compounds (`multi-agent`): no capital, no acronym
        return False
    letters = [c for c in _drop_plural(word) if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= len(letters) - 1


def analyze_word(word: str) -> WordTerms | None:
    """The terms of one surface word (cached); None for stopwords and noise."""
    cached = _cache.get(word)
    if cached is not None or word in _cache:
        return cached
    result = _analyze_word(word)
    if len(_cache) < 1_000_000:  # a build worker's words at a million papers: ~550,000
        _cache[word] = result
    return result


def _analyze_word(word: str) -> WordTerms | None:
    if len(word) > MAX_WORD:
        return None
    if word.isascii() and word.isalpha() and (word.islower() or word[1:].islower()):
        # Most words (`learning`, `Networks`): nothing to split, fold or spot; the general
        # path below gives the same terms, four times slower.
        lower = word.lower()
        if lower in STOPWORDS:
            return None
        whole = stem(lower)
        acronym = len(word) == 2 and word[0].isupper()  # `Ng`: one of two letters a capital
        return WordTerms(whole=whole, parts=(), surface=lower, acronym=acronym, sequence=(whole,))
    return analyze_any_word(word)


def analyze_any_word(word: str) -> WordTerms | None:
    """The general analysis of a word (hyphens, camelCase, acronyms, any script)."""
    segments = [seg for seg in map(_segment_pieces, _HYPHENS.split(word)) if seg]
    if not segments:
        return None
    joined = "".join("".join(seg) for seg in segments)
    if joined in STOPWORDS and len(segments) == 1 and len(segments[0]) == 1:
        return None
    # Parts: each hyphen segment whole (`convkan`) and, when it splits, its camel pieces.
    pieces: list[str] = []
    for seg in segments:
        if len(segments) > 1:
            pieces.append("".join(seg))
        if len(seg) > 1:
            pieces.extend(seg)
    whole = stem(joined)
    by_stem: dict[str, str] = {}
    for piece in pieces:
        if piece not in STOPWORDS:
            stemmed = _piece_stem(piece)
            if stemmed != whole:
                by_stem.setdefault(stemmed, piece)
    return WordTerms(
        whole=whole,
        parts=tuple(by_stem),
        surface=joined,
        acronym=_is_acronym(word),
        pieces=tuple(by_stem.values()),
        sequence=tuple(_piece_stem(p) for seg in segments for p in seg if p not in STOPWORDS),
    )


_piece_stems: dict[str, str] = {}


def _piece_stem(piece: str) -> str:
    """A piece's stem, cached: a compound is new, its pieces are common words (a build meets
    millions of new compounds at a million papers)."""
    stemmed = _piece_stems.get(piece)
    if stemmed is None:
        stemmed = stem(piece)
        if len(_piece_stems) < 200_000:
            _piece_stems[piece] = stemmed
    return stemmed


def analyze(text: str) -> list[WordTerms]:
    """Every non-stopword word of `text`, analysed."""
    out = []
    for word in WORD_RE.findall(text):
        terms = analyze_word(word)
        if terms is not None:
            out.append(terms)
    return out


# A piece -> (its index tokens, the piece itself as first seen). Handing back the cached piece,
# not the one just cut from the text, makes every paper's pieces the same few string objects:
# the build's per-paper sets and word counts then compare by identity and stay in the CPU's
# caches, where a million fresh strings each had to be read to be compared (a faster build
# worker: `python -m bench.scale`).
_token_cache: dict[str, tuple[str, str]] = {}
# ASCII text is cut into words by C string methods, not the regex: every character that cannot
# be in a word becomes a space, then `split`. A piece of it is a maximal run of letters, digits,
# hyphens and apostrophes, and the regex's words never cross a run's ends, so the words of a
# piece are exactly the regex's words there (`multi-agent` is one piece and one word, `-x'` one
# piece and the word `x`). Twice as fast as `findall`: the build's hottest loop.
# The cut runs on the text's ASCII bytes: `bytes.translate` takes a 256-byte table, where
# `str.translate` looks each character up in a dict (a third of the cut's time).
_WORD_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-'")
_TO_SPACES = bytes(code if code in _WORD_CHARS else 32 for code in range(256))


def _tokens_of(piece: str) -> str:
    """A piece's index tokens, space-separated: each word's whole term, then its parts."""
    return _entry_of(piece)[0]


def _entry_of(piece: str) -> tuple[str, str]:
    """A piece's `_token_cache` entry: (its index tokens, the piece as first seen)."""
    cached = _token_cache.get(piece)
    if cached is None:
        terms = (analyze_word(word) for word in WORD_RE.findall(piece))
        tokens = " ".join(" ".join((t.whole, *t.parts)) for t in terms if t is not None)
        cached = (tokens, piece)
        if len(_token_cache) < 500_000:
            _token_cache[piece] = cached
    return cached


_TOKENS = itemgetter(0)
_PIECE = itemgetter(1)


def pieces(text: str) -> list[str]:
    """`text` cut where no word can continue: ASCII text by C string methods, any other by
    the word regex (there a piece is a word)."""
    if text.isascii():
        return text.encode("ascii").translate(_TO_SPACES).decode("ascii").split()
    return WORD_RE.findall(text)


def words_of(piece: str) -> list[str]:
    """The words of a piece (almost always the piece itself)."""
    return WORD_RE.findall(piece)


def index_tokens(text: str) -> tuple[str, list[str]]:
    """(`text` as index tokens joined by spaces, its pieces as first seen: `_token_cache`).

    The index build's hot loop: a cut into pieces and one dict look-up per piece, in C (`map`
    of the cache's `get`); only pieces never seen before are analysed in Python.
    A word's parts follow its whole term, so a phrase's token offsets are known from the same
    analysis of the typed phrase (`phrase_offsets`).
    """
    found = pieces(text)
    cached = list(map(_token_cache.get, found))
    if None in cached:
        cached = [_entry_of(p) if e is None else e for p, e in zip(found, cached, strict=True)]
    entries = cast("list[tuple[str, str]]", cached)  # every piece has its entry now
    return " ".join(filter(None, map(_TOKENS, entries))), list(map(_PIECE, entries))


def phrase_offsets(phrase: str) -> list[tuple[int, str]]:
    """(token offset, term) of each word's whole term in `phrase`, as `index_tokens` lays
    them out (each word takes 1 + its parts positions)."""
    out: list[tuple[int, str]] = []
    offset = 0
    for word in analyze(phrase):
        out.append((offset, word.whole))
        offset += 1 + len(word.parts)
    return out
