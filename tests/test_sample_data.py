"""The shipped sample library is exactly the conversion of the real papers in tests/data."""

from pathlib import Path

from bot.library import load_sample_papers
from scripts.build_sample import OUT, build


def test_shipped_sample_matches_a_fresh_conversion(fixtures: Path) -> None:
    assert OUT.read_text("utf-8") == build(fixtures)


def test_sample_has_the_seed_and_fixture_papers() -> None:
    papers = {p.id: p for p in load_sample_papers()}
    assert len(papers) == 48 + 63
    assert {"2408.08338", "2503.10632", "2607.28582"} <= set(papers)
    assert papers["2607.28582"].upvotes == 19  # the later of the two captures
