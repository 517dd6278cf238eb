"""Right-to-left helpers: isolate left-to-right runs (names, numbers, addresses) in RTL text.

The Unicode bidi algorithm already shows a Latin word inside Arabic text in the
right order; what goes wrong is the neutral characters at its edges and between
digit groups ("KD 11/13", "e.V.", "45329 Essen,", the "+" and the groups of
"0 23 07 / 9 24 88-77"), which take the direction of the surrounding text, so
that a phone number comes out with its groups reversed. Each such run is laid
out as one left-to-right unit by isolating it.

``<bdi>`` would do that in a browser, but Gmail, Outlook, Yahoo, GMX and WEB.DE
drop it. So a run becomes ``<span dir="ltr">`` with the Unicode isolates LRI
(U+2066) and PDI (U+2069) inside it: a client that drops the element or its
``dir`` still has the characters, and the plain-text part gets the same
characters around the same runs. A name of unknown script (the greeting) gets
FSI (U+2068, "first strong isolate"), which takes the direction of its first letter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

from newsletter.workspace.languages import Language

LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
_ISOLATES = LRI + FSI + "\u2067"  # and RLI, which we never write but may meet

_LATIN = r"A-Za-z0-9\u00C0-\u024F\u1E00-\u1EFF"
# A URL runs to the next space, without punctuation that ends a sentence.
_URL = r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]»“”'’]"
# Otherwise a run starts with a Latin letter or digit (or the "+" of a phone number,
# the "#" of a hashtag) and ends with one, and may contain spaces and the punctuation
# that occurs inside names, addresses and numbers. A final "." stays in the run only
# after an abbreviation such as "e.V."; a percent or euro sign after a number stays.
_RUN = (rf"(?:\+(?=\d)|#(?=[{_LATIN}]))?[{_LATIN}](?:[{_LATIN} .,:;/@+&'’_\-–()]*[{_LATIN}])?"
        r"(?:(?<=\.[A-Za-z])\.|(?<=\d)[ \u00a0\u202f]?[%€])?")
LATIN_RUN = re.compile(rf"{_URL}|{_RUN}")


def latin_runs(text: str) -> list[tuple[int, int]]:
    """Start and end of each left-to-right run of ``text``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in LATIN_RUN.finditer(text):
        if match.start() < pos:  # swallowed by the previous run's closing parenthesis
            continue
        start, end = match.start(), match.end()
        # keep brackets paired inside one isolate: "(e.V.)" must not lose its ")"
        while text[start:end].count("(") > text[start:end].count(")") and text[end:end + 1] == ")":
            end += 1
        spans.append((start, end))
        pos = end
    return spans


def isolate_latin(text: str) -> Markup:
    """Escape ``text`` and isolate each left-to-right run (element plus Unicode isolates)."""
    out: list[str] = []
    pos = 0
    for start, end in latin_runs(text):
        out.append(escape(text[pos:start]))
        out.append(ltr_html(text[start:end]))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def isolate_latin_text(text: str) -> str:
    """Plain text with each left-to-right run between LRI and PDI."""
    out: list[str] = []
    pos = 0
    for start, end in latin_runs(text):
        out += [text[pos:start], LRI, text[start:end], PDI]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def ltr_html(text: str | Markup) -> Markup:
    """One left-to-right run as HTML: ``<span dir="ltr">`` around LRI, the text, PDI."""
    return Markup('<span dir="ltr">%s%s%s</span>') % (LRI, text, PDI)


def text_filter(lang: Language) -> Callable[[str], Markup]:
    """How text of ``lang`` becomes HTML: escaped, with Latin runs isolated when RTL."""
    return isolate_latin if lang.is_rtl else escape


def plain_filter(lang: Language) -> Callable[[str], str]:
    """How text of ``lang`` goes into the plain-text part: Latin runs isolated when RTL."""
    return isolate_latin_text if lang.is_rtl else str


def balance_isolates(lines: list[str]) -> list[str]:
    """Close at the end of each line the isolates it leaves open, and reopen them on the next.

    A line break ends a bidi paragraph, and with it every isolate: a run wrapped over
    two lines must be isolated on both.
    """
    out: list[str] = []
    carry: list[str] = []
    for line in lines:
        stack = list(carry)
        for char in line:
            if char in _ISOLATES:
                stack.append(char)
            elif char == PDI and stack:
                stack.pop()
        out.append("".join(carry) + line + PDI * len(stack))
        carry = stack
    return out
