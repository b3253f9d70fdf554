"""Answers quoted from a paper itself: its sentences ranked for a question.

Every passage of the paper (`bot.sources.arxiv_html`) is cut into sentences, ranked for the
question with BM25 (a sentence's own score and its paragraph's, each relative to the paper's
best, plus the share of the question they cover) over the search's own analysis of words
(stems, parts of hyphenated words, acronyms); with the embedding model installed, the best
`CANDIDATES` are reordered by their meaning's closeness to the question too. The best 1-3 are
shown verbatim, labelled with where each stands (`§3.2 ¶4`) and linked to that section of
arXiv's HTML page.

When nothing matches enough of the question, the answer abstains ("I could not find that in the
paper") with the three closest sections. What counts as enough is `ANSWER_FLOOR`: the share of
the question's weight (its words' IDF in the paper; a word the paper never uses weighs as much
as its rarest) that the best sentence and its paragraph cover. It was measured on the judged
questions of `bench/ask_quality.py`, never guessed (README, "Asking a paper").

The optional LLM's answer, written from these quotes alone, is `bot.summarize.quoted_answer`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.models import Paper
from bot.search.analyzer import analyze
from bot.sources.arxiv_html import FullText, Passage
from bot.text import split_sentences

Embed = Callable[[list[str]], Sequence[Sequence[float]]]  # texts -> unit vectors

ANSWER_FLOOR = 0.35  # measured: bench/ask_quality.py sweeps it (README, "Asking a paper")
CANDIDATES = 30  # sentences reordered by meaning, when the embedding model is installed
MEANING_WEIGHT = 1.0  # a cosine (0-1) beside a rank of up to 2.5: bench/ask_quality.py
SECOND_QUOTE = 0.6  # a 2nd or 3rd quote must rank at least this share of the first
MOST_QUOTES = 3
PARAGRAPH_WEIGHT = 0.5  # the paragraph around a sentence is context, worth half the sentence
K1, B = 1.2, 0.75  # BM25's usual constants
HTML_PAGE = "https://arxiv.org/html"
# Words of a question that say nothing about what is asked of this paper.
QUESTION_WORDS = frozenset({"paper", "author", "they", "their", "use", "used", "using"})
_LEADS_BACK = re.compile(r"^(This|These|It|Its|They|Their|Such)\b")


@dataclass
class Sentence:
    text: str
    passage: Passage
    paragraph: int  # index of its passage
    before: str | None  # the sentence before it in the same passage


@dataclass
class Quote:
    text: str  # verbatim, whitespace folded; with the sentence before when it leads back
    label: str
    url: str
    score: float
    paper: Paper | None = None


@dataclass
class Answer:
    question: str
    quotes: list[Quote] = field(default_factory=list)
    closest: list[tuple[str, str]] = field(default_factory=list)  # (section, url) on abstaining
    coverage: float = 0.0  # the measure the floor is applied to
    from_abstract: bool = False
    problem: str | None = None  # why the full text could not be read now
    summary: list[str] = field(default_factory=list)  # the LLM's grounded sentences

    @property
    def abstained(self) -> bool:
        return not self.quotes


def terms_of(text: str) -> list[str]:
    """The search's terms of `text`: each word's stem and, when it splits, its parts."""
    terms = []
    for word in analyze(text):
        terms.append(word.whole)
        terms.extend(p for p in word.parts if len(p) > 1)
    return terms


def question_terms(question: str) -> list[str]:
    return list(dict.fromkeys(t for t in terms_of(question) if t not in QUESTION_WORDS))


def sentences_of(full: FullText) -> list[Sentence]:
    out = []
    for n, passage in enumerate(full.passages):
        before = None
        for text in split_sentences(passage.text):
            out.append(Sentence(text, passage, n, before))
            before = text
    return out


class BM25:
    """Okapi BM25 over a small collection (a paper's sentences, or its paragraphs)."""

    def __init__(self, documents: Sequence[list[str]]):
        self.docs = [Counter(d) for d in documents]
        self.lengths = [len(d) for d in documents]
        self.average = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        frequency: Counter[str] = Counter()
        for doc in self.docs:
            frequency.update(doc.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self.rarest = math.log(1 + (n + 0.5) / 0.5) if n else 1.0  # a word no document has

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.rarest)

    def score(self, n: int, query: Sequence[str]) -> float:
        doc, length = self.docs[n], self.lengths[n]
        norm = K1 * (1 - B + B * length / self.average) if self.average else K1
        total = 0.0
        for term in query:
            tf = doc.get(term, 0)
            if tf:
                total += self.idf[term] * tf * (K1 + 1) / (tf + norm)
        return total


def rank_sentences(
    full: FullText, question: str
) -> tuple[list[tuple[float, float, Sentence]], list[str], BM25]:
    """(rank, coverage, sentence) best first; the question's terms; the sentences' BM25."""
    query = question_terms(question)
    sentences = sentences_of(full)
    if not query or not sentences:
        return [], query, BM25([])
    sentence_terms = [terms_of(s.text) for s in sentences]
    headings = {s.anchor: s.label for s in full.sections}
    # A paragraph's context includes its section's title ("Limitations", "Basis functions"):
    # the words a question borrows from the heading are often not in the sentence itself.
    paragraph_terms = [terms_of(f"{headings.get(p.anchor, '')} {p.text}") for p in full.passages]
    by_sentence, by_paragraph = BM25(sentence_terms), BM25(paragraph_terms)
    raw = [by_sentence.score(n, query) for n in range(len(sentences))]
    para = [by_paragraph.score(n, query) for n in range(len(full.passages))]
    top_s, top_p = max(raw) or 1.0, max(para) or 1.0
    total = sum(by_sentence.weight(t) for t in query)
    ranked = []
    for n, sentence in enumerate(sentences):
        covered = set(sentence_terms[n]) | set(paragraph_terms[sentence.paragraph])
        coverage = sum(by_sentence.weight(t) for t in query if t in covered) / total
        # How much of the question the sentence and its context cover counts as much as how
        # strongly the sentence matches: a short sentence repeating one word loses to the one
        # answering all of it.
        rank = raw[n] / top_s + PARAGRAPH_WEIGHT * para[sentence.paragraph] / top_p + coverage
        ranked.append((rank, coverage, sentence))
    ranked.sort(key=lambda r: -r[0])
    return ranked, query, by_sentence


def section_url(paper_id: str, anchor: str) -> str:
    return f"{HTML_PAGE}/{paper_id}" + (f"#{anchor}" if anchor else "")


def quoted(sentence: Sentence) -> str:
    """The sentence as the paper writes it, with the one before when it leads back ("This
    shows …", "They …"): a quote must make sense alone."""
    if sentence.before and _LEADS_BACK.match(sentence.text):
        return f"{sentence.before} {sentence.text}"
    return sentence.text


def answer_from(
    full: FullText,
    question: str,
    paper: Paper | None = None,
    floor: float = ANSWER_FLOOR,
    embed: Embed | None = None,
) -> Answer:
    """The quotes that answer `question` from this paper's text, or the abstention. `embed`
    (the embedding model, when installed) reorders the best candidates by meaning too."""
    answer = Answer(question, from_abstract=full.source == "abstract")
    ranked, _, _ = rank_sentences(full, question)
    if not ranked:
        answer.closest = closest_sections(full, question)
        return answer
    answer.coverage = ranked[0][1]
    if answer.coverage < floor:
        answer.closest = closest_sections(full, question)
        return answer
    if embed is not None:
        ranked = by_meaning_too(ranked, question, embed)
    best_rank = ranked[0][0]
    seen: set[str] = set()
    for rank, _, sentence in ranked:
        if len(answer.quotes) == MOST_QUOTES or rank < SECOND_QUOTE * best_rank:
            break
        text = quoted(sentence)
        if text in seen or any(text in s or s in text for s in seen):
            continue
        seen.add(text)
        url = section_url(full.paper_id, sentence.passage.anchor)
        answer.quotes.append(Quote(text, sentence.passage.label, url, rank, paper))
    return answer


def by_meaning_too(
    ranked: list[tuple[float, float, Sentence]], question: str, embed: Embed
) -> list[tuple[float, float, Sentence]]:
    """The best `CANDIDATES` reordered with their cosine to the question added (weighted
    `MEANING_WEIGHT`); only these are embedded, so a 60-page paper costs a few tens of short
    texts, not its thousands of sentences."""
    candidates = ranked[:CANDIDATES]
    vectors = embed([question, *(s.text for _, _, s in candidates)])
    asked = vectors[0]
    scored = [
        (rank + MEANING_WEIGHT * sum(a * b for a, b in zip(asked, vector, strict=True)), cov, s)
        for (rank, cov, s), vector in zip(candidates, vectors[1:], strict=True)
    ]
    scored.sort(key=lambda r: -r[0])
    return scored + ranked[CANDIDATES:]


def closest_sections(full: FullText, question: str, count: int = 3) -> list[tuple[str, str]]:
    """The sections whose titles and text are nearest the question (for an abstention)."""
    query = question_terms(question)
    labels = [s for s in full.sections if s.passages]
    if not labels:
        return []
    texts = {
        s.anchor: " ".join([s.label] + [p.text for p in full.passages if p.anchor == s.anchor])
        for s in labels
    }
    index = BM25([terms_of(texts[s.anchor]) for s in labels])
    scored = sorted(range(len(labels)), key=lambda n: -index.score(n, query))
    return [(labels[n].label, section_url(full.paper_id, labels[n].anchor)) for n in scored[:count]]
