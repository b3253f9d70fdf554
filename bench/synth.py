"""Deterministic synthetic libraries that look like real ones, and a mixed query set.

Titles, abstracts, authors and acronym definitions are recombined from the sample library's
real text: sentences are drawn from real abstracts, content words are swapped for others drawn
with Zipf-like frequencies, acronyms keep their "Long Form (ACR)" definitions, upvotes follow a
long tail, and arXiv ids spread over 2019-2026 like a team that keeps every listing would see.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from dataclasses import dataclass

from bot.library import load_sample_papers
from bot.models import Paper
from bot.search.aliases import find_definitions
from bot.summarize import split_sentences

WORD = re.compile(r"[A-Za-z][a-z]{3,}")


@dataclass
class Corpus:
    sentences: list[str]
    titles: list[str]
    words: list[str]
    weights: list[float]  # cumulative Zipf weights
    first_names: list[str]
    last_names: list[str]
    definitions: list[tuple[str, str]]


def corpus() -> Corpus:
    papers = load_sample_papers()
    sentences = [s for p in papers for s in split_sentences(p.abstract) if 40 < len(s) < 400]
    counts = Counter(w.lower() for p in papers for w in WORD.findall(f"{p.title} {p.abstract}"))
    ranked = [w for w, _ in counts.most_common()]
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(ranked))))  # Zipf
    names = [a.split() for p in papers for a in p.authors if len(a.split()) >= 2]
    definitions = sorted({d for p in papers for d in find_definitions(p.abstract)})
    return Corpus(
        sentences,
        [p.title for p in papers],
        ranked,
        weights,
        sorted({n[0] for n in names}),
        sorted({n[-1] for n in names}),
        definitions,
    )


def _mutate(text: str, rng: random.Random, c: Corpus, rate: float) -> str:
    def swap(match: re.Match[str]) -> str:
        if rng.random() >= rate:
            return match.group(0)
        word = rng.choices(c.words, cum_weights=c.weights)[0]
        return word.capitalize() if match.group(0)[0].isupper() else word

    return WORD.sub(swap, text)


def make_papers(count: int, seed: int = 7) -> list[Paper]:
    rng = random.Random(seed)
    c = corpus()
    months = [f"{y % 100:02d}{m:02d}" for y in range(2019, 2027) for m in range(1, 13)][:92]
    per_month: Counter[str] = Counter()
    papers = []
    for _n in range(count):
        month = rng.choice(months)
        per_month[month] += 1
        paper_id = f"{month}.{per_month[month]:05d}"
        year, mon = 2000 + int(month[:2]), int(month[2:])
        day = rng.randint(1, 28)
        title = _mutate(rng.choice(c.titles), rng, c, 0.35)
        sentences = rng.sample(c.sentences, rng.randint(5, 9))
        if rng.random() < 0.3:
            acronym, long_form = rng.choice(c.definitions)
            sentences.insert(
                1, f"We build on the {long_form} ({acronym}) and extend {acronym} further."
            )
        abstract = _mutate(" ".join(sentences), rng, c, 0.15)
        authors = [
            f"{rng.choice(c.first_names)} {rng.choice(c.last_names)}"
            for _ in range(rng.randint(1, 8))
        ]
        listed = f"{year}-{mon:02d}-{min(28, day + 2):02d}" if rng.random() < 0.4 else None
        papers.append(
            Paper(
                id=paper_id,
                title=title,
                abstract=abstract,
                authors=authors,
                published=f"{year}-{mon:02d}-{day:02d}",
                listed=listed,
                upvotes=int(rng.paretovariate(1.2)) - 1,
                source="bench",
                ai_keywords=[_mutate(t, rng, c, 0.5)[:40] for t in rng.sample(c.titles, 3)]
                if rng.random() < 0.3
                else [],
            )
        )
    return papers


def make_day(count: int, seed: int, existing: int) -> list[Paper]:
    """One more Daily Papers day: `count` new papers listed on one day, ids in one month."""
    fresh = make_papers(count, seed=seed)
    return [
        Paper(
            **{
                **p.to_record(),
                "id": f"2609.{existing + n:05d}",
                "listed": "2026-09-15",
                "published": "2026-09-14",
            }
        )
        for n, p in enumerate(fresh)
    ]


def make_queries(papers: list[Paper], count: int = 200, seed: int = 11) -> list[str]:
    """Mixed queries: acronyms, 2-4 words, phrases, typos, ids, filters."""
    rng = random.Random(seed)
    c = corpus()
    acronyms = sorted({a.lower() for a, _ in c.definitions if len(a) <= 5})
    queries: list[str] = []
    kinds = ["acronym", "words", "words", "phrase", "typo", "id", "author", "since"]
    while len(queries) < count:
        kind = kinds[len(queries) % len(kinds)]
        paper = rng.choice(papers)
        title_words = [w for w in WORD.findall(paper.title)]
        if kind == "acronym":
            queries.append(rng.choice(acronyms))
        elif kind == "words" and len(title_words) >= 2:
            k = rng.randint(2, min(4, len(title_words)))
            start = rng.randint(0, len(title_words) - k)
            queries.append(" ".join(title_words[start : start + k]).lower())
        elif kind == "phrase" and len(title_words) >= 2:
            queries.append(f'"{title_words[0]} {title_words[1]}"'.lower())
        elif kind == "typo" and title_words:
            word = max(title_words, key=len).lower()
            cut = rng.randint(1, len(word) - 2)
            queries.append(word[:cut] + word[cut + 1 :])
        elif kind == "id":
            queries.append(
                paper.id if rng.random() < 0.5 else f"https://arxiv.org/abs/{paper.id}v2"
            )
        elif kind == "author" and paper.authors:
            word = rng.choice(title_words or ["model"]).lower()
            queries.append(f"author:{paper.authors[0].split()[-1].lower()} {word}")
        elif kind == "since":
            word = rng.choice(title_words or ["model"]).lower()
            queries.append(f"since:2025-{rng.randint(1, 12):02d} {word}")
    return queries
