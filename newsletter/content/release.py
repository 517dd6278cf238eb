"""A release as typed values: front matter, blocks, translation units (see parser.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from newsletter.content.segments import Segment

KINDS = ("news", "press")
FRONT_KEYS = (
    "title", "date", "category", "kind", "summary", "location", "contact", "image", "embargo",
    "attachments", "kicker", "subtitle", "contacts", "event",
)
# "organisation" is the British and German spelling of the same key
CONTACT_KEYS = ("name", "role", "organization", "organisation", "address", "phone", "email",
                "web")
EVENT_KEYS = ("title", "start", "end", "venue", "address", "url")
IMAGE_KEYS = ("path", "alt", "caption", "credit", "print")
_SPACE = re.compile(r"[ \t\r\n]+")


def squash(text: str) -> str:
    """Collapse ASCII whitespace runs (not no-break spaces, which are meant) and trim."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Contact:
    name: str
    role: Segment | None = None  # translated ("contact role")
    phone: str = ""
    email: str = ""
    organization: str = ""  # a name: not translated
    address: str = ""  # one line, as written: not translated
    web: str = ""  # as written ("www.example.org" or "https://...")
    line: int = 0

    @property
    def web_url(self) -> str:
        """The link of ``web``: "www.example.org" becomes "https://www.example.org"."""
        return self.web if "://" in self.web else f"https://{self.web}"


@dataclass(frozen=True)
class Event:
    """An appointment the release announces: shown as a box and sent as an .ics file.

    ``start`` and ``end`` are aware datetimes in the workspace's time zone, or dates
    for an event that lasts whole days (``end`` then is its last day)."""

    start: dt.datetime | dt.date
    end: dt.datetime | dt.date | None = None
    title: Segment | None = None  # translated ("event title"); else the release's title
    venue: Segment | None = None  # the place's name, translated ("venue")
    address: str = ""  # street and town, as written
    url: str = ""
    line: int = 0

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)


@dataclass(frozen=True)
class Image:
    path: Path  # absolute, inside the workspace
    alt: Segment
    caption: Segment | None = None
    credit: str = ""
    line: int = 0
    print_path: Path | None = None  # the high-resolution file for the press, if any


@dataclass(frozen=True)
class Heading:
    level: int
    text: Segment
    line: int


@dataclass(frozen=True)
class Paragraph:
    text: Segment
    line: int


@dataclass(frozen=True)
class ListItem:
    parts: tuple[Segment, ...]
    depth: int
    line: int


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    items: tuple[ListItem, ...]
    line: int
    start: int = 1


@dataclass(frozen=True)
class Quote:
    parts: tuple[Segment, ...]
    line: int


@dataclass(frozen=True)
class Table:
    """A GFM table: a header row, body rows and the alignment of each column."""

    header: tuple[Segment, ...]
    rows: tuple[tuple[Segment, ...], ...]
    aligns: tuple[str, ...]  # per column: "" (not given), "left", "center" or "right"
    line: int
    row_lines: tuple[int, ...] = ()  # the file line of each body row


@dataclass(frozen=True)
class Figure:
    image: Image
    line: int


@dataclass(frozen=True)
class Preformatted:
    """A fenced or indented code block: shown as it is, never translated."""

    text: str
    line: int


@dataclass(frozen=True)
class Rule:
    line: int


Block = Heading | Paragraph | ListBlock | Quote | Table | Figure | Preformatted | Rule


@dataclass(frozen=True)
class Unit:
    """One translatable string of a release, as it goes into a catalog."""

    context: str | None  # msgctxt: only for roles (title, summary, caption, ...)
    segment: Segment
    block_type: str  # written as the extracted comment ``#. paragraph``
    line: int


