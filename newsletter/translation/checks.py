"""Our own checks of a translation against its source, beyond Babel's and msgfmt's.

An entry that fails any of them is not reviewed, whatever its flag says: it is
not sent and ``newsletter status`` names it. Each problem is a ``Reason``: the English
sentence the command line prints, and a code with parameters (CHECK_CODES, and the
tag codes of content.segments) that the admin pages say in the officer's language.
"""

from __future__ import annotations

import re
from collections import Counter

from newsletter.content.segments import PSEUDO_TAG, Segment, check_tags
from newsletter.reasons import Reason
from newsletter.translation.masking import _FIXED

_URL = re.compile(_FIXED[1])
_EMAIL = re.compile(_FIXED[2])
# 10.000, 10,000 and 10 000 are one number; 10000 10000 are two
_NUMBER = re.compile(r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?!\d)|\d+")
# Arabic-Indic (U+0660..) and Extended/Persian (U+06F0..) digits read as 0-9
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
LONG_SOURCE_WORDS = 5
RATIO_MIN, RATIO_MAX = 0.3, 3.2
RATIO_MIN_CHARS = 40
CHECK_CODES = ("url_missing", "email_missing", "numbers_missing", "identical", "length_ratio")


def numbers(text: str) -> Counter[int]:
    out: Counter[int] = Counter()
    for match in _NUMBER.finditer(text.translate(_DIGITS)):
        out[int(re.sub(r"\D", "", match.group(0)))] += 1
    return out


def check_translation(source: Segment, translation: str) -> list[Reason]:
    """Problems of ``translation`` (empty list: it passes)."""
    problems = check_tags(translation, source.tags)
    src, dst = source.text, translation
    for item in _URL.findall(src):
        if item not in dst:
            problems.append(Reason("url_missing", f"URL {item} is missing", url=item))
    for item in _EMAIL.findall(src):
        if item not in dst:
            problems.append(Reason("email_missing", f"email address {item} is missing",
                                   address=item))
    missing = numbers(PSEUDO_TAG.sub(" ", src)) - numbers(PSEUDO_TAG.sub(" ", dst))
    if missing:
        listed = ", ".join(str(n) for n in sorted(missing))
        problems.append(Reason("numbers_missing", "number(s) missing: " + listed,
                               numbers=listed))
    if len(src.split()) >= LONG_SOURCE_WORDS and dst.strip() == src.strip():
        problems.append(Reason("identical", "identical to the source (not translated?)"))
    if len(src) >= RATIO_MIN_CHARS:
        ratio = len(dst) / len(src)
        if not RATIO_MIN <= ratio <= RATIO_MAX:
            problems.append(Reason("length_ratio", f"length {ratio:.1f} times the source "
                                   "(truncated or padded?)", ratio=ratio))
    return problems
