"""TL;DR quality: ROUGE-L F1 of our extractive TL;DR against Hugging Face's `ai_summary`.

The 30 rows of the sotawhat fixture carry an `ai_summary` (one abstractive sentence). Beside
ours runs sumy's LexRank on the same abstracts, with the same 280-character budget and the same
sentence splitter (sumy's default tokenizer needs an NLTK download that fails offline).
`python -m bench.summary_quality` prints both; tests/test_summary.py requires ours to be higher.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from statistics import mean

from rouge_score import rouge_scorer

from bot.summarize import TLDR_LIMIT, extractive_tldr, shorten, split_sentences

FIXTURE = "hf_fixtures/lucas-m-lopes__sotawhat__tests__fixtures__hf_daily_papers.json"


class _Tokenizer:
    language = "english"

    def to_sentences(self, text: str) -> list[str]:
        return split_sentences(text)

    def to_words(self, sentence: str) -> list[str]:
        return re.findall(r"[^\W_]+", sentence)


def lexrank_tldr(abstract: str, sentences: int = 2) -> str:
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer

    parser = PlaintextParser.from_string(abstract, _Tokenizer())
    summarizer = LexRankSummarizer(Stemmer("english"))
    picked = [str(s) for s in summarizer(parser.document, sentences)]
    summary = ""
    for sentence in picked:  # the same budget as ours: add sentences while they fit
        candidate = f"{summary} {sentence}".strip()
        if summary and len(candidate) > TLDR_LIMIT:
            break
        summary = candidate
    return shorten(summary, TLDR_LIMIT)


def evaluate(data: Path) -> dict[str, float]:
    rows = json.loads((data / FIXTURE).read_text("utf-8"))
    pairs = [(r["paper"]["summary"], r["paper"]["ai_summary"]) for r in rows]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    scores = {
        "extractive": mean(
            scorer.score(ref, extractive_tldr(abstract))["rougeL"].fmeasure
            for abstract, ref in pairs
        ),
        "lexrank": mean(
            scorer.score(ref, lexrank_tldr(abstract))["rougeL"].fmeasure for abstract, ref in pairs
        ),
    }
    scores["papers"] = len(pairs)
    return scores


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    result = evaluate(root / "tests" / "data")
    print(f"ROUGE-L F1 vs ai_summary over {result['papers']} papers:")
    print(f"  papers-bot extractive TL;DR  {result['extractive']:.3f}")
    print(f"  sumy LexRank (same budget)   {result['lexrank']:.3f}")
