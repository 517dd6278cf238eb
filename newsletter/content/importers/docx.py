"""Word files (.docx) through python-docx: styles say what is a title, heading or list.

Word marks structure with paragraph styles ("Title", "Heading 2", "List Bullet") or
with numbering properties on a plain paragraph (what the list buttons do); bold and
italic are run properties or the character styles "Strong" and "Emphasis". Links are
``w:hyperlink`` elements whose target is a relationship of the document part, and
pictures are drawings whose ``a:blip`` names an image part.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import docx
from docx.drawing import Drawing
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from docx.text.run import Run as DocxRun
from lxml import etree

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
from newsletter.errors import ImportError_, ImportRefused

_HEADING = re.compile(r"^Heading (\d)$")
_LEVEL_IN_NAME = re.compile(r"(\d)$")
_BOLD_STYLES = frozenset({"Strong", "Intense Emphasis"})
_ITALIC_STYLES = frozenset({"Emphasis", "Subtle Emphasis", "Intense Emphasis"})
_QUOTE_STYLES = frozenset({"Quote", "Intense Quote"})
_NOT_ORDERED = frozenset({"bullet", "none"})


def read(path: Path) -> Draft:
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, BadZipFile, KeyError, ValueError, etree.LxmlError) as err:
        raise ImportRefused(f"not a Word file that can be read ({err}); save it again as "
                            ".docx", path=path) from err
    reader = _Reader(document, path)
    reader.read()
    if not reader.pieces:
        raise ImportError_("there is no text in the document", path=path)
    pieces = reader.pieces
    if not any(p.kind == "title" for p in pieces):
        # no "Title" style: a leading "Heading 1" is the title
        first = next((p for p in pieces[:5] if p.kind == "heading"), None)
        if first is not None and first.level == 1:
            first.kind = "title"
    normalise_levels(pieces)
    draft = Draft(source=path, pieces=pieces, checks=reader.notes)
    draft.fallback_title = (document.core_properties.title or "").strip()
    return draft


class _Reader:
    def __init__(self, document: Any, path: Path):
        self.doc = document
        self.doc_path = path
        self.pieces: list[Piece] = []
        self.notes: list[str] = []
        self.items: list[tuple[int, bool, str]] = []  # the list being collected
        self.item_plain: list[str] = []
        self.paragraphs = 0
        self.tables = 0
        self.cells = 0  # paragraphs and table cells: MAX_PARAGRAPHS together
        # python-docx looks a style up by scanning every style, for every paragraph and
        # run: a document's few styles, looked up once each
        self.styles: dict[tuple[str | None, int], Any] = {}

    def style(self, style_id: str | None, kind: int) -> Any:
        if (style_id, kind) not in self.styles:
            self.styles[style_id, kind] = self.doc.part.get_style(style_id, kind)
        return self.styles[style_id, kind]

    def count(self) -> None:
        self.cells += 1
        if self.cells > MAX_PARAGRAPHS:
            raise_too_many(self.doc_path)

    def read(self) -> None:
        for block in self.doc.iter_inner_content():
            if isinstance(block, Paragraph):
                self.paragraph(block)
            else:
                self.flush_list()
                self.table(block)
        self.flush_list()

    def paragraph(self, par: Paragraph) -> None:
        self.paragraphs += 1
        self.count()
        where = f"paragraph {self.paragraphs}"
        par_style = self.style(par._p.style, WD_STYLE_TYPE.PARAGRAPH)
        style = par_style.name if par_style is not None else ""
        listed = self.list_info(par, par_style, style)
        if listed is None:
            self.flush_list()
        for chunk in _chunks(self.inline(par)):
            if isinstance(chunk, Picture):
                self.pieces.append(Piece("picture", where=where, picture=chunk))
                continue
            markdown = render_runs(chunk, self.notes)
            if not markdown:
                continue
            if listed is not None:
                self.items.append((listed[0], listed[1], markdown))
                self.item_plain.append(plain_of(chunk))
            else:
                piece = self.block(style, markdown, plain_of(chunk), where)
                if piece is not None:
                    self.pieces.append(piece)

    def block(self, style: str, markdown: str, plain: str, where: str) -> Piece | None:
        heading = _HEADING.match(style)
        if style == "Title":
            return Piece("title", markdown, plain, where, level=1)
        if heading or style == "Subtitle":
            return Piece("heading", markdown, plain, where,
                         level=int(heading.group(1)) if heading else 2)
        if style in _QUOTE_STYLES:
            return Piece("quote", render_quote(markdown), plain, where)
        if style == "Caption" and self.pieces and self.pieces[-1].picture is not None:
            last = self.pieces[-1]
            if last.picture and not last.picture.caption:  # the caption of the photo above
                last.picture = replace(last.picture, caption=plain)
                return None
        return Piece("paragraph", markdown, plain, where)

    def flush_list(self) -> None:
        if self.items:
            self.pieces.append(Piece("list", render_list(self.items), "\n".join(self.item_plain),
                                     f"paragraph {self.paragraphs - len(self.items)}"))
            self.items, self.item_plain = [], []

    def list_info(self, par: Paragraph, par_style: Any, style: str) -> tuple[int, bool] | None:
        """(depth, ordered) when the paragraph is a list item."""
        own = _num_pr(par._p)
        num_pr = own if own is not None else _num_pr(par_style.element) if par_style else None
        if num_pr is None or num_pr.numId is None or num_pr.numId.val == 0:
            return None
        if own is not None and own.ilvl is not None:
            depth = own.ilvl.val
        else:  # "List Bullet 2" is the second level
            m = _LEVEL_IN_NAME.search(style)
            depth = int(m.group(1)) - 1 if m else 0
        fmt = self.num_format(num_pr.numId.val, depth)
        ordered = fmt not in _NOT_ORDERED if fmt else "Number" in style
        return depth, ordered

    def num_format(self, num_id: int, level: int) -> str | None:
        try:
            numbering = self.doc.part.numbering_part.element
            abstract = numbering.num_having_numId(num_id).abstractNumId.val
        except (KeyError, AttributeError, NotImplementedError):
            return None
        found = numbering.xpath(f'./w:abstractNum[@w:abstractNumId="{abstract}"]'
                                f'/w:lvl[@w:ilvl="{level}"]/w:numFmt/@w:val')
        return str(found[0]) if found else None

    def inline(self, par: Paragraph) -> list[Run | Picture]:
        out: list[Run | Picture] = []
        for item in par.iter_inner_content():
            if isinstance(item, Hyperlink):
                href = item.url  # "" for a jump inside the document
                for run in item.runs:
                    out.extend(self.run(run, href))
            else:
                out.extend(self.run(item, ""))
        return out

    def run(self, run: DocxRun, href: str) -> list[Run | Picture]:
        run_style = self.style(run._r.style, WD_STYLE_TYPE.CHARACTER)
        style = run_style.name if run_style is not None else ""
        bold = bool(run.bold) or style in _BOLD_STYLES
        italic = bool(run.italic) or style in _ITALIC_STYLES
        out: list[Run | Picture] = []
        for item in run.iter_inner_content():
            if isinstance(item, str):
                out.append(Run(item, bold, italic, href))
            elif isinstance(item, Drawing):
                picture = self.picture(item)
                if picture is not None:
                    out.append(picture)
        return out

    def picture(self, drawing: Drawing) -> Picture | None:
        if not drawing.has_picture:
            self.notes.append(f"a drawing, chart or linked picture near paragraph "
                              f"{self.paragraphs} was left out: add it as an image file")
            return None
        image = drawing.image
        # python-docx has no API for the alt text: it is the drawing's wp:docPr/@descr
        alt = drawing._drawing.xpath("./*/wp:docPr/@descr")
        ext = image.ext.lower().replace("jpeg", "jpg")
        if ext not in ("png", "jpg", "gif", "webp"):
            self.notes.append(f"image near paragraph {self.paragraphs} is a .{ext} file, which "
                              "mail programs do not show: convert it to PNG or JPEG")
        return Picture(image.blob, ext, alt=str(alt[0]) if alt else "")

    def table(self, table: Table) -> None:
        self.tables += 1
        rows: list[list[str]] = []
        plain: list[str] = []
        for row in table.rows:
            cells: list[str] = []
            seen: list[Any] = []
            for cell in row.cells:
                if any(cell._tc is tc for tc in seen):  # a merged cell repeats itself
                    continue
                self.count()
                seen.append(cell._tc)
                # every paragraph of the cell, those of nested tables included
                pars = [Paragraph(p, cell) for p in cell._tc.iter(qn("w:p"))]
                for _ in pars[1:]:  # the cell was counted as its first paragraph
                    self.count()
                runs = [[r for r in self.inline(p) if isinstance(r, Run)] for p in pars]
                cells.append(" ".join(m for m in (render_runs(r, self.notes) for r in runs) if m))
                plain.append(" ".join(plain_of(r) for r in runs))
            rows.append(cells)
        if rows and any(any(c for c in row) for row in rows):
            self.pieces.append(Piece("table", render_table(rows), "\n".join(plain),
                                     f"table {self.tables}"))


def _num_pr(element: Any) -> Any:
    p_pr = getattr(element, "pPr", None)
    return p_pr.numPr if p_pr is not None else None


def _chunks(items: list[Run | Picture]) -> list[list[Run] | Picture]:
    """Runs between pictures stay together; each picture stands alone."""
    out: list[list[Run] | Picture] = []
    for item in items:
        if isinstance(item, Picture):
            out.append(item)
        elif out and isinstance(out[-1], list):
            out[-1].append(item)
        else:
            out.append([item])
    return out
