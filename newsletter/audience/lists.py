"""Recipient lists: CSV files under recipients/, validated row by row and merged into people."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from newsletter.errors import LanguageError, RecipientError
from newsletter.workspace.addresses import AddressError, normalize_address
from newsletter.workspace.languages import language

COLUMNS = ("email", "name", "language", "tags", "organization", "outlet", "beat",
           "consent_source", "consent_at")
_TAG_SPLIT = re.compile(r"[;,|\s]+")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a row came from, for messages of the form ``file:line``."""

    list_name: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str  # normalised: one person per address, whatever the letter case
    name: str = ""
    language: str = ""  # Babel code; "" means the workspace's source language
    tags: frozenset[str] = frozenset()
    organization: str = ""
    outlet: str = ""
    beat: str = ""
    consent_source: str = ""
    consent_at: str = ""
    lists: tuple[str, ...] = ()  # the first is where the row below is
    line: int = field(default=0, compare=False)  # the row of the first list

    @property
    def key(self) -> str:
        return self.email.casefold()


@dataclass(frozen=True)
class RowProblem:
    origin: Origin
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass(frozen=True)
class ListFile:
    name: str
    path: Path
    recipients: tuple[Recipient, ...]
    problems: tuple[RowProblem, ...]


def read_list(name: str, path: Path) -> ListFile:
    """Parse one CSV list; bad rows become problems with their line, good rows recipients."""
    try:
        fh = path.open(encoding="utf-8-sig", newline="")  # with or without BOM
    except FileNotFoundError as err:
        raise RecipientError(f"list {name!r}: file not found", path=path) from err
    with fh:
        try:
            return _read_rows(name, path, fh)
        except UnicodeDecodeError:
            raw = path.read_bytes()  # only now: find the line of the first bad byte
            try:
                raw.decode("utf-8-sig")
                line = 1
            except UnicodeDecodeError as err:
                line = raw[: err.start].count(b"\n") + 1
            raise RecipientError("not UTF-8 text (save the list as 'CSV UTF-8')", path=path,
                                 line=line) from None


def _read_rows(name: str, path: Path, fh: TextIO) -> ListFile:
    """Stream the rows: a list of 100,000 people is never held as text in memory."""
    first = fh.readline()
    if not first.strip():
        raise RecipientError("empty file: the first line must name the columns", path=path,
                             line=1)
    delimiter = _delimiter(first, path)
    reader = csv.reader(itertools.chain([first], fh), delimiter=delimiter, strict=True)
    header = [h.strip().lower() for h in next(reader)]
    _check_header(header, path)
    recipients: list[Recipient] = []
    problems: list[RowProblem] = []
    try:
        start = reader.line_num + 1
        for row in reader:
            # a quoted cell may span lines: report the line the row starts on
            origin = Origin(name, path, start)
            start = reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(RowProblem(origin, f"{len(row)} fields where the header has "
                                                   f"{len(header)}"))
                continue
            try:
                recipients.append(_recipient(dict(zip(header, row, strict=True)), origin))
            except ValueError as err:
                problems.append(RowProblem(origin, str(err)))
    except csv.Error as err:
        raise RecipientError(f"broken CSV: {err}", path=path, line=reader.line_num) from err
    return ListFile(name, path, tuple(recipients), tuple(problems))


def _delimiter(text: str, path: Path) -> str:
    """Comma or semicolon, decided by the header line (German spreadsheets write ';')."""
    first = text.split("\n", 1)[0]
    if first.count(";") > first.count(","):
        return ";"
    if "," in first or "email" in first.lower():
        return ","
    raise RecipientError("cannot tell the delimiter: the header must list the columns "
                         "separated by ',' or ';'", path=path, line=1)


def _check_header(header: list[str], path: Path) -> None:
    if "email" not in header:
        raise RecipientError("no 'email' column in the header", path=path, line=1)
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise RecipientError(f"unknown column(s) {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(COLUMNS)})", path=path, line=1)
    seen = set()
    for h in header:
        if h in seen:
            raise RecipientError(f"column {h!r} appears twice", path=path, line=1)
        seen.add(h)


def _recipient(cells: Mapping[str, str], origin: Origin) -> Recipient:
    for column, value in cells.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"{column}: contains a line break")
        if any(ord(c) < 32 for c in value if c != "\t"):
            raise ValueError(f"{column}: contains control characters")
    email = cells.get("email", "").strip()
    if not email:
        raise ValueError("missing email address")
    try:
        email = normalize_address(email)
    except AddressError as err:
        raise ValueError(f"invalid email address {email!r}: {err}") from err
    lang = cells.get("language", "").strip()
    if lang:
        try:
            lang = language(lang).code
        except LanguageError as err:
            raise ValueError(f"language: {err.message}") from err
    tags = frozenset(t.lower() for t in _TAG_SPLIT.split(cells.get("tags", "")) if t) or _NO_TAGS
    for tag in tags:
        if not _TAG.match(tag):
            raise ValueError(f"tags: {tag!r} is not a tag (letters, digits, '-', '_')")
    consent_at = cells.get("consent_at", "").strip()
    if consent_at:
        try:
            dt.datetime.fromisoformat(consent_at)
        except ValueError as err:
            raise ValueError(f"consent_at: {consent_at!r} is not an ISO date "
                             "(YYYY-MM-DD)") from err
    # Lists of 100,000 people repeat a few clubs, outlets and consent sources: share
    # those strings, so memory grows with the people, not with their repeated details.
    return Recipient(
        email=email,
        name=" ".join(cells.get("name", "").split()),
        language=lang,
        tags=tags,
        organization=sys.intern(cells.get("organization", "").strip()),
        outlet=sys.intern(cells.get("outlet", "").strip()),
        beat=sys.intern(cells.get("beat", "").strip()),
        consent_source=sys.intern(cells.get("consent_source", "").strip()),
        consent_at=consent_at,
        lists=_list_tuple(origin.list_name),
        line=origin.line,
    )


_NO_TAGS: frozenset[str] = frozenset()


@lru_cache(maxsize=256)
def _list_tuple(name: str) -> tuple[str, ...]:
    return (name,)


@dataclass(frozen=True)
class Merged:
    recipients: tuple[Recipient, ...]  # one per person, first appearance order
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...]  # e.g. conflicting languages of the same person


def merge(files: Iterable[ListFile]) -> Merged:
    """One recipient per address across all lists; the first row's details win."""
    people: dict[str, Recipient] = {}
    problems: list[RowProblem] = []
    notes: list[str] = []
    paths: dict[str, Path] = {}
    for lf in files:
        paths[lf.name] = lf.path
        problems.extend(lf.problems)
        for r in lf.recipients:
            key = r.key
            if key == r.email:
                key = r.email  # reuse the stored string: 100,000 keys cost nothing extra
            known = people.get(key)
            if known is None:
                people[key] = r
                continue
            if r.language and known.language and r.language != known.language:
                notes.append(f"{lf.path}:{r.line}: {r.email} asks for {r.language!r}, but "
                             f"{paths[known.lists[0]]}:{known.line} says {known.language!r};"
                             f" using {known.language!r}")
            people[key] = replace(
                known,
                name=known.name or r.name,
                language=known.language or r.language,
                tags=known.tags | r.tags,
                organization=known.organization or r.organization,
                outlet=known.outlet or r.outlet,
                beat=known.beat or r.beat,
                lists=tuple(dict.fromkeys(known.lists + r.lists)),
            )
    return Merged(tuple(people.values()), tuple(problems), tuple(notes))
