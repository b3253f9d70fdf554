"""Search behaviour people rely on, on the real sample library (plus the trap papers)."""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.importer import import_files
from bot.library import Library, load_sample_papers
from bot.models import Paper
from bot.render.search_text import message_text, note_text
from bot.search import SearchEngine
from bot.search.aliases import find_definitions
from bot.search.builder import current_generation
from tests.conftest import DATA, reopen

KAN_PAPERS = {"2408.08338", "2503.10632"}
TRAPS = {"9901.00001", "9901.00002", "9901.00003", "9901.00004", "9901.00005"}


@pytest.fixture
def trap_engine(library: Library) -> SearchEngine:
    import_files(library, [DATA / "trap_papers.jsonl"])
    return SearchEngine(library)


def ids(engine: SearchEngine, query: str, limit: int = 10) -> list[str]:
    return [r.paper.id for r in engine.search(query, limit=limit).results]


def test_kan_ranks_the_two_kan_papers_first(engine: SearchEngine) -> None:
    assert set(ids(engine, "kan")[:2]) == KAN_PAPERS


def test_kan_never_matches_kanban_kannada_vulkan(trap_engine: SearchEngine) -> None:
    found = ids(trap_engine, "kan", limit=50)
    assert set(found) == KAN_PAPERS | {"9901.00006"}
    assert not TRAPS & set(found)


def test_the_long_form_finds_papers_that_only_write_the_acronym(trap_engine: SearchEngine) -> None:
    found = ids(trap_engine, "kolmogorov arnold")
    assert "9901.00006" in found[:3]
    response = trap_engine.search("kolmogorov arnold", 5)
    assert any("= KAN" in label for r in response.results for label in r.matched)


def test_a_typed_long_form_matches_in_whole_only_with_all_its_words(
    trap_engine: SearchEngine,
) -> None:
    """Papers with the acronym (or every word) come first; a paper with some of the words
    still comes, after them, and says how much of the query it matched."""
    results = trap_engine.search("kolmogorov arnold networks", 10).results
    whole = [r for r in results if r.coverage == 1.0]
    assert {r.paper.id for r in whole} == KAN_PAPERS | {"9901.00006"}
    assert results[: len(whole)] == whole
    partial = results[len(whole) :]
    assert partial and all(r.matched == ["networks"] for r in partial)
    assert all(abs(r.coverage - 1 / 3) < 1e-9 for r in partial)


def test_the_title_bonus_in_the_union_finds_and_scores_as_beside_a_required_query(
    trap_engine: SearchEngine,
) -> None:
    """Where any one group is enough, the bonus is one more clause of the union (faster): a
    title word is in the text too, so no paper is found by the bonus alone and each paper's
    score is the same as with the bonus an optional clause beside the required groups."""
    from tantivy import Occur, Query

    from bot.search.ranking import _title_bonus, group_query, groups_query, ranked_query

    index = trap_engine.index
    for text in ("kan", "networks", "diffusion models", "multi-agent llm", "kolmogorov arnold"):
        groups = index.expansion.groups_for(text)
        union = ranked_query(index, groups, whole=False, filters=[])
        queries = [q for q in (group_query(index, g) for g in groups) if q is not None]
        bonus = _title_bonus(index, groups)
        assert union is not None and bonus is not None, text
        beside = Query.boolean_query(
            [(Occur.Must, groups_query(queries, 1)), (Occur.Should, bonus)]
        )
        found = [index.searcher.search(q, 1_000, count=True) for q in (union, beside)]
        assert found[0].count == found[1].count > 0, text
        scored = [
            sorted((a.segment_ord, a.doc, round(score, 4)) for score, a in f.hits) for f in found
        ]
        assert scored[0] == scored[1], text


def test_aliases_are_mined_from_the_text() -> None:
    text = "the recently proposed Kolmogorov-Arnold Network (KAN), based on nonlinear"
    assert find_definitions(text) == [("KAN", "Kolmogorov-Arnold Network")]
    assert find_definitions("We use it (see above).") == []


@given(
    st.text(alphabet="KANkan-İıΣσς ", min_size=1, max_size=6),
    st.text(alphabet="KANkan-İıΣσςxy .", max_size=40),
)
@settings(max_examples=500)
def test_long_forms_found_by_rfind_are_those_of_the_published_algorithm(
    short: str, long: str
) -> None:
    from bot.search.aliases import _schwartz_hearst_by_character, schwartz_hearst

    assert schwartz_hearst(short, long) == _schwartz_hearst_by_character(short, long)


