"""Test helper: the element structure of an HTML document, for golden comparisons."""

from __future__ import annotations

from html.parser import HTMLParser

KEPT_ATTRS = ("lang", "dir", "class", "align", "role", "width", "start")
VOID = {"br", "img", "meta", "hr", "link", "input"}


class _Shape(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.depth = 0
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        amap = dict(attrs)
        self.elements.append((tag, amap))
        kept = " ".join(f'{k}="{amap[k]}"' for k in KEPT_ATTRS if k in amap)
        self.lines.append("  " * self.depth + f"<{tag}{' ' + kept if kept else ''}>")
        if tag not in VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag not in VOID:
            self.depth -= 1


def shape(html: str) -> str:
    parser = _Shape()
    parser.feed(html)
    return "\n".join(parser.lines) + "\n"


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Shape()
    parser.feed(html)
    return parser.elements
