"""How fast `/papers ask ID QUESTION` answers on a 60-page paper: signed slash commands into
the real HTTP endpoint of a bot on the sample library, timed to the ack, to "Reading the
paper…" and to the answer reaching the loopback response_url. arXiv's HTML is a loopback
stand-in serving a 60-page LaTeXML paper (60 sections of 12 paragraphs, ~700 kB like a real
60-page page) written from the sample library's real abstracts; each fetched question asks a
new paper (fetched, parsed and kept), each stored one a paper read before.

The promise (issue #30): ack < 1 s; the answer within 10 s when the paper is fetched and
within 2 s when it is stored (p95).
"""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import latency_figures, latency_rows, served_bot
from bot.library import Library
from bot.models import Paper

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data"
QUESTIONS = [
    "what dataset do they evaluate on?",
    "how is the model trained?",
    "what are the limitations?",
    "which baseline do they compare with?",
    "how large is the model?",
]


def sixty_page_paper(sentences: list[str], sections: int = 60, paragraphs: int = 12) -> bytes:
    """A LaTeXML page of `sections` x `paragraphs` paragraphs of 5 real sentences each."""
    body, n = [], 0
    for s in range(1, sections + 1):
        body.append(
            f'<section class="ltx_section" id="S{s}"><h2 class="ltx_title ltx_title_section">'
            f'<span class="ltx_tag ltx_tag_section">{s} </span>Section {s}</h2>'
        )
        for p in range(1, paragraphs + 1):
            text = " ".join(sentences[(n + k) % len(sentences)] for k in range(5))
            n += 5
            paragraph = f'<p class="ltx_p">{html.escape(text)}</p>'
            body.append(f'<div class="ltx_para" id="S{s}.p{p}">{paragraph}</div>')
        body.append("</section>")
    page = (
        '<html><body><div class="ltx_page_main"><div class="ltx_page_content">'
        '<article class="ltx_document"><h1 class="ltx_title ltx_title_document">Sixty</h1>'
        + "".join(body)
        + "</article></div></div></body></html>"
    )
    return page.encode()


def measure(fetched: int = 10, stored: int = 30) -> dict[str, Any]:
    from bot.search import semantic
    from bot.text import split_sentences
    from tests.fakes.arxiv_html import ArxivHtmlStandIn

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        library = Library(data)
        sentences = [s for p in library.papers().values() for s in split_sentences(p.abstract)]
        page = sixty_page_paper(sentences)
        ids = [f"2601.{90000 + n:05d}" for n in range(fetched)]
        library.upsert_many([Paper(i, f"Sixty pages {i}", abstract=sentences[0]) for i in ids])
        standin = ArxivHtmlStandIn(FIXTURES / "ask", min_interval=0.9).start()
        standin.extra = {i: page for i in ids}
        times: dict[str, list[float]] = {"ack": [], "reading": [], "fetched": [], "stored": []}
        try:
            meaning = semantic.installed()  # as a bot runs by default: by meaning when installed
            with served_bot(data, arxiv_html_url=standin.url, semantic=meaning) as bot:
                import httpx

                with httpx.Client(timeout=30) as http:

                    def ask_once(n: int, paper_id: str, kind: str) -> None:
                        url = bot.standin.response_url(f"ask{n}")
                        query = f"ask {paper_id} {QUESTIONS[n % len(QUESTIONS)]}"
                        body, headers = bot.command(query, url)
                        before = len(bot.standin.calls_to("response_url"))
                        start = time.monotonic()  # the stand-in's clock for each call's time
                        http.post(bot.url, content=body, headers=headers)
                        times["ack"].append((time.monotonic() - start) * 1000)
                        calls = bot.standin.wait_for("response_url", before + 2, timeout=30)
                        mine = [c for c in calls if c.args.get("_path", "").endswith(f"ask{n}")]
                        times["reading"].append((mine[0].at - start) * 1000 if mine else 0.0)
                        times[kind].append(
                            ((mine[-1].at if mine else time.monotonic()) - start) * 1000
                        )

                    n = 0
                    for paper_id in ids:
                        ask_once(n, paper_id, "fetched")
                        n += 1
                    for k in range(stored):
                        ask_once(n, ids[k % len(ids)], "stored")
                        n += 1
        finally:
            standin.stop()
    return {kind: latency_figures(v) for kind, v in times.items() if v} | {
        "page_bytes": len(page),
        "by_meaning": meaning,
    }


def table(report: dict[str, Any]) -> str:
    labels = {
        "ack": "ack of /papers ask",
        "reading": '"Reading the paper…" shown',
        "fetched": "answer, paper fetched (promise: 10 s)",
        "stored": "answer, paper stored (promise: 2 s)",
    }
    lines = [
        "",
        f"Asking a 60-page paper ({report['page_bytes'] / 1e3:.0f} kB of HTML; by meaning too: "
        f"{report['by_meaning']}), ms",
        *latency_rows(report, labels, 42),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(measure()))
