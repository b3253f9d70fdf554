"""TL;DR and key-phrase quality, against references and without them.

With references: the 30 papers of the sotawhat fixture carry Hugging Face's `ai_summary` (one
abstractive sentence) and `ai_keywords`; they are removed before ours run, and used as the
references. TL;DRs: ROUGE-1/2/L F1 of ours beside sumy's LexRank and TextRank (same sentence
splitter and the same 280-character budget), the first sentence (lead-1) and the title. Key
phrases: F1@5 under three matchings (exact after stemming, one phrase inside the other,
a shared content stem) beside YAKE and a part-of-speech-filtered TextRank (Mihalcea & Tarau
2004: nouns and adjectives, a co-occurrence window of 2, PageRank, adjacent words joined).

Without references, over the whole sample library (111 papers, Hugging Face's fields ignored):
TL;DRs that lean on a sentence the reader cannot see, that state no contribution, or that are
cut with an ellipsis; key phrases that are not noun phrases, that are generic, or that carry
stray punctuation. The same checks run on Hugging Face's own keywords, to show what they flag
there. `python -m bench.summary_quality`; tests/test_summary.py holds the targets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

import Stemmer
from rouge_score import rouge_scorer

from bot.library import load_sample_papers
from bot.models import Paper
from bot.search.analyzer import STOPWORDS, analyze
from bot.summarize import (
    TLDR_LIMIT,
    extract_keywords,
    extractive_tldr,
    latex_to_unicode,
    shorten,
    split_sentences,
)
from bot.summarize.tldr import coined_name

FIXTURE = "hf_fixtures/lucas-m-lopes__sotawhat__tests__fixtures__hf_daily_papers.json"
ROOT = Path(__file__).resolve().parent.parent
TOP = 5
_stemmer = Stemmer.Stemmer("english")

# -- TL;DR peers ---------------------------------------------------------------------------


class _Tokenizer:
    language = "english"

    def to_sentences(self, text: str) -> list[str]:
        return split_sentences(text)

    def to_words(self, sentence: str) -> list[str]:
        return re.findall(r"[^\W_]+", sentence)


def _sumy(abstract: str, summarizer_name: str) -> str:
    from sumy.nlp.stemmers import Stemmer as SumyStemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer

    kinds = {"lexrank": LexRankSummarizer, "textrank": TextRankSummarizer}
    parser = PlaintextParser.from_string(abstract, _Tokenizer())
    summarizer = kinds[summarizer_name](SumyStemmer("english"))
    summary = ""
    for sentence in (str(s) for s in summarizer(parser.document, 2)):
        candidate = f"{summary} {sentence}".strip()  # add sentences while they fit, as ours
        if summary and len(candidate) > TLDR_LIMIT:
            break
        summary = candidate
    return shorten(summary, TLDR_LIMIT)


def lexrank_tldr(abstract: str) -> str:
    return _sumy(abstract, "lexrank")


def textrank_tldr(abstract: str) -> str:
    return _sumy(abstract, "textrank")


def lead_tldr(abstract: str) -> str:
    sentences = split_sentences(abstract)
    return shorten(sentences[0], TLDR_LIMIT) if sentences else ""


# -- key-phrase peers ------------------------------------------------------------------------


def yake_keywords(text: str, title: str) -> list[str]:
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=3, top=TOP)
    return [phrase for phrase, _ in extractor.extract_keywords(f"{title}. {text}")]


def textrank_keywords(text: str, title: str) -> list[str]:
    """TextRank for key phrases with the same tagger as ours (nouns and adjectives)."""
    import networkx as nx
    from textblob.en.taggers import PatternTagger

    tagged = PatternTagger().tag(f"{title}. {text}")
    kept = [
        (w.lower(), tag[:2] in ("NN", "JJ") and w.lower() not in STOPWORDS) for w, tag in tagged
    ]
    graph = nx.Graph()
    words = [w for w, keep in kept if keep]
    for a, b in zip(words, words[1:], strict=False):
        graph.add_edge(a, b)
    if not graph:
        return []
    rank = nx.pagerank(graph)
    top = set(sorted(rank, key=lambda w: -rank[w])[: max(TOP, len(rank) // 3)])
    phrases: dict[str, float] = {}
    run: list[str] = []
    for word, keep in [*kept, ("", False)]:
        if keep and word in top:
            run.append(word)
            continue
        if run:
            phrase = " ".join(run)
            phrases[phrase] = max(phrases.get(phrase, 0.0), sum(rank[w] for w in run))
        run = []
    return sorted(phrases, key=lambda p: -phrases[p])[:TOP]


# -- matching key phrases ------------------------------------------------------------------


def _stems(phrase: str) -> tuple[str, ...]:
    return tuple(_stemmer.stemWord(w) for w in re.findall(r"[a-z0-9]+", phrase.lower()))


def exact(a: str, b: str) -> bool:
    return _stems(a) == _stems(b)


def overlap(a: str, b: str) -> bool:
    """One phrase inside the other, word for word (`KV-cache` in `KV-cache communication`)."""
    x, y = _stems(a), _stems(b)
    short, long = sorted((x, y), key=len)
    return bool(short) and any(
        long[i : i + len(short)] == short for i in range(len(long) - len(short) + 1)
    )


def shared_stem(a: str, b: str) -> bool:
    content = {s for s in _stems(a) if s not in STOPWORDS}
    return bool(content & {s for s in _stems(b) if s not in STOPWORDS})


def f1_at_k(found: list[str], references: list[str], match: Callable[[str, str], bool]) -> float:
    found = found[:TOP]
    if not found or not references:
        return 0.0
    precision = sum(any(match(f, r) for r in references) for f in found) / len(found)
    recall = sum(any(match(f, r) for f in found) for r in references) / len(references)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


# -- checks that need no reference -----------------------------------------------------------

# Written apart from bot/summarize/tldr.py's own patterns, so a TL;DR is not judged by the rule
# that made it.
_LEANS_BACK = re.compile(
    r"^(?:to (?:address|tackle|solve|overcome|mitigate|bridge|fill|this end|meet)|motivated by|"
    r"guided by|based on|building on|inspired by|in light of|given (?:this|these)|firstly|"
    r"secondly|thirdly|finally|moreover|furthermore|however|here|in addition|additionally|thus|"
    r"therefore|hence|then|also|as such|in response|accordingly|consequently|subsequently|"
    r"next|later|similarly|likewise|instead|meanwhile|nevertheless|yet|still|besides)\b|"
    r"\b(?:address|tackle|solve|overcome) (?:both|them|it|this|these)\b|\bboth\.",
    re.IGNORECASE,
)
# "this design", "these quantities", "both tasks": a reader asks "which?" unless the TL;DR
# itself named the thing before ("a task ... for this task").
_DEMONSTRATIVE = re.compile(
    r"\b(?:this|these|those|such(?! as)|both(?!\s+\S+(?:\s+\S+){0,2}\s+and\b)) ([a-z][a-z-]+)",
    re.I,
)
_NOT_A_THING = frozenset(
    "paper work study article survey report is was are be as way end case kind type".split()
)
_STATES_CONTRIBUTION = re.compile(
    r"\b(?:we|our|this (?:paper|work|study|article|survey)|i)\b|\b(?:is|are) "
    r"(?:proposed|introduced|presented)\b",
    re.IGNORECASE,
)
_STATES_EFFECT = re.compile(
    r"\b(?:outperform|surpass|improv|reduc|achiev|beat|exceed|faster|better|gain|cuts?\b)", re.I
)
_STRAY = re.compile(r"[`~\"“”$\\{}\[\]^]|^[^\w(]|[^\w)+]$")
_GENERIC_WORDS = frozenset(
    """
    approach method model framework paper work study result task performance problem data
    improvement experiment analysis scale improve variant baseline setting technique system
    evaluation benchmark dataset application current existing novel new various different
    artificial intelligence large small high low good better best simple effective efficient
    """.split()
)


def refers_back(summary: str) -> bool:
    """A reader of the TL;DR alone would ask "which?" or "what before?": a leading connective,
    a demonstrative whose noun the TL;DR has not named before it, or "them"/"it" before any
    thing was named (in its first eight words)."""
    if _LEANS_BACK.search(summary):
        return True
    for match in _DEMONSTRATIVE.finditer(summary):
        noun = match.group(1).lower()
        if noun in _NOT_A_THING:
            continue
        before = summary[: match.start()].lower()
        if noun.rstrip("s") not in before:
            return True
    opening = " ".join(summary.split()[:8]).lower()
    return bool(re.search(r"\b(?:them|it|they)\b", opening))


def states_contribution(summary: str, title: str) -> bool:
    """The authors or the paper doing something, the paper's name, or an effect stated
    (outperforms, improves, reduces ...): anything but background."""
    name = coined_name(title)
    return (
        bool(_STATES_CONTRIBUTION.search(summary))
        or bool(name and name in summary)
        or bool(_STATES_EFFECT.search(summary))
    )


def is_cut(summary: str) -> bool:
    return summary.endswith(("…", "..."))


def not_noun_phrase(phrase: str) -> bool:
    """Tagged on its own: a finite verb, adverb or pronoun inside, or an end that is no noun.
    Names and hyphenated compounds (`DPM-Solver`, `in-distribution`) count as nouns: the
    tagger's lexicon does not know them."""
    from textblob.en.taggers import PatternTagger

    tags = [
        "NN" if "-" in word or any(c.isupper() for c in word[1:]) or word.isupper() else tag
        for word, tag in PatternTagger().tag(phrase)
    ]
    if not tags:
        return True
    if any(tag in ("VBZ", "MD", "RB", "PRP", "WDT", "WP", "EX") for tag in tags):
        return True
    return tags[0] in ("DT", "IN", "CC", "TO") or tags[-1] in ("DT", "IN", "CC", "TO", "JJ", "VB")


