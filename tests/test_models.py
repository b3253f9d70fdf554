from hypothesis import given
from hypothesis import strategies as st

from bot.models import Paper, canonical_id


def test_every_spelling_of_an_id_is_the_same_paper() -> None:
    spellings = [
        "2408.08338",
        "2408.08338v2",
        "arXiv:2408.08338",
        "arxiv:2408.08338v1",
        "https://arxiv.org/abs/2408.08338",
        "http://arxiv.org/abs/2408.08338v3",
        "https://arxiv.org/pdf/2408.08338v1",
        "https://arxiv.org/pdf/2408.08338v1.pdf",
        "https://huggingface.co/papers/2408.08338",
        "<https://arxiv.org/abs/2408.08338>",
        "  2408.08338  ",
    ]
    assert {canonical_id(s) for s in spellings} == {"2408.08338"}


def test_old_style_ids() -> None:
    assert canonical_id("hep-th/9901001") == "hep-th/9901001"
    assert canonical_id("hep-th/9901001v2") == "hep-th/9901001"
    assert canonical_id("https://arxiv.org/abs/math.GT/0309136") == "math.GT/0309136"
    assert canonical_id("arXiv:cond-mat/0102536v1") == "cond-mat/0102536"


def test_four_digit_ids_from_before_2015() -> None:
    assert canonical_id("1412.6980v9") == "1412.6980"


def test_things_that_are_not_ids() -> None:
    for text in ["kan", "", "2408", "2408.083", "https://example.com/abs/2408.08338", "x" * 500]:
        assert canonical_id(text) is None


@given(st.text(max_size=200))
def test_canonical_id_never_raises_and_is_idempotent(text: str) -> None:
    result = canonical_id(text)
    if result is not None:
        assert canonical_id(result) == result


def test_paper_record_round_trip_ignores_unknown_fields() -> None:
    paper = Paper(id="2408.08338", title="T", authors=["A B"], upvotes=3)
    record = paper.to_record() | {"unknown": 1}
    assert Paper.from_record(record) == paper


def test_paper_record_of_an_older_release_gets_the_missing_fields_defaults() -> None:
    record = {"id": "2408.08338", "title": "T", "abstract": "A", "upvotes": 3}
    paper = Paper.from_record(record)
    assert (paper.title, paper.abstract, paper.upvotes) == ("T", "A", 3)
    assert paper.categories == [] and paper.llm_summary is None