def test_long_forms_of_the_sample_library_are_those_of_the_published_algorithm() -> None:
    from bot.search import aliases

    windows = [
        (m.group(1), paper.abstract[max(0, m.start() - 200) : m.start()])
        for paper in load_sample_papers()
        for m in aliases._PAREN_RE.finditer(paper.abstract)
    ]
    assert len(windows) > 50
    for short, long in windows:
        expected = aliases._schwartz_hearst_by_character(short, long)
        assert aliases.schwartz_hearst(short, long) == expected


@pytest.mark.parametrize("query", ["KANs", "S-KAN", "convkan", "ConvKAN"])
def test_acronym_forms(engine: SearchEngine, query: str) -> None:
    assert ids(engine, query)[0] == "2408.08338"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("network", "networks"),
        ("classifier-free", "classifier free"),
        ("multi-agent", "multiagent"),
        ("dpm-solver", "dpm solver"),
    ],
)
def test_word_forms_and_joins_find_the_same_papers(engine: SearchEngine, a: str, b: str) -> None:
    found_a, found_b = ids(engine, a), ids(engine, b)
    top = min(len(found_a), len(found_b), 2)
    assert top >= 1 and set(found_a[:top]) == set(found_b[:top])


def test_typos_are_corrected_from_the_library_vocabulary(engine: SearchEngine) -> None:
    assert set(ids(engine, "kolmogorv")[:2]) == KAN_PAPERS
    response = engine.search("speculatve decoding", 3)
    assert {r.paper.id for r in response.results[:2]} == {"2606.12243", "2607.26627"}
    assert any("speculative" in label for label in response.results[0].matched)


def test_a_typo_of_a_word_the_library_gains_later_is_then_corrected(
    library: Library, engine: SearchEngine
) -> None:
    """Corrections are remembered per typed word until the index changes: a word that
    arrives with a new paper must then be found for the same typo."""
    assert ids(engine, "zorbulaton") == []
    paper = Paper(id="2611.00042", title="Zorbulation of sparse attention", abstract="New.")
    library.upsert_many([paper])
    response = engine.search("zorbulaton", 3)
    assert [r.paper.id for r in response.results] == ["2611.00042"]
    assert response.results[0].matched == ["zorbulaton → zorbulation"]


def test_short_words_are_never_typo_corrected(trap_engine: SearchEngine) -> None:
    assert ids(trap_engine, "kam") == []


@pytest.mark.parametrize(
    "query",
    [
        "2408.08338",
        "2408.08338v2",
        "arXiv:2408.08338",
        "https://arxiv.org/abs/2408.08338",
        "https://arxiv.org/pdf/2408.08338v1",
        "https://huggingface.co/papers/2408.08338",
    ],
)
def test_ids_and_urls_go_straight_to_the_paper(engine: SearchEngine, query: str) -> None:
    assert ids(engine, query) == ["2408.08338"]


def test_unknown_id_says_it_is_not_in_the_library(engine: SearchEngine) -> None:
    response = engine.search("2401.99999", 5)
    assert not response.results and "not in the library" in message_text(response)


def test_author_filter(engine: SearchEngine) -> None:
    assert ids(engine, "author:goldstein") == ["2607.28582"]
    assert ids(engine, 'author:"Tom Goldstein" distillation') == ["2607.28582"]
    assert ids(engine, "author:nobody-at-all") == []


def test_since_filter(engine: SearchEngine) -> None:
    found = ids(engine, "since:2026-07 speculative decoding")
    assert found[0] == "2607.26627" and "2606.12243" not in found
    assert all(
        (engine.library.get(i).date or "") >= "2026-07-01" for i in ids(engine, "since:2026-07")
    )


def test_quoted_phrases_must_appear_as_written(engine: SearchEngine) -> None:
    assert ids(engine, '"sparse attention"') == ["2606.13392"]
    assert ids(engine, '"attention sparse"') == []


