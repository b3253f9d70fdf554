"""TL;DRs, LaTeX to Unicode and keywords."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.summary_quality import evaluate
from bot.library import load_sample_papers
from bot.models import Paper
from bot.summarize import (
    TLDR_LIMIT,
    extract_keywords,
    extractive_tldr,
    keywords,
    latex_to_unicode,
    shorten,
    split_sentences,
    tldr,
)


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"$\alpha$-divergence", "α-divergence"),
        (r"runs in $O(n^2)$ time", "runs in O(n²) time"),
        (r"\textbf{x} and \emph{y}", "x and y"),
        (r"$x_{i}^{2}$", "xᵢ²"),
        (r"$\beta$-OPSD", "β-OPSD"),
        (r"costs $\mathcal{O}(n \log n)$", "costs 𝒪(n log n)"),
        ("no latex < here & there", "no latex < here & there"),
        (r"100\% accurate", "100% accurate"),
    ],
)
def test_latex_becomes_readable_unicode(latex: str, text: str) -> None:
    assert latex_to_unicode(latex) == text


def test_latex_that_cannot_be_converted_is_shown_as_code() -> None:
    assert latex_to_unicode(r"with $\frobnicate{z}$ inside") == r"with `$\frobnicate{z}$` inside"


@given(st.text(max_size=300))
def test_latex_conversion_never_raises(text: str) -> None:
    assert isinstance(latex_to_unicode(text), str)


def test_sentences_survive_abbreviations() -> None:
    text = "We use e.g. transformers, cf. Fig. 2. Results improve by 3.5%. Done."
    assert split_sentences(text) == [
        "We use e.g. transformers, cf. Fig. 2.",
        "Results improve by 3.5%.",
        "Done.",
    ]


def test_extractive_tldr_takes_the_contribution_and_the_result() -> None:
    abstract = (
        "Large models are expensive. Prior work uses distillation. "
        "We propose Foo, a method that prunes attention heads. "
        "Experiments show Foo outperforms baselines by 12% on GLUE. We release code."
    )
    assert extractive_tldr(abstract) == (
        "We propose Foo, a method that prunes attention heads. "
        "Experiments show Foo outperforms baselines by 12% on GLUE."
    )


def test_tldr_prefers_ai_summary_and_is_never_over_280() -> None:
    assert (
        tldr(Paper(id="1", title="T", abstract="We propose X.", ai_summary="HF says."))
        == "HF says."
    )
    for paper in load_sample_papers():
        summary = tldr(paper)
        assert 0 < len(summary) <= TLDR_LIMIT


@given(st.text(max_size=3000))
def test_tldr_of_any_text_fits(abstract: str) -> None:
    assert len(extractive_tldr(abstract)) <= TLDR_LIMIT


@given(st.text(max_size=500), st.integers(min_value=1, max_value=400))
def test_shorten_fits_the_limit(text: str, limit: int) -> None:
    assert len(shorten(text, limit)) <= limit


def test_keywords_from_ai_keywords_or_the_text() -> None:
    with_keywords = Paper(id="1", title="T", ai_keywords=["a", "b"])
    assert keywords(with_keywords) == ["a", "b"]
    found = extract_keywords(
        "We introduce adapter guidance distillation (AGD), which simulates classifier-free "
        "guidance in one pass. AGD keeps the base model frozen.",
        "Efficient Distillation of Classifier-Free Guidance using Adapters",
    )
    assert "adapter guidance distillation" in found
    assert 1 <= len(found) <= 5


def test_extractive_tldr_scores_higher_than_lexrank(fixtures: Path) -> None:
    scores = evaluate(fixtures)
    print(f"ROUGE-L extractive {scores['extractive']:.3f}, LexRank {scores['lexrank']:.3f}")
    assert scores["papers"] == 30
    assert scores["extractive"] > scores["lexrank"]