@dataclass(frozen=True)
class Release:
    id: str
    path: Path
    title: Segment
    date: dt.date
    kind: str = "news"
    category: Segment | None = None
    summary: Segment | None = None
    location: Segment | None = None
    contacts: tuple[Contact, ...] = ()  # the press contact, or several
    image: Image | None = None
    embargo: dt.datetime | None = None
    attachments: tuple[Path, ...] = ()  # files sent along (press mailings)
    blocks: tuple[Block, ...] = ()
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    kicker: Segment | None = None  # the line above the title (Dachzeile)
    subtitle: Segment | None = None  # the line below it
    event: Event | None = None

    @property
    def contact(self) -> Contact | None:
        """The first contact (releases with ``contact:`` have one)."""
        return self.contacts[0] if self.contacts else None

    def units(self) -> Iterator[Unit]:
        """Every translatable string in document order."""
        ln = self.lines
        front = [Unit("title", self.title, "title", ln.get("title", 1))]
        for role, seg in (("summary", self.summary), ("category", self.category),
                          ("location", self.location), ("kicker", self.kicker),
                          ("subtitle", self.subtitle)):
            if seg:
                front.append(Unit(role, seg, role, ln.get(role, 1)))
        for contact in self.contacts:
            if contact.role:
                front.append(Unit("contact role", contact.role, "contact role",
                                  contact.line or ln.get("contact", 1)))
        if self.event:
            ev = self.event
            if ev.title:
                front.append(Unit("event title", ev.title, "event title",
                                  ln.get("event.title", ev.line)))
            if ev.venue:
                front.append(Unit("venue", ev.venue, "event venue",
                                  ln.get("event.venue", ev.line)))
        if self.image:
            front.extend(_image_units(self.image, "image"))
        yield from sorted(front, key=lambda u: u.line)  # the order a reader of the file sees
        for block in self.blocks:
            yield from _block_units(block)

    def translated(self, lookup: Translate) -> Release:
        """A copy with every segment replaced by ``lookup(context, segment)``."""

        def tr(ctx: str | None, seg: Segment | None) -> Segment | None:
            return None if seg is None else lookup(ctx, seg)

        contacts = tuple(replace(c, role=tr("contact role", c.role)) for c in self.contacts)
        event = self.event
        if event:
            event = replace(event, title=tr("event title", event.title),
                            venue=tr("venue", event.venue))
        return replace(
            self,
            title=lookup("title", self.title),
            summary=tr("summary", self.summary),
            category=tr("category", self.category),
            location=tr("location", self.location),
            kicker=tr("kicker", self.kicker),
            subtitle=tr("subtitle", self.subtitle),
            contacts=contacts,
            event=event,
            image=_translate_image(self.image, lookup) if self.image else None,
            blocks=tuple(_translate_block(b, lookup) for b in self.blocks),
        )


class Translate:  # pragma: no cover - a typing protocol written as a plain class
    def __call__(self, context: str | None, segment: Segment) -> Segment: ...


def _image_units(image: Image, where: str) -> Iterator[Unit]:
    if image.alt.text:
        yield Unit("alt", image.alt, f"{where} alt text", image.line)
    if image.caption:
        yield Unit("caption", image.caption, f"{where} caption", image.line)


def _block_units(block: Block) -> Iterator[Unit]:
    match block:
        case Heading():
            yield Unit(None, block.text, "heading", block.line)
        case Paragraph():
            yield Unit(None, block.text, "paragraph", block.line)
        case ListBlock():
            for item in block.items:
                for part in item.parts:
                    yield Unit(None, part, "list item", item.line)
        case Quote():
            for part in block.parts:
                yield Unit(None, part, "quotation", block.line)
        case Table():
            yield from _table_units(block)
        case Figure():
            yield from _image_units(block.image, "figure")


def _table_units(table: Table) -> Iterator[Unit]:
    for cell in table.header:
        if cell.text:
            yield Unit("table header", cell, "table header", table.line)
    for row, line in zip(table.rows, table.row_lines or [table.line] * len(table.rows),
                         strict=True):
        for cell in row:
            if cell.text:
                yield Unit("table cell", cell, "table cell", line)


def _translate_image(image: Image, lookup: Translate) -> Image:
    return replace(
        image,
        alt=lookup("alt", image.alt) if image.alt.text else image.alt,
        caption=lookup("caption", image.caption) if image.caption else None,
    )


def _translate_block(block: Block, lookup: Translate) -> Block:
    match block:
        case Heading() | Paragraph():
            return replace(block, text=lookup(None, block.text))
        case ListBlock():
            items = tuple(
                replace(i, parts=tuple(lookup(None, p) for p in i.parts)) for i in block.items
            )
            return replace(block, items=items)
        case Quote():
            return replace(block, parts=tuple(lookup(None, p) for p in block.parts))
        case Table():
            def cell(ctx: str, seg: Segment) -> Segment:
                return lookup(ctx, seg) if seg.text else seg

            return replace(
                block,
                header=tuple(cell("table header", c) for c in block.header),
                rows=tuple(tuple(cell("table cell", c) for c in row) for row in block.rows),
            )
        case Figure():
            return replace(block, image=_translate_image(block.image, lookup))
    return block
