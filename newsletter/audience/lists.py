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
# Header cells as German offices write them; matched without letter case, spaces,
# hyphens or underscores (see _header_key), like our own column names.
GERMAN_HEADERS = ("E-Mail, E-Mail-Adresse, Name, Sprache, Schlagworte, Organisation, Verein, "
                  "Medium, Ressort, Einwilligung, Einwilligungsdatum")
_ALIASES = {
    "email": ("e-mail", "e-mail-adresse", "emailadresse", "mail", "mailadresse"),
    "name": (),
    "language": ("sprache",),
    "tags": ("schlagworte", "schlagwörter", "schlagwort"),
    "organization": ("organisation", "verein"),
    "outlet": ("medium",),
    "beat": ("ressort",),
    "consent_source": ("einwilligung",),
    "consent_at": ("einwilligungsdatum", "einwilligung am"),
}


def _header_key(cell: str) -> str:
    """'E-Mail Adresse', 'e-mail-adresse' and 'EMAIL_ADRESSE' are one header."""
    return "".join(c for c in cell.casefold() if c.isalnum())


HEADERS = {_header_key(alias): column for column, aliases in _ALIASES.items()
           for alias in (column, *aliases)}
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
    notes: tuple[str, ...] = ()  # how it was read, when that needs saying


def read_list(name: str, path: Path) -> ListFile:
    """Parse one CSV list; bad rows become problems with their line, good rows recipients.

    UTF-8 first (with or without BOM). A file that is not UTF-8 is read again as
    Windows-1252, what German Excel writes for "CSV (Trennzeichen-getrennt)", and the
    result says so in its notes.
    """
    try:
        return _read_file(name, path, "utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        found = _read_file(name, path, "cp1252")
    except UnicodeDecodeError:
        raise RecipientError("neither UTF-8 nor Windows-1252 text (save the list as "
                             "'CSV UTF-8')", path=path, line=_undecodable_line(path)) from None
    notes = (f"{path}: read as Windows-1252, not UTF-8 (an Excel export)",
             *_lost_letters(found.recipients, path))
    return replace(found, notes=notes)


def _read_file(name: str, path: Path, encoding: str) -> ListFile:
    try:
        fh = path.open(encoding=encoding, newline="")
    except FileNotFoundError as err:
        raise RecipientError(f"list {name!r}: file not found", path=path) from err
    with fh:
        return _read_rows(name, path, fh)


def _undecodable_line(path: Path) -> int:
    """The line of the first byte that neither UTF-8 nor Windows-1252 reads (line by line:
    only this error path looks at bytes, and never at the whole file at once)."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    raw.decode("cp1252")
                except UnicodeDecodeError:
                    return number
    return 1


_LOST = ("name", "organization", "outlet")


def _lost_letters(recipients: Iterable[Recipient], path: Path) -> list[str]:
    """Excel writes '?' for every letter Windows-1252 lacks (ş, ğ, ı, Cyrillic, Arabic):
    point at the first such row, so someone can export again as 'CSV UTF-8'."""
    hits = [(r, v) for r in recipients for v in (getattr(r, c) for c in _LOST) if "?" in v]
    if not hits:
        return []
    (first, value), more = hits[0], len({r.line for r, _ in hits}) - 1
    also = f" (and {more} more row(s))" if more else ""
    return [f"{path}:{first.line}: {value!r} has '?' where Excel may have dropped a letter "
            f"Windows-1252 lacks{also}; export the list as 'CSV UTF-8' to keep them"]


def _read_rows(name: str, path: Path, fh: TextIO) -> ListFile:
    """Stream the rows: a list of 100,000 people is never held as text in memory."""
    first = fh.readline()
    if not first.strip():
        raise RecipientError("empty file: the first line must name the columns", path=path,
                             line=1)
    delimiter = _delimiter(first, path)
    reader = csv.reader(itertools.chain([first], fh), delimiter=delimiter, strict=True)
    header = _columns(next(reader), path)
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
    if "," in first or _header_key(first) in HEADERS:  # one column: the address alone
        return ","
    raise RecipientError("cannot tell the delimiter: the header must list the columns "
                         "separated by ',' or ';'", path=path, line=1)


def _columns(cells: list[str], path: Path) -> list[str]:
    """Our column for every header cell, German or English, in any letter case."""
    header = [HEADERS.get(_header_key(cell), "") for cell in cells]
    unknown = [cell.strip() for cell, column in zip(cells, header, strict=True) if not column]
    if unknown:
        raise RecipientError(f"unknown column(s) {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(COLUMNS)}; or German: {GERMAN_HEADERS})",
                             path=path, line=1)
    if "email" not in header:
        raise RecipientError("no 'email' column in the header", path=path, line=1)
    seen: dict[str, str] = {}
    for cell, column in zip(cells, header, strict=True):
        if column in seen:
            raise RecipientError(f"column {column!r} appears twice ({seen[column]!r} and "
                                 f"{cell.strip()!r})", path=path, line=1)
        seen[column] = cell.strip()
    return header


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
        lang = _language_code(lang)
    tags = frozenset(t.lower() for t in _TAG_SPLIT.split(cells.get("tags", "")) if t) or _NO_TAGS
    for tag in tags:
        if not _TAG.match(tag):
            raise ValueError(f"tags: {tag!r} is not a tag (letters, digits, '-', '_')")
    consent_at = _consent_date(cells.get("consent_at", "").strip())
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
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _consent_date(value: str) -> str:
    """ISO dates as they are; 14.03.2018, as German spreadsheets write dates, as ISO."""
    if not value:
        return ""
    german = _GERMAN_DATE.match(value)
    try:
        if german:
            day, month, year = map(int, german.groups())
            return dt.date(year, month, day).isoformat()
        dt.datetime.fromisoformat(value)
    except ValueError as err:
        raise ValueError(f"consent_at: {value!r} is not a date (YYYY-MM-DD, or DD.MM.YYYY)"
                         ) from err
    return value


@lru_cache(maxsize=256)
def _language_code(cell: str) -> str:
    """Babel's code for 'AR', 'De', 'pt_br' or 'PT-BR': spreadsheets do not keep case."""
    parts = cell.replace("-", "_").split("_")
    parts[0] = parts[0].lower()
    parts[1:] = [p.title() if len(p) == 4 else p.upper() for p in parts[1:]]
    try:
        return language("_".join(parts)).code
    except LanguageError as err:
        raise ValueError(f"language: {err.message}") from err


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
        notes.extend(lf.notes)
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
