"""The Markdown dialect of releases: CommonMark, HTML off, plus rules for German press texts.

* A ``*`` between two letters or digits is text, never emphasis: the gender star
  of ``Migrant*innen, Vertreter*innen`` reaches readers as written. CommonMark
  already treats ``_`` inside a word (``Bürger_innen``) as text, and ``:``
  (``Lehrer:innen``) is never markup. Emphasis written with a space or
  punctuation outside the stars (``*wichtig*``, ``**fett**``) works as usual.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline


def markdown() -> MarkdownIt:
    """The parser releases are read with."""
    md = MarkdownIt("commonmark", {"html": False})
    md.inline.ruler.before("emphasis", "word_star", _word_star)
    return md


def _word_star(state: StateInline, silent: bool) -> bool:
    """A run of ``*`` with a letter or digit on both sides is literal text."""
    src, pos = state.src, state.pos
    if src[pos] != "*" or pos == 0 or not src[pos - 1].isalnum():
        return False
    end = pos
    while end < state.posMax and src[end] == "*":
        end += 1
    if end >= state.posMax or not src[end].isalnum():
        return False
    if not silent:
        state.pending += src[pos:end]
    state.pos = end
    return True
