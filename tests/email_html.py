"""Read the HTML part of an email as a mail client would see it: elements with their classes
and inline styles, the style sheets left in the head, and the rules of their @media blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser

# Elements that never have content or an end tag.
VOID = {"meta", "link", "br", "img", "hr", "input", "col", "area", "base", "source", "wbr"}


@dataclass
class Element:
    """One element: its tag, attributes, and the tags of the elements it sits in."""

    tag: str
    attributes: dict[str, str]
    # Outermost first.
    ancestors: tuple[str, ...] = ()

    @property
    def classes(self) -> set[str]:
        return set(self.attributes.get("class", "").split())

    @property
    def style(self) -> dict[str, str]:
        return declarations(self.attributes.get("style", ""))


@dataclass
class Document:
    """What the parser found, in document order."""

    elements: list[Element] = field(default_factory=list)
    style_sheets: list[str] = field(default_factory=list)
    # The first text in <body> that is not whitespace, and the element holding it.
    first_text: tuple[Element, str] | None = None


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.document = Document()
        self.open: list[Element] = []
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ancestors = tuple(element.tag for element in self.open)
        element = Element(tag, {name: value or "" for name, value in attrs}, ancestors)
        self.document.elements.append(element)
        if tag == "body":
            self.in_body = True
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self.open:
            return
        current = self.open[-1]
        if current.tag == "style":
            self.document.style_sheets.append(data)
            return
        if self.in_body and data.strip() and self.document.first_text is None:
            self.document.first_text = (current, data.strip())


def parse(html: str) -> Document:
    """Parse an email's HTML part."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.document


def declarations(text: str) -> dict[str, str]:
    """`font-size: 24px !important; margin: 0` as {"font-size": "24px !important", ...}."""
    found = {}
    for declaration in text.split(";"):
        name, colon, value = declaration.partition(":")
        if colon:
            found[name.strip().lower()] = value.strip()
    return found


@dataclass(frozen=True)
class Rule:
    """One rule of a style sheet: its selectors and declarations."""

    selectors: tuple[str, ...]
    declarations: dict[str, str]


def media_blocks(sheet: str) -> list[tuple[str, list[Rule]]]:
    """The @media blocks of a style sheet: each one's query and rules."""
    blocks = []
    for match in re.finditer(r"@media([^{]*)\{", sheet):
        depth, start = 1, match.end()
        index = start
        while depth:
            depth += {"{": 1, "}": -1}.get(sheet[index], 0)
            index += 1
        blocks.append((match.group(1).strip(), rules(sheet[start : index - 1])))
    return blocks


def rules(sheet: str) -> list[Rule]:
    """The plain rules (no at-rules) of a style sheet."""
    return [
        Rule(tuple(s.strip() for s in selectors.split(",")), declarations(body))
        for selectors, body in re.findall(r"([^{}@]+)\{([^{}]*)\}", sheet)
    ]


def matches(selector: str, element: Element) -> bool:
    """Whether a simple selector (`tag`, `.class`, `tag.class`) selects the element."""
    match = re.fullmatch(r"([a-z][a-z0-9]*)?((?:\.[\w-]+)*)", selector)
    assert match, f"the check understands simple selectors only, not {selector!r}"
    tag, classes = match.group(1), set(match.group(2).split(".")) - {""}
    return (tag is None or tag == element.tag) and classes <= element.classes
