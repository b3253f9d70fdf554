"""Which queries search by meaning too, and how its scores and the words' scores combine.

Measured on the judged and paraphrase query sets (bench/search_quality.py): the weighted fusion
of issue #16, with each word score counted in proportion to the share of the query the paper
matched (a paper sharing two words of a ten-word description is weak evidence), keeps every
keyword query within 0.06 of lexical search and lifts the paraphrases from 0.675 to 0.921
nDCG@10. One-word queries (acronyms: `kan` must not find Kanban), arXiv ids, filters and quoted
phrases stay lexical; two-word queries lean on their words (meaning weighs 0.3, else 0.5).
"""

from __future__ import annotations

from bot.search.query import ParsedQuery

DEPTH = 100  # candidates from each side; the meaning side's scores are scaled over its top 100
TWO_WORD_WEIGHT = 0.3
WEIGHT = 0.5
LABEL = "close in meaning"  # what a card says a paper found by meaning alone matched


def meaning_weight(parsed: ParsedQuery) -> float | None:
    """How much meaning counts for this query, or None to keep it lexical."""
    if parsed.paper_id or parsed.has_filters or parsed.phrases or parsed.problem:
        return None
    words = len(parsed.text.split())
    if words < 2:
        return None
    return TWO_WORD_WEIGHT if words == 2 else WEIGHT


def fuse(
    lexical: list[tuple[int, float, float]], dense: list[tuple[int, float]], weight: float
) -> dict[int, float]:
    """Each candidate's fused score. `lexical`: (key, score, share of the query matched);
    `dense`: (key, cosine). Word scores are divided by the best one; cosines are min-max
    scaled over the dense candidates, so both sides run from 0 to 1."""
    best = max((score for _, score, _ in lexical), default=0.0) or 1.0
    words = {num: score / best * share for num, score, share in lexical}
    low = min((cosine for _, cosine in dense), default=0.0)
    spread = max((cosine for _, cosine in dense), default=0.0) - low or 1.0
    meaning = {num: (cosine - low) / spread for num, cosine in dense}
    return {
        num: (1 - weight) * words.get(num, 0.0) + weight * meaning.get(num, 0.0)
        for num in words.keys() | meaning.keys()
    }
