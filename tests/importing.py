"""Helpers for the import tests: read an imported release back, compare paragraph sets."""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.content.parser import parse_release
from newsletter.content.release import Release

_BULLET = re.compile(r"^(?:[-•*–·]|\d{1,3}[.)])\s+")
_CONSUMED = re.compile(r"^#\s+(?:line|paragraph|table) \d+ \([^)]*\): (?P<text>.*)$")


def norm(text: str) -> str:
    return " ".join(text.split())


def read_back(markdown: str, root: Path, release_id: str = "imported") -> Release:
    """Parse ``markdown`` as releases/<release_id>.md of the workspace ``root``."""
    return parse_release(markdown, path=root / "releases" / f"{release_id}.md",
                         workspace_root=root)


def output_texts(markdown: str, release: Release) -> set[str]:
    """Every text the release shows or keeps: translatable units, front-matter values and
    the comment lines that list what was read as front matter."""
    texts = {norm(unit.segment.plain) for unit in release.units()}
    if release.contact:
        texts.update(norm(v) for v in (release.contact.name, release.contact.phone,
                                       release.contact.email))
    for line in markdown.split("\n"):
        m = _CONSUMED.match(line)
        if m:
            texts.add(norm(m.group("text")))
    return texts


def input_paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (blank-line separated, lines kept) of a plain-text file."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def lost_paragraphs(source: str, markdown: str, release: Release) -> list[str]:
    """Input paragraphs found neither whole nor line by line among the output texts."""
    found = output_texts(markdown, release)
    lost = []
    for lines in input_paragraphs(source):
        whole = norm(" ".join(lines))
        parts = [norm(_BULLET.sub("", line)) for line in lines]
        if whole not in found and not all(part in found for part in parts):
            lost.append(whole)
    return lost
