"""For you's taste model: above arxiv-sanity's SVM on the simulated people, from one save on,
and its storage on both backends (Not interested marks, opt-ins, the morning ledger)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.recommend_quality import quality
from bot.library import Library
from bot.taste.picks import ForYou


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return quality()


def test_picks_beat_arxiv_sanitys_svm_and_more_like_this(measured: dict[str, Any]) -> None:
    print(measured)
    ours, svm = measured["papers-bot"], measured["arxiv-sanity SVM"]
    latest = measured["More like this (latest save)"]
    for kind in ("one interest", "two interests"):
        assert ours[kind]["cases"] >= 30
        assert ours[kind]["hit_rate"] > svm[kind]["hit_rate"]
        assert ours[kind]["hit_rate"] > latest[kind]["hit_rate"]


def test_one_save_is_enough_and_none_says_so(library: Library) -> None:
    for_you = ForYou(library)
    assert for_you.picks("U1") == []  # nothing saved: nothing to learn from
    library.saves.add("U1", "2408.08338")
    picks = for_you.picks("U1", 5)
    assert len(picks) == 5 and "2408.08338" not in {p.paper.id for p in picks}
    assert "2503.10632" in {p.paper.id for p in picks}  # the other KAN paper
    assert all(p.like is not None and p.like.id == "2408.08338" for p in picks)


def test_marks_opt_ins_and_the_morning_ledger_are_kept_per_person(library: Library) -> None:
    tastes = library.tastes
    assert tastes.hide("U1", "2408.08338") and not tastes.hide("U1", "2408.08338")
    assert tastes.hidden_of("U1") == ["2408.08338"] and tastes.hidden_of("U2") == []
    assert tastes.set_picks("U1", True) and not tastes.set_picks("U1", True)
    assert tastes.picks_people() == ["U1"] and tastes.picks_on("U1")
    assert tastes.claim_picks("U1", "2026-07-31", ["a", "b"])
    assert not tastes.claim_picks("U1", "2026-07-31", ["c"])  # one DM a day, ever
    tastes.picks_delivered("U1", "2026-07-31", "1.2")
    assert tastes.picked_before("U1") == {"a", "b"} and tastes.picked_before("U2") == set()
    exported = tastes.export()
    assert {len(rows) for rows in exported.values()} == {1}
    tastes.forget("U1")
    assert tastes.hidden_of("U1") == [] and tastes.picks_people() == []
    assert tastes.picked_before("U1") == set()
    assert tastes.load(exported) == 3  # db copy's way in
    assert tastes.hidden_of("U1") == ["2408.08338"]


def test_features_follow_the_catalog_new_papers_in_changed_texts_anew(library: Library) -> None:
    from dataclasses import replace

    from bot.models import Paper

    for_you = ForYou(library)
    library.saves.add("U1", "2408.08338")
    before = for_you.features.current()
    assert before is not None
    paper = library.get("2503.10632")
    assert paper is not None
    library.upsert_many([replace(paper, upvotes=paper.upvotes + 5)])  # no text changed
    assert len(for_you.features.current() or before) == len(before)
    newcomer = Paper(
        "2611.00001",
        "ConvKAN: Kolmogorov-Arnold Networks for vision",
        "We propose ConvKAN, Kolmogorov-Arnold networks (KANs) with learnable activations.",
    )
    library.upsert_many([newcomer])
    after = for_you.features.current()
    assert after is not None and len(after) == len(before) + 1
    assert "2611.00001" in {p.paper.id for p in for_you.picks("U1", 5)}
    library.upsert_many([replace(newcomer, abstract=newcomer.abstract + " It also scales.")])
    again = for_you.features.current()
    assert again is not None and len(again) == len(before) + 2 and int(again.stale.sum()) == 1
    ids = [p.paper.id for p in for_you.picks("U1", 10)]
    assert ids.count("2611.00001") == 1  # its old text is never a second pick
