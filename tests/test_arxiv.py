"""arXiv as a second source: the real recorded API responses mapped field by field, a
category backfill against a loopback arXiv that refuses anyone faster than one request per
3 s, one record for a paper both sources know, and `cat:` in search."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot import __version__
from bot.ingest.arxiv_fetch import fetch_category
from bot.library import Library
from bot.render.search_text import message_text
from bot.search import SearchEngine
from bot.sources.arxiv import FeedError, parse_feed
from bot.sources.arxiv_client import ArxivClient, ArxivError
from bot.sources.hf import parse_daily_row
from bot.sources.polite import RateLimit
from tests.conftest import run_papers_bot
from tests.fakes.arxiv import BY_ID, SEARCH, ArxivStandIn
from tests.fakes.hf import HFStandIn


@pytest.fixture
def arxiv(fixtures: Path) -> Iterator[ArxivStandIn]:
    standin = ArxivStandIn(fixtures).start()
    yield standin
    standin.stop()


def recorded(fixtures: Path, name: str) -> bytes:
    return (fixtures / "arxiv_fixtures" / name).read_bytes()


def one(fixtures: Path, paper_id: str):  # type: ignore[no-untyped-def]
    [paper] = parse_feed(recorded(fixtures, BY_ID[paper_id])).papers
    return paper


def test_the_id_loses_its_version(fixtures: Path) -> None:
    assert one(fixtures, "1605.08386").id == "1605.08386"
    assert one(fixtures, "astro-ph/0601001").id == "astro-ph/0601001"  # old style kept whole


def test_title_and_abstract_lose_the_submissions_line_breaks(fixtures: Path) -> None:
    papers = parse_feed(recorded(fixtures, SEARCH)).papers
    assert all("\n" not in p.title and "  " not in p.title for p in papers)
    assert all("\n" not in p.abstract and "  " not in p.abstract for p in papers)
    assert one(fixtures, "1605.08386").title == "Heat-bath random walks with Markov bases"
    assert one(fixtures, "1605.08386").abstract.startswith("Graphs on lattice points are studied")


def test_authors_in_order_with_their_accents(fixtures: Path) -> None:
    assert one(fixtures, "1605.08386").authors == ["Caprice Stanley", "Tobias Windisch"]
    names = [a for p in parse_feed(recorded(fixtures, SEARCH)).papers for a in p.authors]
    assert any(not name.isascii() for name in names)


def test_published_is_the_first_versions_day(fixtures: Path) -> None:
    assert one(fixtures, "1605.08386").published == "2016-05-26"


def test_categories_primary_first(fixtures: Path) -> None:
    assert one(fixtures, "1605.08386").categories == ["math.CO", "math.ST"]
    assert one(fixtures, "astro-ph/0601001").categories[0] == "astro-ph"


def test_comment_doi_and_journal_ref(fixtures: Path) -> None:
    assert one(fixtures, "1605.08386").comment == "20 pages, 3 figures"
    assert one(fixtures, "astro-ph/0601001").journal_ref == "ActaAstron.56:1-50,2006"
    by_id = {p.id: p for p in parse_feed(recorded(fixtures, SEARCH)).papers}
    assert by_id["2202.12139"].doi == "10.1109/ICSTW55395.2022.00035"
    assert by_id["2202.12139"].journal_ref.startswith("Artificial Intelligence in Software")  # type: ignore[union-attr]
    assert all(p.source == "arxiv" for p in by_id.values())


def test_a_page_says_how_many_papers_match_in_all(fixtures: Path) -> None:
    feed = parse_feed(recorded(fixtures, SEARCH))
    assert feed.total == 214881 and len(feed.papers) == 10
    empty = parse_feed(recorded(fixtures, BY_ID["0000.0000"]))
    assert empty.total == 0 and empty.papers == []


def test_the_apis_error_entry_and_hostile_xml_are_clear_errors(fixtures: Path) -> None:
    with pytest.raises(FeedError, match="incorrect id format for abc"):
        parse_feed(recorded(fixtures, BY_ID["abc"]))
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><feed>&lol2;</feed>'
    )
    with pytest.raises(FeedError):
        parse_feed(bomb)
    with pytest.raises(FeedError, match="not an Atom feed"):
        parse_feed(b"<html>502 Bad Gateway</html")


def test_an_http_400_is_reported_with_what_arxiv_said_and_not_retried(
    arxiv: ArxivStandIn,
) -> None:
    with ArxivClient(arxiv.url, rate=RateLimit(1, 0.01)) as client:
        arxiv.min_interval = 0.0
        with pytest.raises(ArxivError, match="incorrect id format for abc"):
            client._feed({"id_list": "abc"})
    assert len(arxiv.requests) == 1


def test_a_category_backfill_of_10000_papers_is_never_refused(
    arxiv: ArxivStandIn, empty_library: Library
) -> None:
    arxiv.categories["cs.LG"] = 10_000
    with ArxivClient(arxiv.url) as client:
        report = fetch_category(
            empty_library, client, "cs.LG", date(2025, 10, 1), date(2025, 10, 31)
        )
    assert report.error is None and report.found == 10_000
    assert arxiv.refused == 0
    assert len(empty_library) == 10_000
    asked = arxiv.requests[0]
    assert asked["search_query"] == "cat:cs.LG AND submittedDate:[202510010000 TO 202510312359]"
    assert asked["sortBy"] == "submittedDate"
    assert [int(r["start"]) for r in arxiv.requests] == list(range(0, 10_000, 2_000))
    assert all(ua.startswith(f"papers-bot/{__version__} ") for ua in arxiv.user_agents)


def test_a_paper_from_both_sources_is_one_record_with_the_best_of_each(
    fixtures: Path, empty_library: Library
) -> None:
    library = empty_library
    sotawhat = "lucas-m-lopes__sotawhat__tests__fixtures__hf_daily_papers.json"
    rows = json.loads((fixtures / "hf_fixtures" / sotawhat).read_text())
    from_hf = parse_daily_row(rows[0])
    [from_arxiv] = parse_feed(recorded(fixtures, BY_ID["1605.08386"])).papers
    from_arxiv.id = from_hf.id  # the same paper, as arXiv describes it
    library.upsert_many([from_hf])
    library.upsert_many([from_arxiv])
    merged = library.get(from_hf.id)
    assert merged is not None
    assert merged.source == "arxiv,hf-daily"
    assert merged.upvotes == from_hf.upvotes and merged.ai_summary == from_hf.ai_summary
    assert merged.listed == from_hf.listed  # still a Daily Papers day: digests keep it
    assert merged.categories == ["math.CO", "math.ST"] and merged.comment == "20 pages, 3 figures"


def test_cat_narrows_a_search_to_an_arxiv_category(fixtures: Path, library: Library) -> None:
    library.upsert_many(parse_feed(recorded(fixtures, SEARCH)).papers)
    library.upsert_many(parse_feed(recorded(fixtures, BY_ID["1605.08386"])).papers)
    engine = SearchEngine(library)
    ids = [r.paper.id for r in engine.search("random walks cat:math.CO", 10).results]
    assert ids == ["1605.08386"]
    assert [r.paper.id for r in engine.search("cat:MATH.co", 10).results] == ["1605.08386"]
    testing = engine.search("testing cat:cs.SE", 10).results
    assert testing and all("cs.SE" in r.paper.categories for r in testing)
    assert engine.search("random walks cat:cs.CV", 10).results == []
    bare = engine.search("cat:", 10)
    assert bare.problem == "bad-filter" and "cat:cs.LG" in message_text(bare)
    odd = engine.search("cat:../../etc", 10)
    assert odd.problem == "bad-filter" and "not an arXiv category" in message_text(odd)


def test_fetch_arxiv_on_the_command_line(tmp_path: Path, arxiv: ArxivStandIn) -> None:
    arxiv.categories["cs.CL"] = 40
    env = {
        **os.environ,
        "ARXIV_API_URL": arxiv.url,
        "PAPERS_DATA_DIR": str(tmp_path / "data"),
        "PAPERS_SAMPLE_DATA": "0",
    }
    done = run_papers_bot(tmp_path, "fetch", "--arxiv", "cs.CL", "--since", "2025-10-01", **env)
    assert done.returncode == 0, done.stderr
    assert "arXiv cs.CL: 40 papers; added 40" in done.stdout
    found = run_papers_bot(tmp_path, "search", "--json", "--limit", "50", "cat:cs.CL", **env)
    assert found.returncode == 0 and found.stdout.count('"id": "2510.') == 40
    wrong = run_papers_bot(tmp_path, "fetch", "--arxiv", "cs LG!", **env)
    assert wrong.returncode == 2 and "categories such as cs.LG" in wrong.stderr


def test_the_daily_job_also_pulls_the_configured_categories(
    tmp_path: Path, arxiv: ArxivStandIn, hf: HFStandIn
) -> None:
    from bot.config import load_settings
    from bot.daily import daily_job
    from bot.delivery import PrintMessenger
    from bot.runtime import Runtime

    arxiv.categories["cs.LG"] = 12
    settings = load_settings(
        {
            "HF_API_URL": hf.url,
            "ARXIV_API_URL": arxiv.url,
            "PAPERS_ARXIV_CATEGORIES": "cs.LG",
            "PAPERS_DATA_DIR": str(tmp_path / "data"),
            "PAPERS_SAMPLE_DATA": "0",
        }
    )
    runtime = Runtime.open(settings)
    daily_job(settings, runtime, PrintMessenger(lambda text: None), date(2026, 7, 31))
    assert arxiv.requests and arxiv.requests[0]["search_query"].startswith("cat:cs.LG AND")
    found = runtime.search.search("cat:cs.LG", 20).results
    assert len(found) == 12  # searchable: the job re-indexed after both sources
    assert any(path == "/daily_papers" for path, _ in hf.requests)  # Hugging Face first


def test_a_refused_request_is_retried_after_the_wait_arxiv_asks_for(
    arxiv: ArxivStandIn,
) -> None:
    """A client configured faster than arXiv allows is told 429 (Retry-After: 3) and waits
    that long before asking again; the answer then arrives."""
    arxiv.categories["cs.LG"] = 5
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with ArxivClient(arxiv.url, rate=RateLimit(10, 1.0), sleep=sleep) as client:
        client.search("cat:cs.LG AND submittedDate:[x]", 0, 10)
        feed = client.search("cat:cs.LG AND submittedDate:[x]", 0, 10)
    assert arxiv.refused == 1 and waits[-1] == 3.0
    assert len(feed.papers) == 5


def test_the_entrys_links_are_the_papers_own(fixtures: Path) -> None:
    """The abs page, the PDF and the DOI link each entry gives, versions aside, are the
    paper's `url`, `pdf_url` and `doi_url` (derived from its id and DOI, so never stale)."""
    from defusedxml import ElementTree

    root = ElementTree.fromstring(recorded(fixtures, SEARCH))
    papers = {p.id: p for p in parse_feed(recorded(fixtures, SEARCH)).papers}
    atom = "{http://www.w3.org/2005/Atom}"
    for entry in root.findall(f"{atom}entry"):
        links = {
            link.get("title") or link.get("rel"): link.get("href")
            for link in entry.findall(f"{atom}link")
        }
        paper = papers[links["alternate"].rsplit("/abs/", 1)[1].rsplit("v", 1)[0]]
        assert links["alternate"].startswith(paper.url + "v")
        assert links["pdf"].startswith(paper.pdf_url + "v")
        assert links.get("doi") == paper.doi_url
