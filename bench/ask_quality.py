"""How well `/papers ask` answers, on judged questions (tests/data/ask/judged_questions.json):
questions over a real arXiv HTML page (2508.08468, CC BY 4.0) and two pages written for the
tests in LaTeXML's shape, each with the sentences that answer it, and questions the paper
cannot answer.

- hit@3: an answerable question whose quotes include a right sentence;
- abstention: an unanswerable question answered with "I could not find that in the paper";
- wrong answers: quotes shown that hold no right sentence (answerable or not), over all
  questions.

Beside a baseline that quotes the first three sentences of the section nearest the question
(it always answers). The answer floor (`bot.search.passages.ANSWER_FLOOR`) is swept here: the floor
printed as best is the one with the most questions handled right (a hit, or an abstention
where there is no answer); on a tie, the one with fewer wrong answers, then the lowest.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from bot.search.passages import (
    ANSWER_FLOOR,
    Embed,
    answer_from,
    closest_sections,
    sentences_of,
)
from bot.sources.arxiv_html import FullText, parse_full_text

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "ask"
FLOORS = [round(0.05 * n, 2) for n in range(0, 20)]


def judged() -> list[dict[str, Any]]:
    return list(json.loads((DATA / "judged_questions.json").read_text()))


def papers() -> dict[str, FullText]:
    return {
        path.stem: parse_full_text(path.read_bytes(), path.stem)
        for path in sorted(DATA.glob("*.html"))
    }


def _right(quotes: list[str], answers: list[str]) -> bool:
    return any(a in q for q in quotes for a in answers)


def baseline_quotes(full: FullText, question: str) -> list[str]:
    """The first three sentences of the nearest section."""
    nearest = closest_sections(full, question, 1)
    if not nearest:
        return []
    anchor = nearest[0][1].rpartition("#")[2] if "#" in nearest[0][1] else ""
    return [s.text for s in sentences_of(full) if s.passage.anchor == anchor][:3]


def score(outcomes: list[tuple[list[str], list[str]]]) -> dict[str, float]:
    """outcomes: (quotes shown, right answers) per question."""
    answerable = [(q, a) for q, a in outcomes if a]
    unanswerable = [(q, a) for q, a in outcomes if not a]
    hits = sum(_right(q, a) for q, a in answerable)
    abstained = sum(not q for q, _ in unanswerable)
    wrong = sum(bool(q) and not _right(q, a) for q, a in outcomes)
    return {
        "questions": len(outcomes),
        "hit_at_3": hits / len(answerable) if answerable else 0.0,
        "abstention": abstained / len(unanswerable) if unanswerable else 0.0,
        "wrong_answers": wrong / len(outcomes) if outcomes else 0.0,
        "right": (hits + abstained) / len(outcomes) if outcomes else 0.0,
    }


def embedding() -> Embed | None:
    """The packaged embedding model, when the `[semantic]` extra is installed."""
    from bot.search import semantic

    if not semantic.installed():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        embedder = semantic.Semantic(Path(tmp)).embedder()
    return lambda texts: embedder.embed(texts).tolist()


def measure() -> dict[str, Any]:
    texts, questions = papers(), judged()
    meaning = embedding()

    def run(floor: float, embed: Embed | None = None) -> dict[str, float]:
        outcomes = []
        for item in questions:
            answer = answer_from(texts[item["paper"]], item["question"], floor=floor, embed=embed)
            outcomes.append(([q.text for q in answer.quotes], item["answers"]))
        return score(outcomes)

    sweep = {floor: run(floor) for floor in FLOORS}
    best = max(FLOORS, key=lambda f: (sweep[f]["right"], -sweep[f]["wrong_answers"], -f))
    base = score(
        [(baseline_quotes(texts[i["paper"]], i["question"]), i["answers"]) for i in questions]
    )
    return {
        "questions": len(questions),
        "answerable": sum(1 for i in questions if i["answers"]),
        "floor_in_use": ANSWER_FLOOR,
        "best_floor": best,
        "ours": sweep[ANSWER_FLOOR] if ANSWER_FLOOR in sweep else run(ANSWER_FLOOR),
        "baseline": base,
        "ours_with_meaning": run(ANSWER_FLOOR, meaning) if meaning else None,
        "sweep": {str(f): sweep[f] for f in FLOORS},
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        "",
        f"Asking a paper: {report['questions']} judged questions "
        f"({report['answerable']} answerable)",
        f"{'':40} {'hit@3':>7} {'abstain':>8} {'wrong':>7} {'right':>7}",
    ]

    def row(label: str, r: dict[str, float]) -> str:
        return (
            f"{label:40} {r['hit_at_3']:>7.2f} {r['abstention']:>8.2f} "
            f"{r['wrong_answers']:>7.2f} {r['right']:>7.2f}"
        )

    lines.append(row(f"quotes, floor {report['floor_in_use']}", report["ours"]))
    if report["ours_with_meaning"]:
        lines.append(row("quotes, by meaning too", report["ours_with_meaning"]))
    lines.append(row("baseline: first sentences, best section", report["baseline"]))
    lines.append("the floor swept:")
    for floor, r in report["sweep"].items():
        lines.append(row(f"  floor {floor}", r))
    lines.append(f"best floor (most right; then fewest wrong, lowest): {report['best_floor']}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(measure()))
