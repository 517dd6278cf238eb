"""Importing press releases written elsewhere: plain text, Word (.docx) and HTML.

``import_file`` reads the file with the reader for its suffix, guesses the front
matter (guess.py) and writes the release as Markdown (markdown.py). Nothing is
written to disk here: the caller decides where the release and its images go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.content import ids
from newsletter.content.importers import text
from newsletter.content.importers.guess import add_checks, shape
from newsletter.content.importers.limits import check_source, check_word, run_limited
from newsletter.content.importers.markdown import default_id, write
from newsletter.content.importers.model import Draft
from newsletter.content.release import KINDS
from newsletter.errors import ImportError_

__all__ = ["SUFFIXES", "Imported", "import_file", "import_file_limited"]

SUFFIXES = (".txt", ".text", ".docx", ".html", ".htm")


@dataclass(frozen=True)
class Imported:
    release_id: str
    text: str  # the release file: front matter and Markdown
    images: tuple[tuple[str, bytes], ...]  # (path relative to releases/, data)
    draft: Draft  # what was guessed, for the report

    @property
    def checks(self) -> tuple[str, ...]:
        return tuple(self.draft.checks)


def import_file_limited(path: Path, *, release_id: str | None = None,
                        kind: str | None = None, today: dt.date | None = None) -> Imported:
    """``import_file`` in a child process with limits on memory and processor time
    (limits.py): for files from outside, such as uploads. The cheap checks run here
    first, so a file refused unread costs no process."""
    _check(path)
    return run_limited(import_file, path, release_id=release_id, kind=kind, today=today)


def _check(path: Path) -> None:
    check_source(path)
    if path.suffix.lower() == ".docx":
        check_word(path)


def import_file(path: Path, *, release_id: str | None = None, kind: str | None = None,
                today: dt.date | None = None) -> Imported:
    """Read ``path`` (.txt, .docx, .html) as a release; ``kind`` overrides the guess."""
    reader, subheads_in_body = _reader(path)
    _check(path)
    if kind is not None and kind not in KINDS:
        raise ImportError_(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    wrong = None if release_id is None else ids.problem(release_id)
    if wrong is not None:
        raise ImportError_(wrong)
    try:
        draft = reader(path)
    except OSError as err:
        raise ImportError_(f"cannot read the file: {err.strerror or err}", path=path) from err
    if kind is not None:
        draft.kind, draft.kind_reason = kind, "--kind"
    shape(draft)
    text.mark_subheads(draft, in_body=subheads_in_body)
    add_checks(draft)
    day = today or dt.date.today()
    rid = release_id or default_id(draft.date or day, draft.title or path.stem)
    written = write(draft, rid, today=day)
    return Imported(rid, written.text, written.images, draft)


def _reader(path: Path) -> tuple[Callable[[Path], Draft], bool]:
    suffix = path.suffix.lower()
    if suffix in (".txt", ".text"):
        return text.read, True
    if suffix == ".docx":
        from newsletter.content.importers import docx  # python-docx loads lxml: only when needed

        return docx.read, False
    if suffix in (".html", ".htm"):
        from newsletter.content.importers import html

        return html.read, False
    raise ImportError_(f"cannot import {suffix or 'files without a suffix'}: give a .txt, "
                       ".docx or .html file (save other formats as one of these)", path=path)
