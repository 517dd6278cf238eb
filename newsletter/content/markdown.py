"""The Markdown dialect of releases: CommonMark, HTML off, GFM tables, and rules for German texts.

* A ``*`` between two letters or digits is text, never emphasis: the gender star
  of ``Migrant*innen, Vertreter*innen`` reaches readers as written. CommonMark
  already treats ``_`` inside a word (``Bürger_innen``) as text, and ``:``
  (``Lehrer:innen``) is never markup. Emphasis written with a space or
  punctuation outside the stars (``*wichtig*``, ``**fett**``) works as usual.
* A line that opens with a date or a lone number is text, not a numbered list:
  ``23. September 2018 – Tag der offenen Tür`` keeps its day. A numbered list
  whose first item starts with a month (``September``, ``Okt.``, ``9.``) or that
  has a single item numbered other than 1 is read again as a paragraph; several
  such lines stay lines (each gets a line break).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

# German month names and their usual abbreviations, not followed by another letter
_MONTHS = ("Januar|Jänner|Jan|Februar|Feber|Feb|März|Mär|Mrz|April|Apr|Mai|Juni|Jun|Juli|Jul|"
           "August|Aug|September|Sept|Sep|Oktober|Okt|November|Nov|Dezember|Dez")
DATE_START = re.compile(rf"(?:{_MONTHS})(?![^\W\d_])|\d{{1,2}}\.(?:\s|$)")
MAX_PASSES = 20  # each pass turns at least one list back into text


def markdown() -> MarkdownIt:
    """The parser releases are read with."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.inline.ruler.before("emphasis", "word_star", _word_star)
    return md


def _word_star(state: StateInline, silent: bool) -> bool:
    """A run of ``*`` with a letter or digit on both sides is literal text."""
    src, pos = state.src, state.pos
    if src[pos] != "*" or pos == 0 or not src[pos - 1].isalnum():
        return False
    end = pos
    while end < state.posMax and src[end] == "*":
        end += 1
    if end >= state.posMax or not src[end].isalnum():
        return False
    if not silent:
        state.pending += src[pos:end]
    state.pos = end
    return True


def tokenize(md: MarkdownIt, body: str) -> list[Token]:
    """The block tokens of ``body``, with dates and lone numbers that opened a list as text.

    Such a list is escaped in the source (``23\\. September``) and parsed again; the
    escape sits inside its line, so token line numbers still match the file.
    """
    for _ in range(MAX_PASSES):
        tokens = md.parse(body)
        lines = body.split("\n")
        if not _unlist(tokens, lines):
            return tokens
        body = "\n".join(lines)
    return tokens


def _unlist(tokens: list[Token], lines: list[str]) -> bool:
    """Escape the markers of every list that is really text; True if any was."""
    changed = False
    for i, tok in enumerate(tokens):
        if tok.type != "ordered_list_open":
            continue
        items = _direct_items(tokens, i)
        if not _is_text(tok, items, lines):
            continue
        for n, item in enumerate(items):
            row = item.map[0]  # type: ignore[index]
            lines[row] = _escape_marker(lines[row], item.info, item.markup)
            prev = row - 1
            if n and lines[prev].strip() and not lines[prev].endswith(("\\", "  ")):
                lines[prev] += "\\"  # the author put this date on a line of its own
        changed = True
    return changed


def _direct_items(tokens: list[Token], start: int) -> list[Token]:
    level = tokens[start].level
    items = []
    for tok in tokens[start + 1 :]:
        if tok.level == level:
            break
        if tok.type == "list_item_open" and tok.level == level + 1:
            items.append(tok)
    return items


def _is_text(list_tok: Token, items: list[Token], lines: list[str]) -> bool:
    if not items or items[0].map is None:
        return False
    if len(items) == 1 and int(list_tok.attrs.get("start", 1) or 1) != 1:
        return True
    first = items[0]
    line = lines[first.map[0]]  # type: ignore[index]
    at = _marker_at(line, first.info, first.markup)
    rest = line[at + len(first.info) + 1 :].lstrip() if at >= 0 else ""
    return bool(DATE_START.match(rest))


def _marker_at(line: str, number: str, delimiter: str) -> int:
    match = re.search(rf"(?<![\d\\]){re.escape(number + delimiter)}(?=[ \t]|$)", line)
    return match.start() if match else -1


def _escape_marker(line: str, number: str, delimiter: str) -> str:
    at = _marker_at(line, number, delimiter)
    if at < 0:  # pragma: no cover - markdown-it found the marker on this line
        return line
    cut = at + len(number)
    return line[:cut] + "\\" + line[cut:]
