"""Asking a paper, below Slack: arXiv's HTML parsed (two page generations), sentences ranked
and quoted verbatim with their labels and links, the abstention and its measured floor, the
LLM's sentences kept only when they cite quotes shown, and the full text fetched politely,
kept (both backends), a 404 remembered, a stall answered from the abstract."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bench.ask_quality import measure
from bot.config import Settings
from bot.ingest.fulltext import read_paper, stored_reading
from bot.library import Library
from bot.models import Paper
from bot.search.passages import ANSWER_FLOOR, answer_from
from bot.sources.arxiv_html import FullTextError, parse_full_text
from bot.summarize.quoted_answer import grounded_sentences
from tests.conftest import run_papers_bot
from tests.fakes.arxiv_html import ArxivHtmlStandIn

ASK = Path(__file__).parent / "data" / "ask"
SPLINES, READING_ORDER, AVSE = "2601.00001", "2601.00002", "2508.08468"


def page(paper_id: str) -> bytes:
    return (ASK / f"{paper_id}.html").read_bytes()


@pytest.fixture
def html(fixtures: Path) -> Iterator[ArxivHtmlStandIn]:
    standin = ArxivHtmlStandIn(ASK, min_interval=0.9).start()
    yield standin
    standin.stop()


def paper(paper_id: str = SPLINES) -> Paper:
    return Paper(paper_id, "Spline Bases for Small Networks", abstract="We study spline nets.")


def test_the_paper_alone_is_read_labelled_by_section_and_paragraph() -> None:
    full = parse_full_text(page(SPLINES), SPLINES)
    labels = [p.label for p in full.passages]
    assert labels[:3] == ["Abstract ¶1", "§1 ¶1", "§1 ¶2"]
    assert "§2.1 ¶1" in labels and "Figure 1" in labels and "Table 1" in labels
    text = " ".join(p.text for p in full.passages)
    for gone in ("footnote that must never", "reference that must never", "Navigation text",
                 "Banner", "Footer text", "unsupportedmacro"):  # fmt: skip
        assert gone not in text
    basis = next(p for p in full.passages if p.label == "§2.1 ¶1")
    assert basis.anchor == "S2.SS1"
    assert r"\phi(x)=w_{b}\,\mathrm{silu}(x)" in basis.text  # the formula's LaTeX
    assert [s.label for s in full.sections][1:4] == ["§1 Introduction", "§2.1 Basis functions",
                                                      "§2.2 Training"]  # fmt: skip
    older = parse_full_text(page(READING_ORDER), READING_ORDER)  # div sections, base href
    assert [p.label for p in older.passages] == [
        "Abstract ¶1", "§1 ¶1", "§2 ¶1", "Agreement ¶1", "Appendix A ¶1"
    ]  # fmt: skip
    real = parse_full_text(page(AVSE), AVSE)
    assert len(real.passages) > 80 and any(p.label == "Figure 7(b)" for p in real.passages)


def test_a_page_that_is_not_a_paper_is_an_error() -> None:
    for junk in (b"<html><body>Just a page</body></html>", b"", b"\x00\xff binary"):
        with pytest.raises(FullTextError):
            parse_full_text(junk, "2601.00009")


def test_answers_are_the_papers_own_sentences_with_their_place_and_link() -> None:
    full = parse_full_text(page(SPLINES), SPLINES)
    answer = answer_from(full, "What basis functions do they use?")
    [first, *_] = answer.quotes
    assert first.text.startswith("Each edge function is a sum of cubic B-splines")
    assert first.text in " ".join(p.text for p in full.passages)  # verbatim
    assert first.label == "§2.1 ¶1" and first.url == f"https://arxiv.org/html/{SPLINES}#S2.SS1"
    # A quote that leads back ("They …") comes with the sentence before it.
    differ = answer_from(
        full, "On which equations do the spline network and perceptron differ most"
    )
    assert any(
        q.text.startswith("The spline network reaches a median error of 0.004")
        and "They differ most on equations with exponentials." in q.text
        for q in differ.quotes
    )


def test_a_question_the_paper_cannot_answer_is_declined_with_the_closest_sections() -> None:
    full = parse_full_text(page(SPLINES), SPLINES)
    answer = answer_from(full, "What BLEU score do they get on WMT14?")
    assert answer.abstained and answer.coverage < ANSWER_FLOOR
    assert len(answer.closest) == 3
    assert all(url.startswith(f"https://arxiv.org/html/{SPLINES}") for _, url in answer.closest)


def test_the_answer_floor_in_use_is_the_one_the_judged_set_measures() -> None:
    report = measure()
    assert report["best_floor"] == ANSWER_FLOOR
    ours, baseline = report["ours"], report["baseline"]
    assert ours["hit_at_3"] > baseline["hit_at_3"]
    assert ours["wrong_answers"] < baseline["wrong_answers"]


def test_only_llm_sentences_citing_quotes_shown_are_kept() -> None:
    said = (
        "They use cubic B-splines [1]. The grid grows to 32 intervals [2][1]. "
        "They won a Turing award [7]. This sentence cites nothing."
    )
    assert grounded_sentences(said, 2) == [
        "They use cubic B-splines [1].",
        "The grid grows to 32 intervals [2][1].",
    ]
    assert grounded_sentences("cannot answer", 3) == []


def test_a_full_text_is_fetched_politely_once_then_kept(
    tmp_path: Path, database_url: str | None, html: ArxivHtmlStandIn
) -> None:
    library = Library(tmp_path / "data", database_url=database_url)
    settings = Settings(data_dir=tmp_path / "data", arxiv_html_url=html.url)
    first = read_paper(settings, library, paper())
    assert first.fetched and not first.from_abstract and len(html.requests) == 1
    assert html.requests[0].user_agent.startswith("papers-bot/")
    again = read_paper(settings, library, paper())  # kept: never fetched again
    assert not again.fetched and again.full == first.full and len(html.requests) == 1
    reopened = Library(tmp_path / "data", database_url=database_url)
    assert stored_reading(reopened, paper()) is not None
    # A paper without a page: the abstract, and the 404 is remembered.
    none = read_paper(settings, library, paper("2601.00404"))
    assert none.from_abstract and none.problem is None
    read_paper(settings, library, paper("2601.00404"))
    assert [r.paper for r in html.requests] == [SPLINES, "2601.00404"]
    gaps = [b.at - a.at for a, b in zip(html.requests, html.requests[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps)  # one request a second, at most


def test_a_stalled_or_busy_arxiv_answers_from_the_abstract_and_says_why(
    tmp_path: Path, html: ArxivHtmlStandIn
) -> None:
    library = Library(tmp_path / "data")
    settings = Settings(data_dir=tmp_path / "data", arxiv_html_url=html.url)
    html.stall_seconds = 5
    html.fail("stall", count=2)
    started = time.monotonic()
    stalled = read_paper(settings, library, paper())
    assert stalled.from_abstract and stalled.problem and "timed out" in stalled.problem.lower()
    assert time.monotonic() - started < 10
    html.fail("503", count=1)  # one 503 with Retry-After: 1, then the page
    busy = read_paper(settings, library, paper())
    assert not busy.from_abstract and busy.problem is None
    assert [r.status for r in html.requests][-2:] == [503, 200]


def test_fulltext_command_fills_the_days_papers_and_resumes(
    tmp_path: Path, html: ArxivHtmlStandIn
) -> None:
    data = tmp_path / "data"
    library = Library(data)
    day = library.latest_listing_day()
    assert day is not None
    listed = library.listed_on(day)
    html.extra = {p.id: page(SPLINES).replace(b"2601.00001", p.id.encode()) for p in listed[:2]}
    env = {"PAPERS_DATA_DIR": str(data), "ARXIV_HTML_URL": html.url}
    first = run_papers_bot(tmp_path, "fulltext", "--since", day, "--until", day, **env)
    assert first.returncode == 0, first.stderr
    assert f"kept 2, no HTML page {len(listed) - 2}, already kept 0, failed 0" in first.stdout
    again = run_papers_bot(tmp_path, "fulltext", "--since", day, "--until", day, **env)
    assert f"already kept {len(listed)}" in again.stdout
    bad = run_papers_bot(tmp_path, "fulltext", "--since", "tomorrow", **env)
    assert bad.returncode == 2 and "--since must be YYYY-MM-DD" in bad.stderr
    assert replace(paper(), title="x").id == SPLINES  # the record type is the library's


def test_the_embedding_model_reorders_the_best_candidates_by_meaning() -> None:
    """The `[semantic]` extra (installed by `make test`): the question's meaning lifts the
    sentence that answers it among the lexical candidates; the abstention stays lexical."""
    from bench.ask_quality import embedding

    embed = embedding()
    assert embed is not None, "make test installs the [semantic] extra"
    full = parse_full_text(page(AVSE), AVSE)
    question = "What is the chunk length t_chunk set to?"
    by_words = [q.text for q in answer_from(full, question).quotes]
    by_meaning = [q.text for q in answer_from(full, question, embed=embed).quotes]
    assert not any("=40 ms, congruent" in q for q in by_words)
    assert any("=40 ms, congruent" in q for q in by_meaning)
    declined = answer_from(full, "What BLEU score do they report on WMT14?", embed=embed)
    assert declined.abstained


def test_two_questions_at_once_fetch_one_page_at_a_time(
    tmp_path: Path, html: ArxivHtmlStandIn
) -> None:
    """A slow page holds the next fetch back until it is done: one request at a time."""
    library = Library(tmp_path / "data")
    settings = Settings(data_dir=tmp_path / "data", arxiv_html_url=html.url)
    html.stall_seconds = 2
    html.fail("stall", count=1)  # the first request takes 2 s (within the 3.5 s timeout)
    readers = [
        threading.Thread(target=read_paper, args=(settings, library, paper(p)))
        for p in (SPLINES, READING_ORDER)
    ]
    for reader in readers:
        reader.start()
        time.sleep(0.1)
    for reader in readers:
        reader.join(timeout=20)
    first, second = html.requests
    assert second.at - first.at >= 2.0  # not sent while the first was still being answered
    assert stored_reading(library, paper(READING_ORDER)) is not None
