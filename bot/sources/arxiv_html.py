"""arXiv's HTML full texts (LaTeXML) as passages a question can be answered from.

Only `article.ltx_document` is the paper. Each paragraph (`div.ltx_para`, not one nested in
another) and each figure or table caption becomes a `Passage`, labelled by the section it
stands in (its number, `3.2`, or its title when unnumbered) and its place there (¶4), with the
section's anchor (`S3.SS2`, as `https://arxiv.org/html/ID#S3.SS2` links it). Equations are
their LaTeX `alttext`; references, footnotes, conversion errors and the page's navigation are
dropped. Classes are matched as tokens: pages add classes (`ltx_font_smallcaps`) freely.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import lxml.html
from lxml import etree

SECTION_KINDS = (
    "ltx_section",
    "ltx_subsection",
    "ltx_subsubsection",
    "ltx_appendix",
    "ltx_paragraph",
)
DROPPED = ("ltx_bibliography", "ltx_note", "ltx_ERROR", "ltx_pagination", "ltx_TOC")
_SPACES = re.compile(r"\s+")
_TAG_END = re.compile(r"^[\s:.]+|[\s:.]+$")


class FullTextError(ValueError):
    """The page is not an arXiv LaTeXML paper (no `article.ltx_document`)."""


@dataclass
class Passage:
    anchor: str  # the section's (or figure's) id on the page: "S3.SS2", "S4.F2"; "" abstract
    label: str  # "§3.2 ¶4", "Figure 2", "Abstract ¶1"
    text: str


@dataclass
class Section:
    anchor: str
    label: str  # "§3.2 Training" / "Appendix A Proofs"
    passages: int = 0


@dataclass
class FullText:
    paper_id: str
    source: str  # "html" (arXiv's LaTeXML page) or "abstract" (no HTML for this paper)
    passages: list[Passage] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_record(record: dict[str, Any]) -> FullText:
        return FullText(
            paper_id=str(record["paper_id"]),
            source=str(record["source"]),
            passages=[Passage(**p) for p in record.get("passages", [])],
            sections=[Section(**s) for s in record.get("sections", [])],
        )


def _has_class(kind: str) -> str:
    return f'contains(concat(" ", normalize-space(@class), " "), " {kind} ")'


def _classes(element: Any) -> set[str]:
    return set(str(element.get("class") or "").split())


def normal(text: str) -> str:
    """Whitespace folded to single spaces, as quotes are shown."""
    return _SPACES.sub(" ", text).strip()


def parse_full_text(html: bytes | str, paper_id: str) -> FullText:
    """The passages of an arXiv HTML page; `FullTextError` when it holds no paper."""
    try:
        root = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError) as error:
        raise FullTextError(f"not an HTML page: {error}") from error
    found = root.xpath(f"//article[{_has_class('ltx_document')}]")
    if not found:
        raise FullTextError("no article.ltx_document: not an arXiv LaTeXML page")
    article = found[0]
    _drop_clutter(article)
    _math_as_alttext(article)
    full = FullText(paper_id, "html")
    _abstract(article, full)
    _body(article, full)
    return full


def _drop_clutter(article: Any) -> None:
    for kind in DROPPED:
        for element in article.xpath(f".//*[{_has_class(kind)}]"):
            element.drop_tree()
    for element in article.xpath(".//nav | .//header | .//footer | .//script | .//style"):
        element.drop_tree()


def _math_as_alttext(article: Any) -> None:
    """Each formula as its LaTeX source (what MathML's text would garble)."""
    for math in article.xpath(".//math"):
        alt = math.get("alttext") or ""
        tail = math.tail
        replacement = etree.Element("span")
        replacement.text = alt
        replacement.tail = tail
        math.getparent().replace(math, replacement)


def _abstract(article: Any, full: FullText) -> None:
    abstracts = article.xpath(f".//div[{_has_class('ltx_abstract')}]")
    if not abstracts:
        return
    paragraphs = abstracts[0].xpath(f".//p[{_has_class('ltx_p')}]")
    texts = [normal(p.text_content()) for p in paragraphs]
    texts = [t for t in texts if t]
    for n, text in enumerate(texts, start=1):
        full.passages.append(Passage("", f"Abstract ¶{n}", text))
    if texts:
        full.sections.append(Section("", "Abstract", len(texts)))


def _body(article: Any, full: FullText) -> None:
    counts: dict[str, int] = {}
    sections: dict[str, Section] = {}
    query = f".//div[{_has_class('ltx_para')}] | .//figcaption[{_has_class('ltx_caption')}]"
    for element in article.xpath(query):
        if element.tag == "div" and _inside_para(element):
            continue  # a list item's paragraph: its outer paragraph holds its text
        section = _section_of(element)
        if section is None:
            continue
        text = normal(element.text_content())
        if not text:
            continue
        anchor, short, heading = section
        if anchor not in sections:
            sections[anchor] = Section(anchor, heading)
            full.sections.append(sections[anchor])
        if element.tag == "figcaption":
            label, text = _caption(element, text)
            figure = element.getparent()
            full.passages.append(Passage(str(figure.get("id") or anchor), label, text))
        else:
            counts[anchor] = counts.get(anchor, 0) + 1
            full.passages.append(Passage(anchor, f"{short} ¶{counts[anchor]}", text))
        sections[anchor].passages += 1


def _inside_para(element: Any) -> bool:
    return any("ltx_para" in _classes(a) for a in element.iterancestors())


def _section_of(element: Any) -> tuple[str, str, str] | None:
    """(anchor, short label, heading) of the nearest section around `element`; None outside
    any."""
    for ancestor in element.iterancestors():
        classes = _classes(ancestor)
        if classes & set(SECTION_KINDS) and ancestor.get("id"):
            return (str(ancestor.get("id")), *_heading(ancestor))
        if "ltx_abstract" in classes:
            return None
    return None


def _heading(section: Any) -> tuple[str, str]:
    """(`§3.2`, `§3.2 Training`) from the section's title; an appendix is `Appendix A`, a
    section without a number goes by its title."""
    titles = section.xpath(f"./*[{_has_class('ltx_title')}]")
    if not titles:
        return f"§{section.get('id')}", f"§{section.get('id')}"
    title = titles[0]
    tags = title.xpath(f".//*[{_has_class('ltx_tag')}]")
    tag = normal(tags[0].text_content()) if tags else ""
    number = _TAG_END.sub("", tag)
    name = _TAG_END.sub("", normal(normal(title.text_content()).removeprefix(tag)))
    if not number:
        return name, name
    if "ltx_appendix" in _classes(section):
        short = number if number.lower().startswith("appendix") else f"Appendix {number}"
    else:
        short = f"§{number}"
    return short, normal(f"{short} {name}")


def _caption(caption: Any, text: str) -> tuple[str, str]:
    """("Figure 2", the caption without its tag)."""
    tags = caption.xpath(f".//*[{_has_class('ltx_tag')}]")
    if not tags:
        return "Caption", text
    tag = normal(tags[0].text_content())
    label = _TAG_END.sub("", tag)
    if label.startswith("("):  # a sub-figure, "(b)": named with its figure, "Figure 7(b)"
        outer = caption.getparent().getparent()
        while outer is not None and outer.tag != "figure":
            outer = outer.getparent()
        own = outer.xpath(f"./figcaption//*[{_has_class('ltx_tag')}]") if outer is not None else []
        if own:
            label = _TAG_END.sub("", normal(own[0].text_content())) + label
    return label, normal(text.removeprefix(tag))


def abstract_only(paper_id: str, abstract: str) -> FullText:
    """A paper without an HTML page: its abstract is all there is to quote."""
    text = normal(abstract)
    passages = [Passage("", "Abstract", text)] if text else []
    return FullText(paper_id, "abstract", passages, [Section("", "Abstract", len(passages))])
