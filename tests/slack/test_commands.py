"""`/papers` in every form, through signed HTTP requests into the real endpoint."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from bot.config import Settings
from bot.ingest.importer import import_files
from bot.models import Paper
from tests.conftest import DATA
from tests.slack.conftest import Bot, all_text, running_bot
from tests.slack.standin import TestSlack


def test_papers_kan_is_acknowledged_fast_and_answers_both_kan_papers(bot: Bot) -> None:
    started = time.monotonic()
    response, url = bot.command("kan")
    acked = time.monotonic() - started
    assert response.status_code == 200
    assert acked < 3.0, f"acknowledged after {acked:.2f}s"
    [answer] = bot.responses(url)
    assert answer["response_type"] == "ephemeral"
    assert answer["unfurl_links"] is False and answer["unfurl_media"] is False
    text = all_text(answer)
    assert "arxiv.org/abs/2408.08338" in text and "arxiv.org/abs/2503.10632" in text
    buttons = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {b["action_id"] for b in buttons} == {
        "papers_save",
        "papers_share",
        "papers_more",
        "papers_hide",
    }
    assert "matched: kan" in text
    assert answer["text"]


def test_help_with_no_text_and_with_help(bot: Bot) -> None:
    for text in ("", "help"):
        _, url = bot.command(text)
        [answer] = bot.responses(url)
        assert "/papers saved bibtex" in all_text(answer)


def test_an_id_gives_the_full_card(bot: Bot) -> None:
    _, url = bot.command("https://arxiv.org/abs/2408.08338v2")
    [answer] = bot.responses(url)
    text = all_text(answer)
    assert "TL;DR" in text and "multilayer perceptron" in text  # the abstract is there


def test_trending_lists_the_latest_day_by_upvotes(bot: Bot) -> None:
    _, url = bot.command("trending")
    [answer] = bot.responses(url)
    text = all_text(answer)
    assert "2026-08-03" in text
    assert text.index("2607.28229") < text.index("2607.26654")  # 4 upvotes before 3


def test_no_results_suggest_a_spelling(bot: Bot) -> None:
    _, url = bot.command("transfomrerz")
    [answer] = bot.responses(url)
    assert "Did you mean" in all_text(answer) and "transformers" in all_text(answer)


def test_saved_list_pages_and_bibtex(bot: Bot) -> None:
    library = bot.runtime.library
    ids = list(library.papers())[:14]
    for paper_id in ids:
        library.saves.add("U0ALICE", paper_id)
    _, url = bot.command("saved")
    [answer] = bot.responses(url)
    text = all_text(answer)
    assert "14 papers" in text and "Page 1 of 2" in text
    assert text.count('"papers_remove"') == 10
    _, url = bot.command("saved bibtex")
    [answer] = bot.responses(url)
    uploads = bot.standin.wait_for("file_upload")
    content = uploads[0].args["bytes"].decode()
    assert content.count("@misc{") == 14 and "archivePrefix = {arXiv}" in content
    assert "attached" in all_text(answer)


def test_short_bibtex_comes_in_a_code_block(bot: Bot) -> None:
    bot.runtime.library.saves.add("U0ALICE", "2408.08338")
    _, url = bot.command("saved bibtex")
    [answer] = bot.responses(url)
    text = answer["blocks"][0]["text"]["text"]
    assert text.startswith("```@misc{yang2024activation,\n")
    assert "eprint = {2408.08338}" in text


def test_follow_unfollow_following(bot: Bot) -> None:
    for text, expect in [
        ("follow speculative decoding", "Following"),
        ("follow speculative decoding", "already follow"),
        ("following", "speculative decoding"),
        ("unfollow speculative decoding", "Stopped following"),
        ("following", "You follow no topics"),
        ("follow", "Usage"),
    ]:
        _, url = bot.command(text)
        [answer] = bot.responses(url)
        assert expect in all_text(answer), text


def test_hostile_paper_text_reaches_slack_inert(bot: Bot, tmp_path) -> None:
    hostile = Paper(
        id="2501.99999",
        title="<!channel> Zorblax <@U123> <https://evil.example|arxiv.org> *bold* `tick`",
        abstract="We propose Zorblax <!here> <#C123> <!subteam^S1> & friends.",
        authors=["<!everyone>", "Eve <@U999>"],
        ai_keywords=["<!channel>"],
    )
    bot.runtime.library.upsert_many([hostile])
    _, url = bot.command("zorblax")
    [answer] = bot.responses(url)
    payload = json.dumps(answer)
    for live in [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U123>",
        "<#C123>",
        "<!subteam",
        "<https://evil.example",
        "<@U999>",
    ]:
        assert live not in payload
    assert "&lt;!channel&gt;" in payload


def test_import_then_search_in_slack(bot: Bot) -> None:
    import_files(bot.runtime.library, [DATA / "trap_papers.jsonl"])
    _, url = bot.command("kanban")
    [answer] = bot.responses(url)
    assert "9901.00001" in all_text(answer)


def test_a_team_that_saves_with_star_is_told_star_everywhere(
    settings: Settings, standin: TestSlack
) -> None:
    starred = replace(settings, save_emoji=["star"])
    with running_bot(starred, standin) as bot:
        response, url = bot.command("saved")
        assert response.status_code == 200
        [empty] = bot.responses(url)
        event = {"type": "app_home_opened", "user": "U0ALICE", "tab": "home", "event_ts": "1"}
        assert bot.event(event).status_code == 200
        [home] = standin.wait_for("views.publish")
        _, save_url = bot.click("papers_save", "2408.08338")
        [saved] = bot.responses(save_url or "")
    for shown in (all_text(empty), json.dumps(home.args["view"]), saved["text"]):
        assert ":star:" in shown and ":bookmark:" not in shown


def test_follows_that_could_never_alert_are_refused_saying_why(bot: Bot) -> None:
    for text, expect in [
        ("follow since:2024", "A date alone"),
        ("follow 2408.08338", "is one paper"),
        ("follow the of and", "too common"),
        ("follow " + "attention " * 400, "topic is too long"),
        ("follow since:abc", "is not a date"),
        ('follow author:"Tom Goldstein"', "Following"),
        ("follow author:goldstein", "Following"),
    ]:
        _, url = bot.command(text)
        [answer] = bot.responses(url)
        assert expect in all_text(answer), text
    assert bot.runtime.library.follows.of_user("U0ALICE") == [
        'author:"Tom Goldstein"',
        "author:goldstein",
    ]


def test_an_unknown_id_is_looked_up_with_a_word_first_then_the_answer_in_its_place(
    bot: Bot,
) -> None:
    _, url = bot.command("2601.00001")  # Hugging Face is unreachable in this test
    first, final = bot.responses(url, count=2)
    assert "looking it up" in first["text"]
    assert final.get("replace_original") in (True, "true")
    assert "could not be reached" in all_text(final)


def test_saved_with_an_odd_page_gets_usage_or_the_first_page(bot: Bot) -> None:
    for text in ("saved -1", "saved ²", "saved two"):
        _, url = bot.command(text)
        [answer] = bot.responses(url)
        assert "Usage: `/papers saved`" in all_text(answer), text
    _, url = bot.click("papers_page", "saved:²")
    [page] = bot.responses(url or "")
    assert "reading list" in all_text(page)


def test_a_description_finds_its_paper_by_meaning_in_slack(
    settings: Settings, standin: TestSlack
) -> None:
    """With the `[semantic]` extra on and the library's vectors made, `/papers` with a
    half-remembered description answers with the paper no word of it names."""
    import os

    from bot.library import Library
    from bot.search.semantic import Semantic

    library = Library(settings.data_dir, database_url=settings.database_url)
    Semantic(settings.data_dir, threads=os.cpu_count() or 1).catch_up(library)
    with running_bot(replace(settings, semantic=True), standin) as bot:
        _, url = bot.command("removing a few feed-forward units to reduce prejudice about groups")
        [answer] = bot.responses(url)
    text = all_text(answer)
    first_card = json.dumps(answer["blocks"][2])  # after the heading and a divider
    assert "2607.28319" in first_card, text[:500]
    assert "close in meaning" in text