def test_ties_go_to_more_upvotes_then_newer(empty_library: Library) -> None:
    same = dict(title="Widget learning", abstract="Widgets.")
    empty_library.upsert_many(
        [
            Paper(id="2501.00001", upvotes=1, published="2025-01-01", **same),
            Paper(id="2501.00002", upvotes=5, published="2024-01-01", **same),
            Paper(id="2501.00003", upvotes=1, published="2025-06-01", **same),
        ]
    )
    assert ids(SearchEngine(empty_library), "widget") == ["2501.00002", "2501.00003", "2501.00001"]


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("", "Type what you remember"),
        ("   \t ", "Type what you remember"),
        ("?!... ---", "no words to search for"),
        ("the of and", "too common"),
        ("since:yesterday kan", "is not a date"),
    ],
)
def test_odd_queries_get_a_helpful_answer(engine: SearchEngine, query: str, expect: str) -> None:
    response = engine.search(query, 5)
    assert not response.results and expect in message_text(response)


def test_a_huge_query_is_cut_and_answered(engine: SearchEngine) -> None:
    response = engine.search("kan " + "x" * 10_000, 5)
    assert response.notes and "first 500 characters" in note_text(response.notes[0])
    assert {r.paper.id for r in response.results} == KAN_PAPERS


def test_non_latin_queries_are_answered(engine: SearchEngine) -> None:
    response = engine.search("ニューラルネットワーク", 5)
    assert not response.results and "English" in message_text(response)


def test_no_results_suggest_words_from_the_library(engine: SearchEngine) -> None:
    response = engine.search("transfomrerz", 5)
    assert not response.results
    assert "transformers" in response.suggestions


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_query_is_answered_without_an_exception(engine: SearchEngine, query: str) -> None:
    response = engine.search(query, 5)
    assert response.results or response.message


def test_the_index_is_updated_incrementally_after_an_import(library: Library) -> None:
    engine = SearchEngine(library)
    assert ids(engine, "kanban") == []
    import_files(library, [DATA / "trap_papers.jsonl"])
    assert ids(engine, "kanban") == ["9901.00001"]
    assert len(engine.index) == 111 + 6


def test_another_process_writing_the_catalog_is_seen(tmp_path: Path) -> None:
    first = Library(tmp_path / "d")
    engine = SearchEngine(first)
    second = Library(tmp_path / "d")  # stands for a cron `papers-bot import`
    import_files(second, [DATA / "trap_papers.jsonl"])
    time.sleep(0.15)  # the engine looks for other processes' writes at most every 0.1 s
    assert ids(engine, "vulkan") == ["9901.00003"]


def test_a_shown_paper_changed_since_is_shown_changed(tmp_path: Path) -> None:
    """Shown papers are kept decoded between searches: a change by this process, or by
    another one, must show in the next answer all the same."""
    from dataclasses import replace

    first = Library(tmp_path / "d")
    engine = SearchEngine(first)
    paper = engine.search("2408.08338", 1).results[0].paper
    assert engine.search("kan", 5).results[0].paper.id in KAN_PAPERS

    def shown_upvotes() -> int:
        found = {r.paper.id: r.paper for r in engine.search("kan", 5).results}
        return found[paper.id].upvotes

    before = shown_upvotes()
    first.upsert_many([replace(paper, upvotes=before + 100)])
    assert shown_upvotes() == before + 100
    second = Library(tmp_path / "d")  # another process: this one's write counter stays
    second.upsert_many([replace(paper, upvotes=before + 200)])
    time.sleep(0.15)  # the engine looks for other processes' writes at most every 0.1 s
    assert shown_upvotes() == before + 200


def test_more_like_this(engine: SearchEngine) -> None:
    similar = [r.paper.id for r in engine.more_like("2606.12243", 5)]
    assert similar[0] == "2607.26627"  # the other speculative decoding paper
    assert "2606.12243" not in similar


JUDGED = json.loads((DATA / "judged_queries.json").read_text("utf-8"))


def _answers(engine: SearchEngine) -> list[list[tuple[str, float, tuple[str, ...]]]]:
    return [
        [(r.paper.id, r.score, tuple(r.matched)) for r in engine.search(q["query"], 10).results]
        for q in JUDGED
    ]