def is_generic(phrase: str, share: Callable[[str], float]) -> bool:
    """Every word generic, or every word in more than a third of the library's papers."""
    words = [w.lower() for w in re.findall(r"[\w-]+", phrase)]
    content = [w for w in words if w not in STOPWORDS]
    if not content:
        return True
    if all(w in _GENERIC_WORDS or w.rstrip("s") in _GENERIC_WORDS for w in content):
        return True
    return all(share(term.whole) > 1 / 3 for term in analyze(" ".join(content)))


def has_stray_punctuation(phrase: str) -> bool:
    return bool(_STRAY.search(phrase)) or phrase.count("(") != phrase.count(")")


def library_share(papers: list[Paper]) -> Callable[[str], float]:
    """The share of the library's papers that use an analysed word: what the serving bot
    reads from its search index (`bot.summarize.use_word_share`)."""
    documents = [{w.whole for w in analyze(f"{p.title} {p.abstract}")} for p in papers]
    return lambda term: sum(term in d for d in documents) / max(len(documents), 1)


# -- the report ------------------------------------------------------------------------------


def _fixture_rows(data: Path) -> list[dict[str, Any]]:
    rows = json.loads((data / FIXTURE).read_text("utf-8"))
    return [r["paper"] for r in rows]


def tldr_scores(data: Path) -> dict[str, dict[str, float]]:
    papers = _fixture_rows(data)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    systems: dict[str, Callable[[dict[str, Any]], str]] = {
        "papers-bot": lambda p: extractive_tldr(p["summary"], p["title"]),
        "LexRank": lambda p: lexrank_tldr(latex_to_unicode(p["summary"])),
        "TextRank": lambda p: textrank_tldr(latex_to_unicode(p["summary"])),
        "lead-1": lambda p: lead_tldr(latex_to_unicode(p["summary"])),
        "title": lambda p: latex_to_unicode(p["title"]),
    }
    out: dict[str, dict[str, float]] = {}
    for name, system in systems.items():
        scores = [scorer.score(p["ai_summary"], system(p)) for p in papers]
        out[name] = {k: mean(s[k].fmeasure for s in scores) for k in ("rouge1", "rouge2", "rougeL")}
    return out


