"""Plain-text press releases: paragraphs separated by blank lines, no markup at all.

Everything structural has to be guessed from the shape of the lines (guess.py does
the head and foot). Two things are particular to plain text: the lines of one head
block may be separate items (a place line with the title repeated under it), and
a short line standing alone between paragraphs of prose is a sub-head.
"""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.content.importers import patterns as pt
from newsletter.content.importers.inline import escape, guard_lines, render_list
from newsletter.content.importers.model import Draft, Piece
from newsletter.errors import ImportError_

_BULLET = re.compile(r"^(?:[-•*–·]|(?P<num>\d{1,3})[.)])\s+(?P<text>\S.*)$")
_SPLIT_HEAD_BLOCKS = 8  # only head blocks are split into lines
_SUBHEAD_CHARS, _SUBHEAD_WORDS = 100, 14
_HEAD_HEADING_CHARS = 300


def read(path: Path) -> Draft:
    text, notes = decode(path.read_bytes())
    blocks = _blocks(text)
    if not blocks:
        raise ImportError_("there is no text in the file", path=path)
    # only the head (before the first prose) is split into lines: a contact block at the
    # end stays one piece, as the contact guess wants it
    prose = next((i for i, (_, lines) in enumerate(blocks) if pt.is_prose(" ".join(lines))),
                 len(blocks))
    head = min(prose, _SPLIT_HEAD_BLOCKS)
    pieces = [piece for index, block in enumerate(blocks) for piece in _pieces(block, index < head)]
    return Draft(source=path, pieces=pieces, checks=notes)


def decode(data: bytes) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Notepad's "Unicode"), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return (data.decode("cp1252", errors="replace"),
                ["the file is not UTF-8: it was read as Windows-1252; check the umlauts"])


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines with the number of their first line. A line of spaces or
    no-break spaces is blank: web pages pasted into an editor leave those between
    paragraphs."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            if not current:
                start = number
            current.append(" ".join(line.split()))
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _pieces(block: tuple[int, list[str]], in_head: bool) -> list[Piece]:
    start, lines = block
    bullets = [_BULLET.match(line) for line in lines]
    # one line is no list: "1. Vorsitzende" is a German title, not an enumeration
    if len(lines) > 1 and all(bullets):
        items = [(0, m.group("num") is not None, escape(m.group("text")))
                 for m in bullets if m]
        plain = "\n".join(m.group("text") for m in bullets if m)
        return [Piece("list", render_list(items), plain, f"line {start}")]
    if len(lines) > 1 and in_head and not pt.ends_sentence(lines[-1]):
        # head lines: date, title, place, a repeated title: each its own piece
        return [_paragraph([line], start + i) for i, line in enumerate(lines)]
    return [_paragraph(lines, start)]


def _paragraph(lines: list[str], start: int) -> Piece:
    return Piece("paragraph", guard_lines(escape(" ".join(lines))), "\n".join(lines),
                 f"line {start}")


def mark_subheads(draft: Draft, *, in_body: bool = True) -> None:
    """Short lines before the first prose become ``##`` headings, and (``in_body``: files
    without structure of their own) short lines standing alone between paragraphs."""
    pieces = draft.pieces
    seen_prose = False
    for i, piece in enumerate(pieces):
        if piece.kind != "paragraph":
            seen_prose = seen_prose or piece.kind != "picture"  # the body's structure began
            continue
        text = piece.plain.strip()
        if pt.is_prose(text):
            seen_prose = True
        elif piece.role == "place":
            continue
        elif not seen_prose:
            if "\n" not in text and len(text) <= _HEAD_HEADING_CHARS:
                piece.kind, piece.level = "heading", 2
        elif in_body and _subhead(text) and _followed_by_text(pieces, i):
            piece.kind, piece.level = "heading", 2


def _followed_by_text(pieces: list[Piece], i: int) -> bool:
    return i + 1 < len(pieces) and pieces[i + 1].kind in ("paragraph", "list")


def _subhead(text: str) -> bool:
    return ("\n" not in text and len(text) <= _SUBHEAD_CHARS
            and len(text.split()) <= _SUBHEAD_WORDS and not pt.ends_sentence(text)
            and not text.endswith((":", ",", ";")) and not text[:1].islower()
            and not pt.quotes(text) and not pt.contact_detail(text))
