"""TL;DRs, LaTeX to Unicode and keywords."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
from bot.summarize.tldr import stand_alone, without_leaning_tail


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


@pytest.mark.parametrize("abstract", ["()", "()()", "( )", "[]"])
def test_an_abstract_with_nothing_left_once_stripped_has_no_tldr(abstract: str) -> None:
    # Found by test_render_properties: every sentence of "()" strips to nothing.
    assert extractive_tldr(abstract) == ""
    assert tldr(Paper(id="2408.08338", title="", abstract=abstract, authors=[])) == ""


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


@pytest.fixture(scope="module")
def quality(fixtures: Path) -> dict[str, Any]:
    return evaluate(fixtures)


def test_tldrs_beat_lexrank_textrank_lead_and_title_on_rouge_l(quality: dict[str, Any]) -> None:
    scores = {name: s["rougeL"] for name, s in quality["tldr"].items()}
    print("ROUGE-L", scores)
    assert quality["papers"] == 30
    assert scores["papers-bot"] >= 0.29
    assert scores["papers-bot"] > max(s for name, s in scores.items() if name != "papers-bot")


def test_key_phrases_beat_yake_and_textrank(quality: dict[str, Any]) -> None:
    ours, peers = quality["keywords"]["papers-bot"], quality["keywords"]
    print("key phrases F1@5", peers)
    assert ours["exact"] >= 0.20 and ours["shared stem"] >= 0.53
    for peer in ("YAKE", "TextRank (POS)"):
        assert ours["exact"] > peers[peer]["exact"]
        assert ours["shared stem"] > peers[peer]["shared stem"]


def test_tldrs_stand_alone_and_key_phrases_are_clean_noun_phrases(
    quality: dict[str, Any],
) -> None:
    checks = quality["checks"]
    print(checks)
    assert checks["tldrs"] == 111
    assert checks["refer back"] <= 8 and checks["no contribution"] <= 1 and checks["cut"] <= 4
    ours = checks["ours"]
    assert ours["not noun phrases"] <= 0.05 * ours["phrases"]
    assert ours["stray punctuation"] == 0 and ours["generic"] <= 10


@pytest.mark.parametrize(
    ("sentence", "alone"),
    [
        (
            "To address this issue, we propose an activation space Selectable KAN (S-KAN).",
            "We propose an activation space Selectable KAN (S-KAN).",
        ),
        (
            "Secondly, we propose a novel evaluation protocol.",
            "We propose a novel evaluation protocol.",
        ),
        (
            "Motivated by these observations, in this paper, we introduce InfFeed.",
            "We introduce InfFeed.",
        ),
        ("Here we propose Foo.", "We propose Foo."),
        ("We propose AMRD to address both.", "We propose AMRD."),
        (
            "As a consequence of our theorems we derive an expression.",
            "We derive an expression.",
        ),
    ],
)
def test_a_contribution_sentence_loses_what_leans_on_the_one_before(
    sentence: str, alone: str
) -> None:
    assert stand_alone(sentence) == alone


def test_the_tldr_names_what_the_title_coins_and_skips_background() -> None:
    abstract = (
        "Diffusion models are slow to sample. In this work, we propose an exact formulation of "
        "the solution of diffusion ODEs. Based on it, we propose DPM-Solver, a fast dedicated "
        "high-order solver for diffusion ODEs. DPM-Solver cuts function evaluations 4x."
    )
    assert extractive_tldr(abstract, "DPM-Solver: A Fast ODE Solver") == (
        "We propose DPM-Solver, a fast dedicated high-order solver for diffusion ODEs. "
        "DPM-Solver cuts function evaluations 4x."
    )


def test_a_long_contribution_is_cut_at_a_clause_never_inside_a_list() -> None:
    abstract = (
        "Evaluators are biased. To address this issue, we propose a calibration framework with "
        "three simple yet effective strategies: 1) Multiple Evidence Calibration, which requires "
        "the evaluator model to generate multiple evaluation evidence before assigning ratings; "
        "2) Balanced Position Calibration, which aggregates results across various orders to "
        "determine the final score; 3) Human-in-the-Loop Calibration, which introduces a "
        "balanced position diversity entropy to measure the difficulty of each example."
    )
    summary = extractive_tldr(abstract)
    assert (
        summary == "We propose a calibration framework with three simple yet effective strategies."
    )


def test_key_phrases_are_noun_phrases_without_stray_marks() -> None:
    found = extract_keywords(
        "Interaction asks whether agents cooperate. Results therefore yield broad gains, and "
        "PACE outperforms TWAP on `correct letter category' and large language models~.",
        "Beyond Parent Orders: Teaching Video World Models",
    )
    print(found)
    assert found
    for phrase in found:
        assert not re.search(r"[`~'’‘]", phrase)
        assert phrase.split()[0].lower() not in ("beyond", "towards", "rethinking")
        assert not re.search(r"\b(asks|yield|outperforms|therefore)\b", phrase)


def test_an_acronym_and_its_long_form_are_one_key_phrase() -> None:
    found = extract_keywords(
        "We study Kolmogorov-Arnold Networks (KANs). KANs replace fixed activations with "
        "learnable splines; KANs fit functions well.",
        "KANs for function fitting",
    )
    print(found)
    assert "Kolmogorov-Arnold Networks" in found
    assert not any(phrase.lower() in ("kans", "kan") for phrase in found)


def test_key_phrases_every_paper_shares_are_demoted() -> None:
    text = (
        "Large language models (LLMs) are everywhere. We propose tree attention, a sparse "
        "attention pattern for large language models."
    )
    everywhere = {"larg", "languag", "model", "llm"}
    found = extract_keywords(text, "Tree attention", 2, lambda t: 0.9 if t in everywhere else 0.01)
    assert found[0].lower() == "tree attention"
    assert all("language models" not in phrase.lower() for phrase in found)


def test_a_trailing_clause_that_points_back_goes_but_one_naming_its_own_thing_stays() -> None:
    assert (
        without_leaning_tail(
            "We introduce MgNO, a multigrid neural operator, utilizing multigrid structures to "
            "parameterize these linear operators between neurons."
        )
        == "We introduce MgNO, a multigrid neural operator."
    )
    own = (
        "We introduce video captioning, a new task requiring grounding, and propose "
        "RefCaptioner, a framework for this task."
    )
    assert without_leaning_tail(own) == own
