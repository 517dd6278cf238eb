"""The body of a release: CommonMark blocks and inline markup, into typed blocks.

Raw HTML in a body is never markup: markdown-it runs with ``html=False``, so a
``<script>`` or ``<img onerror=...>`` written in the Markdown stays literal text
and is escaped wherever it is rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from markdown_it.token import Token

from newsletter.content.frontmatter import resolve_image
from newsletter.content.markdown import markdown, tokenize
from newsletter.content.release import (
    Block,
    Figure,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Preformatted,
    Quote,
    Rule,
    Table,
    squash,
)
from newsletter.content.segments import PSEUDO_TAG, Segment, Tag
from newsletter.errors import ReleaseError


class BodyParser:
    def __init__(self, path: Path, offset: int, root: Path):
        self.path, self.offset, self.root = path, offset, root
        self.md = markdown()

    def line(self, token: Token) -> int:
        return (token.map[0] if token.map else 0) + self.offset + 1

    def error(self, token: Token, message: str) -> ReleaseError:
        return ReleaseError(message, path=self.path, line=self.line(token))

    def parse(self, body: str) -> tuple[Block, ...]:
        tokens = tokenize(self.md, body)
        blocks: list[Block] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            end = _matching_close(tokens, i)
            inner = tokens[i + 1 : end]
            if tok.type == "heading_open":
                blocks.append(Heading(int(tok.tag[1]), self.inline(inner[0]), self.line(tok)))
            elif tok.type == "paragraph_open":
                blocks.append(self.paragraph(tok, inner[0]))
            elif tok.type in ("bullet_list_open", "ordered_list_open"):
                start = int(tok.attrs.get("start", 1) or 1)
                items = tuple(self.list_items(inner, depth=0))
                blocks.append(ListBlock(tok.type == "ordered_list_open", items, self.line(tok),
                                        start))
            elif tok.type == "blockquote_open":
                parts = tuple(self.inline(t) for t in inner if t.type == "inline")
                blocks.append(Quote(parts, self.line(tok)))
            elif tok.type == "table_open":
                blocks.append(self.table(tok, inner))
            elif tok.type in ("fence", "code_block"):
                blocks.append(Preformatted(tok.content.rstrip("\n"), self.line(tok)))
            elif tok.type == "hr":
                blocks.append(Rule(self.line(tok)))
            elif tok.type == "html_block":  # cannot happen with html=False; keep it as text
                blocks.append(Paragraph(Segment(tok.content.strip()), self.line(tok)))
            else:
                raise self.error(tok, f"unsupported Markdown element {tok.type!r}")
            i = end + 1
        return tuple(blocks)

    def paragraph(self, open_tok: Token, inline: Token) -> Paragraph | Figure:
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content)]
        if len(children) == 1 and children[0].type == "image":
            img = children[0]
            alt = squash(img.content)
            if not alt:
                raise self.error(open_tok, "an image needs alt text: ![what it shows](path)")
            title = str(img.attrs.get("title") or "")
            image = Image(
                path=resolve_image(str(img.attrs["src"]), self.path, self.root,
                                   self.line(open_tok)),
                alt=Segment(alt),
                caption=Segment(squash(title)) if title.strip() else None,
                line=self.line(open_tok),
            )
            return Figure(image, self.line(open_tok))
        return Paragraph(self.inline(inline), self.line(open_tok))

    def table(self, open_tok: Token, inner: list[Token]) -> Table:
        """A GFM table; every cell is a segment of its own (empty cells are empty)."""
        header: tuple[Segment, ...] = ()
        rows: list[tuple[Segment, ...]] = []
        lines: list[int] = []
        aligns: list[str] = []
        for i, tok in enumerate(inner):
            if tok.type != "tr_open":
                continue
            cells = inner[i + 1 : _matching_close(inner, i)]
            row = tuple(self.inline(cells[j + 1]) for j, c in enumerate(cells)
                        if c.type in ("th_open", "td_open"))
            if cells and cells[0].type == "th_open":
                header = row
                aligns = [_align(c) for c in cells if c.type == "th_open"]
            else:
                rows.append(row)
                lines.append(self.line(tok))
        return Table(header, tuple(rows), tuple(aligns), self.line(open_tok), tuple(lines))

    def list_items(self, tokens: list[Token], depth: int) -> Iterator[ListItem]:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            end = _matching_close(tokens, i)
            if tok.type == "list_item_open":
                inner = tokens[i + 1 : end]
                parts: list[Segment] = []
                nested: list[ListItem] = []
                j = 0
                while j < len(inner):
                    t = inner[j]
                    t_end = _matching_close(inner, j)
                    if t.type in ("bullet_list_open", "ordered_list_open"):
                        nested.extend(self.list_items(inner[j + 1 : t_end], depth + 1))
                    elif t.type == "paragraph_open":
                        parts.append(self.inline(inner[j + 1], lines=True))
                    elif t.type in ("fence", "code_block"):
                        raise self.error(t, "code blocks inside list items are not supported")
                    j = t_end + 1
                if parts:
                    yield ListItem(tuple(parts), depth, self.line(tok))
                yield from nested
            i = end + 1

    def inline(self, token: Token, *, lines: bool = False) -> Segment:
        """Turn an inline token into a segment with numbered pseudo-tags.

        A hard break (two spaces or ``\\`` at the end of a line) is a line break, a
        self-closing tag of kind "br". With ``lines`` (list items: a name, then the
        phone number and the address below it) every newline is one.
        """
        out: list[str] = []
        tags: list[Tag] = []
        for child in token.children or []:
            kind = child.type
            if kind == "text":
                clash = PSEUDO_TAG.search(child.content)
                if clash:
                    raise self.error(token, f"the text {clash.group(0)!r} is reserved for markup "
                                     "placeholders; write it as `code`")
                out.append(child.content)
            elif kind == "softbreak" and not lines:
                out.append(" ")
            elif kind in ("softbreak", "hardbreak", "code_inline"):
                code = kind == "code_inline"
                tag = Tag(len(tags) + 1, "code" if code else "br",
                          code=child.content if code else "")
                tags.append(tag)
                out.append(f"<{tag.number}/>")
            elif kind in ("em_open", "strong_open", "link_open"):
                tag = Tag(len(tags) + 1, kind.removesuffix("_open"),
                          href=str(child.attrs.get("href", "")),
                          title=str(child.attrs.get("title", "") or ""))
                tags.append(tag)
                out.append(f"<{tag.number}>")
            elif kind in ("em_close", "strong_close", "link_close"):
                # close the innermost open tag of this kind
                open_kind = kind.removesuffix("_close")
                number = _innermost_open(out, tags, open_kind)
                out.append(f"</{number}>")
            elif kind == "image":
                raise self.error(token, "put an image in a paragraph of its own")
            else:
                raise self.error(token, f"unsupported inline Markdown {kind!r}")
        return Segment(squash("".join(out)), tuple(tags))


def _align(cell: Token) -> str:
    style = str(cell.attrs.get("style", "") or "")
    return style.removeprefix("text-align:") if style.startswith("text-align:") else ""


def _innermost_open(out: list[str], tags: list[Tag], kind: str) -> int:
    closed = {int(m.group(2)) for m in PSEUDO_TAG.finditer("".join(out)) if m.group(1)}
    for tag in reversed(tags):
        if tag.kind == kind and tag.number not in closed:
            return tag.number
    raise AssertionError(f"unbalanced {kind} in markdown-it output")  # markdown-it guarantees it


def _matching_close(tokens: list[Token], i: int) -> int:
    """Index of the token that closes ``tokens[i]`` (itself for self-contained tokens)."""
    if tokens[i].nesting != 1:
        return i
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    raise AssertionError("unbalanced markdown-it token stream")
