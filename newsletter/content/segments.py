"""Inline text with numbered pseudo-tags: the unit a translator sees in a catalog.

A paragraph such as ``Read *this* on [our site](https://x.org)`` becomes the
msgid ``Read <1>this</1> on <2>our site</2>`` plus a tuple of ``Tag`` values
that remember what ``<1>`` and ``<2>`` stand for (emphasis; a link and its
target). Link targets and code stay outside the msgid, so translators cannot
break them and a changed URL does not invalidate a translation. A translated
string is parsed back against the same tags; it may reorder them but must use
each exactly once and keep them properly nested.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from newsletter.reasons import Reason

PSEUDO_TAG = re.compile(r"<(/?)(\d+)(/?)>")
SAFE_SCHEMES = ("https://", "http://", "mailto:", "tel:")

# Tag kinds that wrap text, and kinds that stand alone (self-closing ``<n/>``).
PAIRED = ("em", "strong", "link")
EMPTY = ("br", "code")
# What TagMismatch.problem can say (its code); the admin pages say each in words
TAG_CODES = ("tag_unknown", "tag_malformed", "tag_self_closing", "tag_needs_close", "tag_twice",
             "tag_not_open", "tag_not_closed", "tags_missing")


@dataclass(frozen=True)
class Tag:
    number: int
    kind: str  # one of PAIRED or EMPTY
    href: str = ""  # link target
    title: str = ""  # link title
    code: str = ""  # code text, never translated


@dataclass(frozen=True)
class Segment:
    """A translatable string and the meaning of its pseudo-tags."""

    text: str
    tags: tuple[Tag, ...] = ()

    @property
    def plain(self) -> str:
        """The text without pseudo-tags (code spans kept), e.g. for subjects and alt text."""
        return "".join(n.text for n in _flatten(self.nodes()))

    def nodes(self) -> list[Node]:
        return parse(self.text, self.tags)

    def with_text(self, text: str) -> Segment:
        """The same tags around another text, e.g. a translation."""
        return Segment(text=text, tags=self.tags)


@dataclass(frozen=True)
class Node:
    """A parsed piece of a segment: plain text (tag is None) or a tag with children."""

    text: str = ""
    tag: Tag | None = None
    children: tuple[Node, ...] = ()


class TagMismatch(ValueError):
    """A translated string does not use the source's pseudo-tags exactly once each;
    ``problem`` says how, in English and as a code the admin pages translate."""

    def __init__(self, code: str, text: str, **params: str):
        super().__init__(text)
        self.problem = Reason(code, text, **params)


def check_tags(text: str, tags: Sequence[Tag]) -> list[Reason]:
    """Problems with the pseudo-tags of ``text`` measured against ``tags`` (empty: fine)."""
    try:
        parse(text, tags)
    except TagMismatch as err:
        return [err.problem]
    return []


def parse(text: str, tags: Sequence[Tag]) -> list[Node]:
    """Parse ``text`` into nodes; raise ``TagMismatch`` when the tags do not fit."""
    by_number = {t.number: t for t in tags}
    seen: set[int] = set()
    stack: list[tuple[Tag | None, list[Node]]] = [(None, [])]
    pos = 0
    for match in PSEUDO_TAG.finditer(text):
        if match.start() > pos:
            stack[-1][1].append(Node(text=text[pos : match.start()]))
        pos = match.end()
        closing, number, selfclosing = match.group(1), int(match.group(2)), match.group(3)
        tag = by_number.get(number)
        if tag is None:
            raise TagMismatch("tag_unknown", f"unknown tag {match.group(0)}", tag=match.group(0))
        if closing and selfclosing:
            raise TagMismatch("tag_malformed", f"malformed tag {match.group(0)}",
                              tag=match.group(0))
        if selfclosing or tag.kind in EMPTY:
            if not selfclosing or tag.kind not in EMPTY:
                if tag.kind in EMPTY:
                    raise TagMismatch("tag_self_closing", f"tag {number} must be written "
                                      f"<{number}/>", tag=f"<{number}/>")
                raise TagMismatch("tag_needs_close", f"tag {number} needs </{number}>",
                                  tag=f"</{number}>")
            if number in seen:
                raise TagMismatch("tag_twice", f"tag <{number}/> used twice", tag=f"<{number}/>")
            seen.add(number)
            stack[-1][1].append(Node(tag=tag))
        elif not closing:
            if number in seen:
                raise TagMismatch("tag_twice", f"tag <{number}> used twice", tag=f"<{number}>")
            seen.add(number)
            stack.append((tag, []))
        else:
            open_tag, children = stack[-1]
            if open_tag is None or open_tag.number != number:
                raise TagMismatch("tag_not_open", f"</{number}> closes a tag that is not open",
                                  tag=f"</{number}>")
            stack.pop()
            stack[-1][1].append(Node(tag=open_tag, children=tuple(children)))
    if pos < len(text):
        stack[-1][1].append(Node(text=text[pos:]))
    if len(stack) > 1:
        unclosed = f"<{stack[-1][0].number}>"  # type: ignore[union-attr]
        raise TagMismatch("tag_not_closed", f"{unclosed} is never closed", tag=unclosed)
    missing = sorted(set(by_number) - seen)
    if missing:
        spelled = ", ".join(_spell(by_number[n]) for n in missing)
        raise TagMismatch("tags_missing", "missing " + spelled, tags=spelled)
    return stack[0][1]


def _spell(tag: Tag) -> str:
    return f"<{tag.number}/>" if tag.kind in EMPTY else f"<{tag.number}>…</{tag.number}>"


def _flatten(nodes: Sequence[Node]) -> Iterator[Node]:
    for node in nodes:
        if node.tag is None:
            yield node
        elif node.tag.kind == "code":
            yield Node(text=node.tag.code)
        elif node.tag.kind == "br":
            yield Node(text=" ")
        else:
            yield from _flatten(node.children)


def _bare(text: str) -> str:
    """Text without bidi isolates and outer spaces, to compare with a link target."""
    return text.translate({0x2066: None, 0x2067: None, 0x2068: None, 0x2069: None}).strip()


def safe_href(href: str) -> str | None:
    """The link target if its scheme is one we send in email, else None."""
    stripped = href.strip()
    return stripped if stripped.lower().startswith(SAFE_SCHEMES) else None


# --- rendering -----------------------------------------------------------------------------

TextFilter = Callable[[str], Markup]


def to_html(segment: Segment, text_filter: TextFilter | None = None) -> Markup:
    """Escaped HTML for a segment; ``text_filter`` escapes (and may isolate) text runs."""
    flt = text_filter or (lambda s: escape(s))
    return Markup("").join(_html_nodes(segment.nodes(), flt))


def _html_nodes(nodes: Sequence[Node], flt: TextFilter) -> Iterator[Markup]:
    for node in nodes:
        tag = node.tag
        if tag is None:
            yield flt(node.text)
            continue
        inner = Markup("").join(_html_nodes(node.children, flt))
        if tag.kind == "em":
            yield Markup("<em>%s</em>") % inner
        elif tag.kind == "strong":
            yield Markup("<strong>%s</strong>") % inner
        elif tag.kind == "br":
            yield Markup("<br>")
        elif tag.kind == "code":
            yield Markup('<code dir="ltr">%s</code>') % tag.code
        elif tag.kind == "link":
            href = safe_href(tag.href)
            if href is None:
                yield inner
            elif tag.title:
                yield Markup('<a href="%s" title="%s">%s</a>') % (href, tag.title, inner)
            else:
                yield Markup('<a href="%s">%s</a>') % (href, inner)


PlainFilter = Callable[[str], str]


def to_text(segment: Segment, links: list[str], text_filter: PlainFilter | None = None) -> str:
    """Plain text for a segment; link targets are appended to ``links`` as numbered refs.

    ``text_filter`` may isolate text runs (right-to-left editions)."""
    return "".join(_text_nodes(segment.nodes(), links, text_filter or str))


def _text_nodes(nodes: Sequence[Node], links: list[str], flt: PlainFilter) -> Iterator[str]:
    for node in nodes:
        tag = node.tag
        if tag is None:
            yield flt(node.text)
        elif tag.kind == "br":
            yield "\n"
        elif tag.kind == "code":
            yield flt(tag.code)
        elif tag.kind == "link":
            inner = "".join(_text_nodes(node.children, links, flt))
            href = safe_href(tag.href)
            if href is None or _bare(inner) == href:
                yield inner
            else:
                if href not in links:
                    links.append(href)
                yield f"{inner} [{links.index(href) + 1}]"
        else:
            yield "".join(_text_nodes(node.children, links, flt))
