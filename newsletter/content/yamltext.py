"""Front-matter YAML as authors write it: ``: `` and ``#hashtags`` inside a plain value are text.

YAML ends a plain (unquoted) value at `` #`` and refuses ``: `` inside one
("mapping values are not allowed here"). Authors of press releases write
``title: Aktionstag #StarkeMigrationsberatung`` or ``title: Einladung: Tag der
offenen Tür`` and mean every character. So before the values are used:

* a plain value that YAML ended at a ``#`` directly followed by a character
  other than a space (a hashtag) continues to the end of its line, and
* a plain value that YAML refused because of a ``: `` inside it is kept whole,

by putting that value in double quotes in the source, on the same lines (line
numbers in messages stay right), and reading the text again. A comment is a
``#`` after a space and followed by a space or the end of the line (``# required``,
as in the README's example); it stays a comment.
"""

from __future__ import annotations

import re

import yaml

MAX_REPAIRS = 50
# a mapping key and the first character of a plain value (not a quote or another indicator)
_KEY = re.compile(r"^(?P<lead>[ \t]*(?:-[ \t]+)?)[A-Za-z_][\w.\- ]*?[ \t]*:[ \t]+"
                  r"(?P<value>[^\s\"'|>\[\]{}&*!%@`#])")
_HASHTAG = re.compile(r"[ \t]+#\S")
_COMMENT = re.compile(r"[ \t]+#(?=[ \t]|$)")
NOT_ALLOWED = "mapping values are not allowed here"


def compose(text: str, loader: type[yaml.SafeLoader]) -> tuple[str, yaml.Node | None]:
    """The node tree of ``text`` after the repairs above, and the repaired text.

    Raises ``yaml.YAMLError`` for YAML that stays invalid.
    """
    for _ in range(MAX_REPAIRS):
        try:
            node = yaml.compose(text, Loader=loader)
        except yaml.MarkedYAMLError as err:
            fixed = _repair_colon(text, err)
            if fixed is None or fixed == text:
                raise
            text = fixed
            continue
        fixed = _repair_hashtag(text, node)
        if fixed is None:
            return text, node
        text = fixed
    return text, yaml.compose(text, Loader=loader)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _repair_colon(text: str, err: yaml.MarkedYAMLError) -> str | None:
    """Quote the plain value that holds the ``: `` YAML stumbled over, if there is one."""
    mark = err.problem_mark
    if err.problem != NOT_ALLOWED or mark is None:
        return None
    lines = text.split("\n")
    row, col = mark.line, mark.column
    for r in range(row, -1, -1):
        match = _KEY.match(lines[r])
        if match is None or (r == row and match.start("value") > col):
            if r == row or lines[r].strip():
                continue  # a continuation line of the value: look further up
            return None
        key_col = len(match.group("lead"))
        if any(not lines[k].strip() or _indent(lines[k]) <= key_col for k in range(r + 1, row + 1)):
            return None
        return _quote(lines, r, match.start("value"), _last_line(lines, r, key_col))
    return None


def _last_line(lines: list[str], row: int, key_col: int) -> int:
    """The last line of a plain value starting on ``row``: continuation lines are indented."""
    end = row
    while end + 1 < len(lines) and lines[end + 1].strip() and _indent(lines[end + 1]) > key_col:
        end += 1
    return end


def _repair_hashtag(text: str, node: yaml.Node | None) -> str | None:
    """Quote the first plain value that YAML ended at a hashtag, if there is one."""
    for scalar in _plain_scalars(node):
        end = scalar.end_mark
        line_end = text.find("\n", end.index)
        rest = text[end.index : line_end if line_end >= 0 else len(text)]
        if not _HASHTAG.match(rest):
            continue
        lines = text.split("\n")
        start = scalar.start_mark
        col = start.column
        if not scalar.value:  # nothing before the hashtag: "location: #Essen"
            col += _indent(rest)
        return _quote(lines, start.line, col, end.line)
    return None


def _plain_scalars(node: yaml.Node | None):
    if isinstance(node, yaml.ScalarNode):
        if node.style is None:
            yield node
    elif isinstance(node, yaml.MappingNode):
        for _key, value in node.value:
            yield from _plain_scalars(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _plain_scalars(item)


def _quote(lines: list[str], row: int, col: int, last: int) -> str:
    """The text with the value from (row, col) to the end of line ``last`` in double quotes;
    a comment at the end of the last line stays outside."""
    parts = [lines[row][col:], *lines[row + 1 : last + 1]]
    comment = _COMMENT.search(parts[-1])
    tail = parts[-1][comment.start() :] if comment else ""
    parts[-1] = (parts[-1][: comment.start()] if comment else parts[-1]).rstrip()
    escaped = [p.replace("\\", "\\\\").replace('"', '\\"') for p in parts]
    escaped[0] = lines[row][:col] + '"' + escaped[0]
    escaped[-1] += '"' + tail
    return "\n".join([*lines[:row], *escaped, *lines[last + 1 :]])