def test_a_new_process_answers_from_the_saved_index_exactly_and_indexes_nothing(
    library: Library,
) -> None:
    import_files(library, [DATA / "trap_papers.jsonl"])
    built = SearchEngine(library)
    folder = current_generation(library.data_dir)
    loaded = SearchEngine(reopen(library))  # stands for a new process
    assert loaded.refresh() == 0  # nothing re-indexed: the index on disk was used
    assert current_generation(library.data_dir) == folder
    assert _answers(loaded) == _answers(built)
    assert loaded.suggest("kolmogorv") == built.suggest("kolmogorv")


def test_a_damaged_or_older_index_is_rebuilt(library: Library) -> None:
    expected = _answers(SearchEngine(library))
    folder = current_generation(library.data_dir)
    assert folder is not None
    (folder / "papers-bot-format").write_text("4\n")  # an index of an earlier release
    old_file = library.data_dir / "index" / "search.npz"  # the numpy engine's, before tantivy
    old_file.write_bytes(b"PK\x03\x04 an earlier release's index")
    rebuilt = SearchEngine(reopen(library))
    assert not old_file.exists()  # replaced, so cleaned away
    assert current_generation(library.data_dir) not in (None, folder)
    assert _answers(rebuilt) == expected
    fresh = current_generation(library.data_dir)
    assert fresh is not None
    (fresh / "meta.json").write_text("{ torn")
    assert _answers(SearchEngine(reopen(library))) == expected


def test_papers_indexed_incrementally_rank_exactly_as_a_build_from_scratch(
    tmp_path: Path,
) -> None:
    """BM25 statistics are computed at query time, so the order papers arrive in (one batch
    at a time, caught up after each) leaves no trace in any score or rank."""
    papers = load_sample_papers()
    random.Random(3).shuffle(papers)
    library = Library(tmp_path / "d", sample_data=False)
    engine = SearchEngine(library)
    for start in range(0, len(papers), 15):  # eight days' ingests, each caught up
        library.upsert_many(papers[start : start + 15])
        engine.refresh()
    import_files(library, [DATA / "trap_papers.jsonl"])
    engine.refresh()
    incremental = _answers(engine)
    shutil.rmtree(library.data_dir / "index")
    scratch = SearchEngine(reopen(library))
    assert len(scratch.index) == len(engine.index) == len(library)
    assert _answers(scratch) == incremental


def test_the_fast_path_for_plain_words_gives_the_general_analysis() -> None:
    from bot.search.analyzer import WORD_RE, _analyze_word, analyze_any_word

    words = {"Learning", "a", "A", "The", "Ng", "KANs", "ConvKAN", "multi-agent", "LLMs", "xY"}
    for paper in load_sample_papers():
        words.update(WORD_RE.findall(" ".join([paper.title, paper.abstract, *paper.authors])))
    assert len(words) > 5_000
    assert [w for w in words if _analyze_word(w) != analyze_any_word(w)] == []


def _start_the_catalog_anew(library: Library) -> None:
    """Files: the catalog is damaged, set aside, and a new one starts. PostgreSQL: the
    database is restored from another library's dump (another identity, keys from 1)."""
    if library.database_url:
        import psycopg

        from bot.library.pg_schema import psycopg_url

        with psycopg.connect(psycopg_url(library.database_url), autocommit=True) as conn:
            conn.execute("TRUNCATE papers, listings RESTART IDENTITY")
            conn.execute("UPDATE catalog_meta SET value = 'c-restored' WHERE key = 'identity'")
        return
    library.catalog.close()
    library.data_dir.joinpath("catalog.sqlite3").write_bytes(b"not a database " * 100)


def test_an_index_of_another_catalog_is_rebuilt_never_trusted(empty_library: Library) -> None:
    """A catalog set aside as damaged starts anew: its keys then mean other papers, so the
    index built from the old one must not answer for it, even once the new catalog has seen
    more changes than the old one had."""
    library = empty_library
    library.upsert_many([p for p in load_sample_papers() if p.id in KAN_PAPERS])
    engine = SearchEngine(library)
    assert len(engine.index) == 2
    _start_the_catalog_anew(library)
    import_files(library, [DATA / "trap_papers.jsonl"])  # into a new, empty catalog: 6 changes
    if not library.database_url:
        assert library.missing_parts() == ["the paper catalog"]
    assert ids(engine, "kan") == ["9901.00006"]  # ConvKAN-TS, nothing of the old catalog
    assert len(engine.index) == len(library) == 6


