"""Tables in the plain-text part: aligned columns, or one record per row when too wide.

Cells arrive as plain text (links already numbered). Widths are counted as a
terminal shows them: East Asian wide characters take two columns, combining
marks and invisible format characters (such as the bidi isolates) none.
Right-to-left editions need nothing special: each line is laid out by the mail
client from the right, so the first column stands on the right, as in HTML.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence

from newsletter.render.bidi import balance_isolates

SEPARATOR = " | "


def display_width(text: str) -> int:
    width = 0
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, align: str) -> str:
    room = width - display_width(text)
    if align == "right":
        return " " * room + text
    if align == "center":
        return " " * (room // 2) + text + " " * (room - room // 2)
    return text + " " * room


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], aligns: Sequence[str],
               width: int = 72) -> str:
    """The table as lines of text, at most ``width`` columns wide if it can be."""
    header = [_one_line(c) for c in header]
    rows = [[_one_line(c) for c in row] for row in rows]
    columns = len(header)
    widths = [max(display_width(r[i]) for r in [header, *rows] if i < len(r))
              for i in range(columns)]
    if sum(widths) + len(SEPARATOR) * (columns - 1) > width:
        return _records(header, rows, width)
    aligns = [*aligns, *[""] * columns][:columns]
    lines = [_line(header, widths, aligns),
             "-+-".join("-" * w for w in widths)]
    lines += [_line(row, widths, aligns) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _line(cells: Sequence[str], widths: Sequence[int], aligns: Sequence[str]) -> str:
    cells = [*cells, *[""] * len(widths)][: len(widths)]
    return SEPARATOR.join(_pad(c, w, a) for c, w, a in zip(cells, widths, aligns, strict=True))


def _records(header: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    """Too wide for a grid: each row as "heading: value" lines, rows apart by a blank line."""
    blocks = []
    for row in rows:
        lines = [textwrap.fill(f"{head}: {cell}" if head else cell, width=width,
                               subsequent_indent="  ", break_long_words=False,
                               break_on_hyphens=False)
                 for head, cell in zip(header, row, strict=False) if cell]
        blocks.append("\n".join(balance_isolates("\n".join(lines).split("\n"))))
    return "\n\n".join(blocks)


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))