def keyword_scores(data: Path) -> dict[str, dict[str, float]]:
    papers = _fixture_rows(data)
    share = library_share(load_sample_papers())  # the library these papers are part of
    systems: dict[str, Callable[[str, str], list[str]]] = {
        "papers-bot": lambda text, title: extract_keywords(text, title, TOP, share),
        "YAKE": yake_keywords,
        "TextRank (POS)": textrank_keywords,
    }
    matchings = {"exact": exact, "overlap": overlap, "shared stem": shared_stem}
    out: dict[str, dict[str, float]] = {}
    for name, system in systems.items():
        found = [
            system(latex_to_unicode(p["summary"]), latex_to_unicode(p["title"])) for p in papers
        ]
        out[name] = {
            m: mean(f1_at_k(f, p["ai_keywords"], match) for f, p in zip(found, papers, strict=True))
            for m, match in matchings.items()
        }
    return out


def reference_free(data: Path) -> dict[str, Any]:
    """Counts over the sample library (ours) and over the fixture's Hugging Face keywords."""
    papers = load_sample_papers()
    share = library_share(papers)
    summaries = [(p, extractive_tldr(p.abstract, p.title)) for p in papers if p.abstract]
    ours = [
        extract_keywords(latex_to_unicode(p.abstract), latex_to_unicode(p.title), TOP, share)
        for p in papers
    ]
    theirs = [p["ai_keywords"] for p in _fixture_rows(data)]

    def phrase_counts(lists: list[list[str]]) -> dict[str, int]:
        phrases = [k for words in lists for k in words]
        return {
            "phrases": len(phrases),
            "not noun phrases": sum(not_noun_phrase(k) for k in phrases),
            "generic": sum(is_generic(k, share) for k in phrases),
            "stray punctuation": sum(has_stray_punctuation(k) for k in phrases),
        }

    return {
        "tldrs": len(summaries),
        "refer back": sum(refers_back(s) for _, s in summaries),
        "no contribution": sum(not states_contribution(s, p.title) for p, s in summaries),
        "cut": sum(is_cut(s) for _, s in summaries),
        "ours": phrase_counts(ours),
        "hugging face": phrase_counts(theirs),
    }


