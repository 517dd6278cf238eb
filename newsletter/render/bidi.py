"""Right-to-left helpers: isolate Latin-script runs (names, numbers, addresses) in RTL text.

The Unicode bidi algorithm already shows a Latin word inside Arabic text in the
right order; what goes wrong is the neutral characters at its edges ("KD 11/13",
"e.V.", "45329 Essen," or a phone number's "+"), which take the direction of
the surrounding text and jump to the wrong side. Wrapping each run in ``<bdi>``
isolates it, so it is laid out as one left-to-right unit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

from newsletter.workspace.languages import Language

_LATIN = r"A-Za-z0-9\u00C0-\u024F\u1E00-\u1EFF"
# A run starts and ends with a Latin letter or digit and may contain spaces and the
# punctuation that occurs inside names, addresses and numbers. A final "." stays in
# the run only after an abbreviation such as "e.V.".
LATIN_RUN = re.compile(
    rf"[{_LATIN}](?:[{_LATIN} .,:;/@+&'’_\-–()]*[{_LATIN}])?(?:(?<=\.[A-Za-z])\.)?"
)


def isolate_latin(text: str) -> Markup:
    """Escape ``text`` and wrap each Latin-script run in ``<bdi>``."""
    out: list[str] = []
    pos = 0
    for match in LATIN_RUN.finditer(text):
        if match.start() < pos:  # swallowed by the previous run's closing parenthesis
            continue
        start, end = match.start(), match.end()
        run = text[start:end]
        # keep brackets paired inside one isolate: "(e.V.)" must not lose its ")"
        while run.count("(") > run.count(")") and text[end : end + 1] == ")":
            end += 1
            run = text[start:end]
        out.append(escape(text[pos:start]))
        out.append(Markup("<bdi>%s</bdi>") % run)
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def text_filter(lang: Language) -> Callable[[str], Markup]:
    """How text of ``lang`` becomes HTML: escaped, with Latin runs isolated when RTL."""
    return isolate_latin if lang.is_rtl else escape
