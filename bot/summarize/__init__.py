"""What a card says about a paper: its TL;DR, its key phrases, its text made readable.

The TL;DR is Hugging Face's `ai_summary` when a paper has one, else the extractive one
(`tldr`); key phrases are Hugging Face's `ai_keywords`, else ours (`keyphrases`). LaTeX in
titles and abstracts becomes Unicode (`latex`).
"""

from __future__ import annotations

import functools

from bot.models import Paper
from bot.summarize.keyphrases import WordShare, extract_keywords, warm_up
from bot.summarize.latex import latex_to_unicode, tex_text
from bot.summarize.sentences import ELLIPSIS, shorten, split_sentences
from bot.summarize.tldr import TLDR_LIMIT, extractive_tldr

__all__ = [
    "ELLIPSIS",
    "TLDR_LIMIT",
    "extract_keywords",
    "extractive_tldr",
    "keywords",
    "latex_to_unicode",
    "shorten",
    "split_sentences",
    "tex_text",
    "tldr",
    "tldr_note",
    "use_word_share",
    "warm_up",
]

_word_share: list[WordShare | None] = [None]


def use_word_share(word_share: WordShare | None) -> None:
    """How common each word is in this library (the search index knows): key phrases made
    only of words most papers use are demoted. Set by the process that serves cards."""
    _word_share[0] = word_share
    _our_keywords.cache_clear()


def tldr(paper: Paper, limit: int = TLDR_LIMIT) -> str:
    """Hugging Face's AI summary, else an LLM's (PAPERS_LLM_URL), else the extractive one."""
    if paper.ai_summary:
        return shorten(latex_to_unicode(paper.ai_summary), limit)
    if paper.llm_summary:
        return shorten(paper.llm_summary, limit)
    if paper.abstract:
        return _extractive(paper.abstract, paper.title, limit)
    return ""


def tldr_note(paper: Paper) -> str:
    """Where the TL;DR `tldr` shows comes from, as a card says it."""
    if paper.ai_summary:
        return "AI summary · Hugging Face"
    if paper.llm_summary:
        model = (paper.llm_summary_by or "").split(" ")[0]
        return f"AI summary · {model}" if model else "AI summary"
    return "TL;DR from the abstract" if paper.abstract else ""


@functools.lru_cache(maxsize=4096)
def _extractive(abstract: str, title: str, limit: int) -> str:
    return extractive_tldr(abstract, title, limit)


def keywords(paper: Paper, limit: int = 5) -> list[str]:
    if paper.ai_keywords:
        return paper.ai_keywords[:limit]
    return list(_our_keywords(paper.abstract, paper.title, limit))


@functools.lru_cache(maxsize=4096)
def _our_keywords(abstract: str, title: str, limit: int) -> tuple[str, ...]:
    # Tagging an abstract takes ~2 ms: a card shown again (a digest, a page of results)
    # costs nothing the second time.
    found = extract_keywords(
        latex_to_unicode(abstract), latex_to_unicode(title), limit, _word_share[0]
    )
    return tuple(found)