def evaluate(data: Path) -> dict[str, Any]:
    return {
        "tldr": tldr_scores(data),
        "keywords": keyword_scores(data),
        "checks": reference_free(data),
        "papers": len(_fixture_rows(data)),
    }


def main() -> dict[str, Any]:
    result = evaluate(ROOT / "tests" / "data")
    show(result)
    return result


def show(result: dict[str, Any]) -> None:
    print(f"TL;DR vs Hugging Face's ai_summary, {result['papers']} papers (ROUGE F1):")
    print(f"  {'':16} {'R-1':>6} {'R-2':>6} {'R-L':>6}")
    for name, s in result["tldr"].items():
        print(f"  {name:16} {s['rouge1']:6.3f} {s['rouge2']:6.3f} {s['rougeL']:6.3f}")
    print(f"Key phrases vs ai_keywords, F1@{TOP}:")
    print(f"  {'':16} {'exact':>7} {'overlap':>8} {'shared':>7}")
    for name, s in result["keywords"].items():
        print(f"  {name:16} {s['exact']:7.3f} {s['overlap']:8.3f} {s['shared stem']:7.3f}")
    checks = result["checks"]
    print(f"Without references, {checks['tldrs']} sample-library TL;DRs:")
    for key in ("refer back", "no contribution", "cut"):
        print(f"  {key:18} {checks[key]}")
    for who in ("ours", "hugging face"):
        counts = checks[who]
        print(f"Key phrases ({who}): {counts['phrases']}")
        for key in ("not noun phrases", "generic", "stray punctuation"):
            print(f"  {key:18} {counts[key]} ({counts[key] / max(counts['phrases'], 1):.1%})")


if __name__ == "__main__":
    main()
