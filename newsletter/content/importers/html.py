"""HTML pages (a saved web page, a mail exported as .html) through the stdlib parser.

Scripts, styles and other active content are dropped unread. Images are never
fetched: a remote one stays a link to where it is; a local one is copied only when
it lies inside the folder of the page, so a page cannot make the importer read
files from elsewhere on the disk.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.content.importers.guess import normalise_levels
from newsletter.content.importers.inline import (
    plain_of,
    render_list,
    render_quote,
    render_runs,
    render_table,
)
from newsletter.content.importers.limits import MAX_PARAGRAPHS, raise_too_many
from newsletter.content.importers.model import Draft, Picture, Piece, Run
from newsletter.content.importers.text import decode
from newsletter.errors import ImportError_

# Active content, and a saved page's menus ("nav"), which are no part of the release.
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object",
                   "canvas", "math", "select", "button", "nav"})
_BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "main", "aside",
                     "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre",
                     "figure", "figcaption", "address", "dt", "dd", "hr", "form", "body"})
_BOLD, _ITALIC = frozenset({"b", "strong"}), frozenset({"i", "em", "cite", "dfn"})
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
_IMAGE_EXTS = frozenset({"png", "jpg", "jpeg", "gif", "webp"})


def read(path: Path) -> Draft:
    data = path.read_bytes()
    text, notes = _decode(data)
    builder = _Builder(path.parent, notes, path)
    builder.feed(text)
    builder.close()
    builder.end()
    if not builder.pieces:
        raise ImportError_("there is no text in the page", path=path)
    normalise_levels(builder.pieces)
    draft = Draft(source=path, pieces=builder.pieces, checks=notes)
    draft.fallback_title = " ".join(builder.title_text.split())
    return draft


def _decode(data: bytes) -> tuple[str, list[str]]:
    declared = _CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii")), []
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration: fall back to guessing
    return decode(data)


class _Builder(HTMLParser):
    def __init__(self, folder: Path, notes: list[str], source: Path):
        super().__init__(convert_charrefs=True)
        self.folder, self.notes = folder.resolve(), notes
        self.pieces: list[Piece] = []
        self.runs: list[Run] = []
        self.line = 0  # where the current block starts
        self.block = ""  # the tag of the current block ("h2", "li", "figcaption", ...)
        self.bold = self.italic = self.skip = self.quote = self.pre = 0
        self.links: list[str] = []
        self.lists: list[bool] = []  # ordered?
        self.items: list[tuple[int, bool, str]] = []
        self.item_plain: list[str] = []
        self.rows: list[list[str]] | None = None  # the table being read
        self.row: list[str] = []
        self.tables = 0  # depth: a table inside a table is read as text of its cell
        self.title_text = ""
        self.in_title = False
        self.seen_h1 = False
        self.blocks = 0
        self.source = source

    # -- the parser's events ----------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip or tag in _SKIP:
            self.skip += tag in _SKIP
            return
        attr = {k: v or "" for k, v in attrs}
        if tag == "title":
            self.in_title = True
        elif tag in _BOLD or tag in _ITALIC:
            self.bold += tag in _BOLD
            self.italic += tag in _ITALIC
        elif tag == "a":
            self.links.append(attr.get("href", ""))
        elif tag == "br":
            self.text("\n")
        elif tag == "img":
            self.image(attr)
        elif tag in ("table", "tr", "td", "th", "ul", "ol"):
            self.structure_start(tag)
        elif tag in _BLOCKS:
            self.block_start(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            self.skip -= tag in _SKIP
            return
        if tag == "title":
            self.in_title = False
        elif tag in _BOLD or tag in _ITALIC:
            self.bold = max(0, self.bold - (tag in _BOLD))
            self.italic = max(0, self.italic - (tag in _ITALIC))
        elif tag == "a" and self.links:
            self.links.pop()
        elif tag in ("table", "tr", "td", "th", "ul", "ol"):
            self.structure_end(tag)
        elif tag in _BLOCKS:
            self.block_end(tag)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_title:
            self.title_text += data
        elif self.pre:
            self.text(data)
        else:
            self.text(re.sub(r"\s+", " ", data))

    def text(self, text: str) -> None:
        if not self.runs and text.strip():
            self.line = self.getpos()[0]
        if text:
            self.runs.append(Run(text, self.bold > 0, self.italic > 0,
                                 self.links[-1] if self.links else ""))

    # -- blocks ---------------------------------------------------------------------------

    def in_cell(self) -> bool:
        return self.rows is not None

    def block_start(self, tag: str) -> None:
        if self.in_cell():
            self.text(" ")
            return
        self.flush()
        self.block = tag
        self.quote += tag == "blockquote"
        self.pre += tag == "pre"

    def block_end(self, tag: str) -> None:
        if self.in_cell():
            self.text(" ")
            return
        self.flush()
        self.quote -= tag == "blockquote" and self.quote > 0
        self.pre -= tag == "pre" and self.pre > 0
        self.block = ""

    def structure_start(self, tag: str) -> None:
        if tag == "table":
            self.tables += 1
            if self.tables == 1:
                self.flush()
                self.rows = []
            return
        if self.tables > 1 or (self.in_cell() and tag in ("ul", "ol")):
            self.text(" ")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.runs = []
        else:  # ul, ol
            self.flush()
            self.lists.append(tag == "ol")

    def structure_end(self, tag: str) -> None:
        if tag == "table":
            self.tables -= 1
            if self.tables == 0:
                self.end_table()
            return
        if self.tables > 1 or (self.in_cell() and tag in ("ul", "ol")):
            self.text(" ")
        elif tag == "tr" and self.rows is not None:
            self.rows.append(self.row)
            self.row = []
        elif tag in ("td", "th"):
            self.count()
            self.row.append(render_runs(self.runs, self.notes))
            self.runs = []
        elif self.lists:  # ul, ol
            self.flush()
            self.lists.pop()
            if not self.lists:
                self.end_list()

    def end_table(self) -> None:
        rows = [r for r in self.rows or [] if r]
        self.rows = None
        if rows and any(any(cell for cell in row) for row in rows):
            plain = "\n".join(" | ".join(row) for row in rows)
            self.pieces.append(Piece("table", render_table(rows), plain, f"line {self.line}"))

    def end_list(self) -> None:
        if self.items:
            self.pieces.append(Piece("list", render_list(self.items), "\n".join(self.item_plain),
                                     f"line {self.line}"))
        self.items, self.item_plain = [], []

    def flush(self) -> None:
        """The runs so far become a piece of the kind the open block says."""
        runs, self.runs = self.runs, []
        markdown = render_runs(runs, self.notes)
        if not markdown:
            return
        self.count()
        plain, where = plain_of(runs), f"line {self.line}"
        if self.lists:
            self.items.append((len(self.lists) - 1, self.lists[-1], markdown))
            self.item_plain.append(plain)
        elif re.fullmatch(r"h[1-6]", self.block):
            title = self.block == "h1" and not self.seen_h1
            self.seen_h1 = self.seen_h1 or self.block == "h1"
            self.pieces.append(Piece("title" if title else "heading", markdown, plain, where,
                                     level=int(self.block[1])))
        elif self.block == "figcaption" and self.pieces and self.pieces[-1].picture:
            last = self.pieces[-1]
            last.picture = replace(last.picture, caption=plain)  # type: ignore[arg-type]
        elif self.pre:
            code = "".join(r.text for r in runs).strip("\n")
            self.pieces.append(Piece("code", f"```\n{code.replace('```', 'ʼʼʼ')}\n```", code,
                                     where))
        elif self.quote:
            self.pieces.append(Piece("quote", render_quote(markdown), plain, where))
        else:
            self.pieces.append(Piece("paragraph", markdown, plain, where))

    def count(self) -> None:
        """One more paragraph, list item or table cell: at most MAX_PARAGRAPHS."""
        self.blocks += 1
        if self.blocks > MAX_PARAGRAPHS:
            raise_too_many(self.source)

    def end(self) -> None:
        """What is still open when the page ends (HTML forgives missing end tags)."""
        if self.rows is not None:
            self.end_table()
        self.flush()
        self.lists = []
        self.end_list()

    # -- images -----------------------------------------------------------------------

    def image(self, attr: dict[str, str]) -> None:
        src, alt = attr.get("src", "").strip(), " ".join(attr.get("alt", "").split())
        picture = self.picture(src)
        if picture is None or self.in_cell() or self.lists:
            if picture is not None:
                self.notes.append(f"image {src[:60]!r} (line {self.getpos()[0]}) stands in a "
                                  "table or list: kept as its description only")
            if alt or self.remote(src):
                self.runs.append(Run(alt or "Bild", href=self.remote(src)))
            return
        self.flush()
        line = self.getpos()[0]
        self.pieces.append(Piece("picture", where=f"line {line}",
                                 picture=replace(picture, alt=alt,
                                                 caption=attr.get("title", ""))))

    def remote(self, src: str) -> str:
        return "https:" + src if src.startswith("//") else (
            src if src.lower().startswith(("https://", "http://")) else "")

    def picture(self, src: str) -> Picture | None:
        line = self.getpos()[0]
        if self.remote(src):
            self.notes.append(f"remote image {src[:80]} (line {line}) kept as a link, "
                              "not fetched: download it if you want it in the mail")
            return None
        if src.startswith("data:"):
            return self.data_picture(src, line)
        if not src:
            return None
        target = (self.folder / unquote(urlsplit(src).path)).resolve()
        ext = target.suffix.lower().lstrip(".").replace("jpeg", "jpg")
        if not target.is_relative_to(self.folder):
            self.notes.append(f"image {src!r} (line {line}) lies outside the folder of the "
                              "page: not copied")
        elif not target.is_file() or ext not in _IMAGE_EXTS:
            self.notes.append(f"image {src!r} (line {line}) not found next to the page, or not "
                              "a PNG, JPEG, GIF or WebP file: not copied")
        else:
            return Picture(target.read_bytes(), ext)
        return None

    def data_picture(self, src: str, line: int) -> Picture | None:
        head, _, payload = src[5:].partition(",")
        mime, _, encoding = head.partition(";")
        ext = _IMAGE_TYPES.get(mime.lower())
        if ext and encoding.lower() == "base64":
            try:
                return Picture(base64.b64decode(payload, validate=False), ext)
            except (binascii.Error, ValueError):
                pass
        self.notes.append(f"an inline image (line {line}) could not be read: not copied")
        return None
