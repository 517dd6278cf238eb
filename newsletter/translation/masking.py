"""Protected text: what an engine must not touch becomes a token such as ``[X1X]``.

Pseudo-tags, URLs, email addresses, phone numbers and the do-not-translate
glossary (``locales/glossary.txt``: names of the association, places, people)
are replaced by numbered tokens before a segment goes to an engine. Afterwards
every token must come back exactly once; engines like to add spaces inside
brackets (``[X 1 X]``), which we tolerate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_TOKEN_BACK = re.compile(r"\[\s*[Xx]\s*(\d+)\s*[Xx]\s*\]")
_FIXED = [
    r"</?\d+/?>",  # pseudo-tags
    r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]]",  # URLs, without trailing punctuation
    r"(?:mailto:)?[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",  # email addresses
    r"(?:\+|\b00)\d{1,3}[ \-/]?(?:\(0\)[ \-/]?)?\d{2,5}(?:[ \-/]?\d{2,}){1,4}",  # phones
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
