"""Protected text: what an engine must not touch becomes a token such as ``[X1X]``.

Pseudo-tags, URLs (also ``www.`` without a scheme), email addresses, phone
numbers as German offices write them, numeric dates and clock times, and the
do-not-translate glossary (``locales/glossary.txt``: names of the association,
places, people) are replaced by numbered tokens before a segment goes to an
engine. Of "17–19 Uhr" only the times are protected: "Uhr" is left for the engine,
which writes "saat 17–19" or "17–19 h", where a protected "Uhr" would stay German. Afterwards
every token must come back exactly once; engines like to add spaces inside
brackets (``[X 1 X]``), which we tolerate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_TOKEN_BACK = re.compile(r"\[\s*[Xx]\s*(\d+)\s*[Xx]\s*\]")
_SP = "[ \u00a0\u202f]"  # a space, also the no-break ones German typesetting uses
_H = r"(?:[01]?\d|2[0-3])"  # an hour
_HM = rf"{_H}[:.][0-5]\d"  # 17:30, 17.30
_T = rf"{_H}(?:[:.][0-5]\d)?"  # 17 or 17:30
_DASH = rf"{_SP}?[–-]{_SP}?"
# Tried in this order at each position: an earlier pattern wins where two could start.
# checks.py reads the URL and email patterns by index: keep them at 1 and 2.
_FIXED = [
    r"</?\d+/?>",  # pseudo-tags
    r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]]",  # URLs, without trailing punctuation
    r"(?:mailto:)?[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",  # email addresses
    r"(?<![\w./@-])www\.[^\s<>\"]*[^\s<>\".,;:!?)\]]",  # www.example.org, no scheme
    # dates: 23.08.2018, 1.9.18, 3.10. (the dot is part of a German date), 2018-08-23
    r"(?<![\w.])(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:\d{4}|\d{2})?(?!\w|\.\d)",
    r"(?<![\w.-])\d{4}-[01]\d-[0-3]\d(?![\w-])",
    # times: "17–19 Uhr", "17:30 Uhr" (Uhr itself not), and 17:30 or 17:30–19:00 alone
    rf"(?<![\w.,:])(?:{_T}{_DASH})?{_T}(?={_SP}?Uhr\b)",
    rf"(?<![\w.,:])(?:{_HM}{_DASH})?{_HM}(?![.,:]?\d)",
    # international phones: +49 201 1234567, 0049 201 88-0, +49 (0)201 123 45 67
    r"(?:\+|\b00)\d{1,3}[ \-/]?(?:\(0\)[ \-/]?)?\d{2,5}(?:[ \-/]?\d{2,}){1,4}(?:-\d{1,5})?",
    # German phones: 0201 1234567, (0201) 123 45-67, 0 23 07 / 96 52 72; six digits at
    # least, so that a postcode (01067) stays text
    rf"(?<![\w.,/+-])(?=\(?0(?:[ \u00a0/)-]{{0,3}}\d){{5}})"
    rf"(?:\(0\d{{1,5}}\)|0(?:{_SP}?\d){{1,5}})(?:{_SP}?/{_SP}?|{_SP}|-)?"
    rf"\d(?:{_SP}?\d){{2,}}(?:-\d{{1,5}})?(?!\d)",
]


class MaskError(ValueError):
    """A translation lost, doubled or invented a protected token."""


@dataclass(frozen=True)
class Masked:
    text: str
    originals: tuple[str, ...]  # originals[i] is token [X{i+1}X]


def load_glossary(path: Path) -> tuple[str, ...]:
    """One term per line; '#' starts a comment. Longest terms are matched first."""
    if not path.exists():
        return ()
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip()
        if term:
            terms.append(term)
    return tuple(sorted(set(terms), key=len, reverse=True))


def _pattern(glossary: tuple[str, ...]) -> re.Pattern[str]:
    parts = list(_FIXED)
    parts += [rf"(?<!\w){re.escape(term)}(?!\w)" for term in glossary]
    return re.compile("|".join(f"(?:{p})" for p in parts))


def mask(text: str, glossary: tuple[str, ...] = ()) -> Masked:
    originals: list[str] = []

    def token(match: re.Match[str]) -> str:
        originals.append(match.group(0))
        return f"[X{len(originals)}X]"

    masked = _pattern(glossary).sub(token, text)
    return Masked(masked, tuple(originals))


def unmask(translated: str, masked: Masked) -> str:
    """Put the originals back; every token exactly once, no others."""
    found = [int(m.group(1)) for m in _TOKEN_BACK.finditer(translated)]
    expected = set(range(1, len(masked.originals) + 1))
    lost = sorted(expected - set(found))
    doubled = sorted({n for n in found if found.count(n) > 1})
    invented = sorted(set(found) - expected)
    problems = []
    if lost:
        problems.append("lost " + ", ".join(masked.originals[n - 1] for n in lost))
    if doubled:
        problems.append("doubled " + ", ".join(masked.originals[n - 1] for n in doubled))
    if invented:
        problems.append("invented token(s) " + ", ".join(f"[X{n}X]" for n in invented))
    if problems:
        raise MaskError("; ".join(problems))
    return _TOKEN_BACK.sub(lambda m: masked.originals[int(m.group(1)) - 1], translated)