def _lexicon_rows(library: Library) -> dict[str, list[tuple[object, ...]]]:
    import sqlite3

    folder = current_generation(library.data_dir)
    assert folder is not None
    conn = sqlite3.connect(folder / "lexicon.sqlite3")
    try:
        return {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("definitions", "forms", "surfaces")
        }
    finally:
        conn.close()


def test_a_build_in_worker_processes_equals_one_in_process(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large libraries are analysed by worker processes, each counting its words until it
    ends: the index, acronyms and typo vocabulary are those of a build in one process."""
    from bot.search import builder

    import_files(library, [DATA / "trap_papers.jsonl"])
    builder.brought_up_to_date(library, workers=1, rebuild=True)
    alone, alone_lexicon = _answers(SearchEngine(library)), _lexicon_rows(library)
    monkeypatch.setattr(builder, "PARALLEL_FROM", 0)
    monkeypatch.setattr(builder, "RANGE", 7)  # 17 ranges shared by the two workers
    assert builder.brought_up_to_date(library, workers=2, rebuild=True).built
    assert _lexicon_rows(library) == alone_lexicon
    assert alone_lexicon["forms"] and alone_lexicon["surfaces"]
    assert _answers(SearchEngine(library)) == alone


def test_a_build_whose_worker_dies_fails_and_the_index_in_use_stays(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from bot.library import StoreError
    from bot.search import builder

    SearchEngine(library)
    before = current_generation(library.data_dir)

    def dies(*_: object) -> None:
        os._exit(3)  # in the forked worker: killed mid-build, no exception to pass back

    monkeypatch.setattr(builder, "PARALLEL_FROM", 0)
    monkeypatch.setattr(builder, "_analysed", dies)
    with pytest.raises(StoreError, match="exit 3"):
        builder.brought_up_to_date(library, workers=2, rebuild=True)
    assert current_generation(library.data_dir) == before
    assert set(ids(SearchEngine(reopen(library)), "kan")[:2]) == KAN_PAPERS


@given(st.text(alphabet="aZ09-'_ .,é", max_size=40))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_text_cut_by_string_methods_gives_the_word_regex_tokens(text: str) -> None:
    """ASCII text is cut with `str.translate` and `split`, not the word regex: the tokens must
    be the regex's (`a--b`, `-x'`, `it's`, `foo_bar` included)."""
    from bot.search.analyzer import WORD_RE, _tokens_of, index_tokens

    expected = " ".join(filter(None, (_tokens_of(w) for w in WORD_RE.findall(text))))
    assert index_tokens(text)[0] == expected


def test_what_each_shown_paper_matched_is_what_it_contains(trap_engine: SearchEngine) -> None:
    """Labels come from one bit-mask search per 20 alternatives: each must say exactly
    what a search for that alternative alone among the shown papers says."""
    from tantivy import Occur, Query

    from bot.search.engine import _alternatives
    from bot.search.ranking import alternative_query

    index = trap_engine.index
    many = " ".join(f"{w} kan llm" for w in ("neural", "network", "diffusion", "model"))
    for query in ("kan", "multi-agent llm", "kolmogorov arnold networks", many):
        results = trap_engine.search(query, 10).results
        groups = index.expansion.groups_for(query)
        assert results and len(_alternatives(groups)) >= (20 if query == many else 1)
        for result in results:
            num = trap_engine.library.catalog.num_of(result.paper.id)
            has = []
            for alt in _alternatives(groups):
                alone = alternative_query(index, alt)
                if alone is None:
                    continue
                only = Query.term_query(index.schema, "num", num)
                both = Query.boolean_query([(Occur.Must, only), (Occur.Must, alone)])
                if index.searcher.search(both, 1).hits:
                    has.append(alt.label)
            assert set(result.matched) <= set(has), (query, result.paper.id)
            assert result.matched or not has


@given(st.text(alphabet="ab -'(é", max_size=120), st.integers(min_value=1, max_value=8))
@settings(max_examples=400)
def test_the_last_words_before_a_parenthesis_are_those_of_the_whole_text(
    text: str, count: int
) -> None:
    from bot.search.aliases import WORD_RE, _last_words

    assert _last_words(text, count) == WORD_RE.findall(text)[-count:]
