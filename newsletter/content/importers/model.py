"""What an importer makes of a foreign file before it is written as a release.

Each reader (text, Word, HTML) turns its file into a list of ``Piece``s in document
order; the shared guesses (guess.py) then move some of them into front-matter
values, and the writer (markdown.py) turns the rest into the body. A piece that
becomes a front-matter value is remembered as ``Consumed`` and written back as a
comment, so nothing of the original text disappears without a trace.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

# Piece kinds. "title" is a heading the source itself marks as the title (Word's
# Title style, HTML <h1>); "paragraph" pieces may still turn into headings when a
# plain-text reader decides they are sub-heads.
PIECE_KINDS = ("paragraph", "heading", "title", "list", "table", "picture", "quote", "code")


@dataclass(frozen=True)
class Run:
    """A stretch of inline text with one formatting; ``\\n`` in text is a hard line break."""

    text: str
    bold: bool = False
    italic: bool = False
    href: str = ""


@dataclass(frozen=True)
class Picture:
    """An image that came inside the file (Word) or next to it (HTML)."""

    data: bytes
    ext: str  # lower case, without the dot
    alt: str = ""
    caption: str = ""


@dataclass(eq=False)
class Piece:
    kind: str
    markdown: str = ""  # the block as Markdown; for headings without the leading '#'s
    plain: str = ""  # the text without markup, lines kept, for the guesses
    where: str = ""  # "line 12" or "paragraph 3": for comments and messages
    level: int = 0  # heading level in the source (1 = top)
    picture: Picture | None = None
    role: str = ""  # set by the guesses: "place" for the place-and-time line
    seq: int = 0  # position in the source, set by Draft: consumed pieces are listed in order


@dataclass(frozen=True)
class Consumed:
    """A piece of the source that became front matter instead of body text."""

    where: str
    text: str
    became: str  # "title", "date", "category", "contact", "photo caption", ...
    seq: int = 0


@dataclass
class ContactGuess:
    name: str = ""
    role: str = ""
    phone: str = ""
    email: str = ""

    def missing(self) -> list[str]:
        return [key for key in ("name", "phone", "email") if not getattr(self, key)]


@dataclass
class Draft:
    """Everything guessed about one source file; the writer turns it into a release."""

    source: Path
    pieces: list[Piece]
    title: str = ""
    date: dt.date | None = None
    kind: str = ""  # "" until guessed
    kind_reason: str = ""
    category: str = ""
    location: str = ""
    contact: ContactGuess | None = None
    caption: str = ""  # a photo caption without a photo file
    fallback_title: str = ""  # from the file's properties, when its text names no title
    consumed: list[Consumed] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # "check these" for the user

    def __post_init__(self) -> None:
        for seq, piece in enumerate(self.pieces):
            piece.seq = seq

    def consume(self, piece: Piece, became: str) -> None:
        self.consumed.append(Consumed(piece.where, piece.plain, became, piece.seq))
        self.pieces[:] = [p for p in self.pieces if p is not piece]  # by identity, not value
