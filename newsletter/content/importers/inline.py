"""Text and formatting runs as CommonMark that our parser reads back as the same text.

Text from Word or HTML is full of characters that mean something in Markdown (``*``,
``_``, ``[``, a line that starts with ``1.`` or ``#``); they are escaped. Emphasis
next to punctuation is where CommonMark's flanking rules bite (``Wort**„Zitat“**``
stays literal), so every rendered paragraph is parsed again: when the text that
comes back differs, the formatting is dropped rather than letting asterisks reach
readers.
"""

from __future__ import annotations

import re
from itertools import groupby
from urllib.parse import quote

from markdown_it import MarkdownIt

from newsletter.content.importers.model import Run
from newsletter.content.release import squash
from newsletter.content.segments import PSEUDO_TAG, SAFE_SCHEMES

_MD = MarkdownIt("commonmark", {"html": False})
_ESCAPE = re.compile(r"([\\`*_\[\]<])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^([#>+=~-])")
_NUMBERED = re.compile(r"^(\d+)([.)])(?=\s|$)")
_SPACES = re.compile(r"[ \t]+")


def escape(text: str) -> str:
    """Plain text as Markdown inline text: what a reader sees is ``text``, nothing else."""
    parts: list[str] = []
    last = 0
    # "<1>" is reserved for catalog placeholders; as a code span it stays visible text
    for m in PSEUDO_TAG.finditer(text):
        parts.append(_escape_plain(text[last : m.start()]))
        parts.append(f"`{m.group(0)}`")
        last = m.end()
    parts.append(_escape_plain(text[last:]))
    return "".join(parts)


def _escape_plain(text: str) -> str:
    return _ENTITY.sub(r"\\&", _ESCAPE.sub(r"\\\1", text))


def guard_lines(markdown: str) -> str:
    """Escape what would start a heading, quote, list or fence at the start of a line."""
    lines = []
    for line in markdown.split("\n"):
        line = line.lstrip(" \t")
        line = _NUMBERED.sub(r"\1\\\2", _LINE_START.sub(r"\\\1", line))
        lines.append(line)
    return "\n".join(lines)


def safe_href(href: str) -> str:
    """The link target if readers may follow it (the parser's schemes), else ''."""
    href = href.strip()
    if not href.lower().startswith(SAFE_SCHEMES):
        return ""
    # spaces, brackets and pipes would end the destination or a table cell early
    return quote(href, safe="/:?#[]@!$&'*+,;=%~-._")


def plain_of(runs: list[Run]) -> str:
    """The text of runs, lines kept (for the guesses)."""
    return "\n".join(_SPACES.sub(" ", line).strip()
                     for line in "".join(r.text for r in runs).split("\n")).strip()


def render_runs(runs: list[Run], notes: list[str] | None = None) -> str:
    """Runs as one Markdown paragraph (hard breaks kept), checked by parsing it back."""
    runs = _tidy(runs)
    expected = squash(plain_of(runs).replace("\n", " "))
    for attempt in (runs, [Run(r.text, href=r.href) for r in runs], [Run(r.text) for r in runs]):
        markdown = guard_lines(_render(attempt))
        if _reads_back(markdown) == expected:
            if attempt is not runs and notes is not None:
                notes.append(f"formatting dropped where Markdown could not say it: "
                             f"“{_short(expected)}”")
            return markdown
    return guard_lines(escape(expected))  # unreachable in practice: plain text is safe


def _tidy(runs: list[Run]) -> list[Run]:
    """Merge neighbours with the same formatting and drop empty runs."""
    out: list[Run] = []
    for run in runs:
        text = run.text.replace("\r", "").replace("\t", " ")
        if not text:
            continue
        if out and (out[-1].bold, out[-1].italic, out[-1].href) == (run.bold, run.italic,
                                                                    run.href):
            out[-1] = Run(out[-1].text + text, run.bold, run.italic, run.href)
        else:
            out.append(Run(text, run.bold, run.italic, run.href))
    return out


def _render(runs: list[Run]) -> str:
    out: list[str] = []
    for href, group in groupby(runs, key=lambda r: safe_href(r.href)):
        inner = "".join(_styled(r) for r in group)
        if href and inner.strip():
            lead, core, trail = _split_space(inner)
            out.append(f"{lead}[{core}]({href}){trail}")
        else:
            out.append(inner)
    text = "".join(out)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\\\n".join(line for line in lines if line)  # hard breaks, never an empty line


def _styled(run: Run) -> str:
    lead, core, trail = _split_space(run.text)
    if not core:
        return run.text
    marks = ("**" if run.bold else "") + ("*" if run.italic else "")
    body = "\n".join(escape(line) for line in core.split("\n"))
    if marks and "\n" not in core:
        return f"{lead}{marks}{body}{marks[::-1]}{trail}"
    return f"{lead}{body}{trail}"


def _split_space(text: str) -> tuple[str, str, str]:
    core = text.strip(" \n")
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core) :]


def _reads_back(markdown: str) -> str:
    tokens = _MD.parseInline(markdown)
    parts: list[str] = []
    for child in (tokens[0].children or []) if tokens else []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return squash("".join(parts))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_list(items: list[tuple[int, bool, str]]) -> str:
    """Items as (depth, ordered, markdown) as one Markdown list, nested by depth."""
    lines: list[str] = []
    # per depth: (ordered, next number, indent of the item's text)
    stack: list[tuple[bool, int, int]] = []
    for depth, ordered, markdown in items:
        depth = min(depth, len(stack))  # a jump from level 0 to 2 nests one level only
        del stack[depth + 1 :]
        if len(stack) > depth and stack[depth][0] != ordered:
            del stack[depth:]
        indent = stack[depth - 1][2] if depth else 0
        if not depth and not stack and lines:
            lines.append("")  # a bullet list after a numbered one (or back) is a new list
        if len(stack) <= depth:
            stack.append((ordered, 1, 0))
        is_ordered, number, _ = stack[depth]
        marker = f"{number}. " if is_ordered else "- "
        stack[depth] = (is_ordered, number + 1, indent + len(marker))
        pad = " " * (indent + len(marker))
        text = markdown.replace("\\\n", "\\\n" + pad) or "\\"
        lines.append(" " * indent + marker + text)
    return "\n".join(lines)


def render_table(rows: list[list[str]]) -> str:
    """Rows of cell Markdown as a GFM pipe table; the first row is the header."""
    width = max(len(row) for row in rows)
    cells = [[_cell(c) for c in row] + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join(["---"] * width) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in cells[1:])
    return "\n".join(lines)


def _cell(markdown: str) -> str:
    return markdown.replace("\\\n", " ").replace("\n", " ").replace("|", "\\|").strip()


def render_quote(markdown: str) -> str:
    return "\n".join("> " + line for line in markdown.split("\n"))
