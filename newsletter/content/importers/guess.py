"""The guesses every reader shares: front matter from the head and the foot of a text.

The head of a release (before the first paragraph of prose) carries the category,
the date, the title, a photo caption and a place-and-time line; its foot carries
"Kategorie: …" and the press contact. What is read as front matter leaves the body
and is remembered in ``Draft.consumed``; what stays is left for the reader to turn
into headings or paragraphs. Every guess that may be wrong or is missing becomes a
line in ``Draft.checks``.
"""

from __future__ import annotations

from newsletter.content.importers import patterns as pt
from newsletter.content.importers.model import ContactGuess, Draft, Piece
from newsletter.workspace.addresses import AddressError, normalize_address

_HEAD_LIMIT = 12  # pieces; a release's head is never longer
_TITLE_LIMIT = 200  # characters
# lines a contact block may span: Word users often give each line a paragraph of its own
_FOOT_LINES = 10


def shape(draft: Draft) -> None:
    """Run every guess on ``draft`` in the order that lets one help the next (the checks
    come later, when the reader has decided which paragraphs are headings)."""
    take_footer(draft)
    take_contact(draft)
    take_head(draft)
    if not draft.title and draft.fallback_title:
        draft.title = draft.fallback_title
        draft.checks.append("title taken from the file's properties: check it")
    guess_kind(draft)
    guess_place(draft)


def normalise_levels(pieces: list[Piece]) -> None:
    """Shift heading levels so that the top one below the title is ``##``."""
    levels = [p.level for p in pieces if p.kind == "heading"]
    if levels:
        shift = min(levels) - 2
        for piece in pieces:
            if piece.kind == "heading":
                piece.level = min(max(piece.level - shift, 2), 6)


def _text(piece: Piece) -> str:
    return piece.plain.strip()


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def take_footer(draft: Draft) -> None:
    """"Kategorie: …" near the end becomes the category."""
    for piece in [p for p in draft.pieces[-3:] if p.kind == "paragraph"]:
        value = pt.category_footer(_text(piece))
        if value:
            if draft.category and not _same(draft.category, value):
                draft.checks.append(f"two categories: {draft.category!r} and {value!r} "
                                    f"({piece.where}); the first is used")
            draft.category = draft.category or value
            draft.consume(piece, "category")


def take_contact(draft: Draft) -> None:
    """A run of short contact lines at the very end, with a phone number or an address."""
    run: list[Piece] = []
    seen = 0
    for piece in reversed(draft.pieces):
        lines = [ln for ln in _text(piece).split("\n") if ln.strip()]
        seen += len(lines)
        if piece.kind != "paragraph" or not lines or seen > _FOOT_LINES:
            break
        if not all(pt.contact_line(ln) for ln in lines):
            break
        run.insert(0, piece)
    # the run may start with short sub-heads that are not part of it: trim to the label/name
    while run and not any(_opens_contact(ln) for ln in _split_contact(_text(run[0]))):
        run.pop(0)
    lines = [ln.strip() for p in run for ln in _split_contact(_text(p))]
    if not any(pt.email_in(ln) or pt.phone_in(ln) for ln in lines):
        return
    draft.contact = _read_contact(lines, draft)
    for piece in run:
        draft.consume(piece, "contact")


def _opens_contact(line: str) -> bool:
    return (pt.contact_label(line) is not None or pt.name_like(line)
            or pt.email_in(line) is not None or pt.phone_in(line) is not None)


def _split_contact(text: str) -> list[str]:
    out: list[str] = []
    for line in text.split("\n"):
        if pt.email_in(line) or any(c.isdigit() for c in line):
            # "Leyla Demir, Tel. 0201 123, presse@…" on one line
            out.extend(part for part in _split_on(line, (" | ", " · ", "; ", ", ")) if part)
        else:
            out.append(line)
    return out


def _split_on(line: str, seps: tuple[str, ...]) -> list[str]:
    parts = [line]
    for sep in seps:
        parts = [p.strip() for part in parts for p in part.split(sep)]
    return parts


def _read_contact(lines: list[str], draft: Draft) -> ContactGuess:
    contact = ContactGuess()
    for raw in lines:
        line = raw
        rest = pt.contact_label(line)
        if rest is not None:
            if not rest:
                continue
            line = rest
        email, phone = pt.email_in(line), pt.phone_in(line)
        if email:
            contact.email = contact.email or email
        elif "@" in line:
            draft.checks.append(f"contact e-mail {line!r} not understood: left out")
        elif phone:
            contact.phone = contact.phone or phone
        elif pt.other_contact_line(line):
            continue
        elif not contact.name and pt.name_like(line):
            contact.name = line
        elif contact.name and not contact.role and pt.role_like(line):
            contact.role = line
    if contact.email:
        try:
            contact.email = normalize_address(contact.email)
        except AddressError as err:
            draft.checks.append(f"contact e-mail {contact.email!r} left out: {err}")
            contact.email = ""
    return contact


def take_head(draft: Draft) -> None:
    """Category, date, title, photo caption and place line before the first prose."""
    head = draft.pieces[:_HEAD_LIMIT]
    marked = next((p for p in head if p.kind == "title"), None)
    if marked is not None:  # the file says which its title is (Word's Title style, <h1>)
        _take_title(draft, marked)
    for i, piece in enumerate(head):
        if piece is marked or piece.kind == "picture":
            continue
        if piece.kind == "title":
            _take_title(draft, piece)
            continue
        if piece.kind != "paragraph":
            break
        if not _head_line(draft, piece, head[i + 1 :], marked=marked is not None):
            break


def _take_title(draft: Draft, piece: Piece) -> None:
    if draft.title:  # a second title-like heading is a section heading
        piece.kind, piece.level = "heading", 2
    else:
        draft.title = " ".join(piece.plain.split())
        draft.consume(piece, "title")


def _head_line(draft: Draft, piece: Piece, rest: list[Piece], *, marked: bool) -> bool:
    """Read one head paragraph; False when the body has begun. ``marked``: the file
    marked its title, so no paragraph is taken for one."""
    text = _text(piece)
    found = pt.date_line(text)
    if found:
        if draft.date is None:
            draft.date = found
        draft.consume(piece, "date")
    elif pt.caption_like(text) and draft.title and not draft.caption:
        draft.caption = " ".join(text.split())
        draft.consume(piece, "photo caption")
    elif pt.press_word(text) and pt.short_label(text, words=3):
        draft.consume(piece, "kind")  # "Pressemitteilung" on a line of its own
    elif draft.category and _same(text, draft.category):
        draft.consume(piece, "category")
    elif (marked or not draft.title) and not draft.category and _before_date(
            text, rest, title_after=not marked):
        draft.category = text
        draft.consume(piece, "category")
    elif not draft.title and _title_like(text):
        _take_title(draft, piece)
    elif pt.is_prose(text):
        return False
    elif draft.title and _same(text, draft.title):
        draft.consume(piece, "same as the title")
    elif pt.place(text):
        piece.role = "place"
    return True


def _title_like(text: str) -> bool:
    # a title may end in "!" or "?", never in a full stop: that is the first paragraph
    return len(text) <= _TITLE_LIMIT and "\n" not in text and not text.endswith(".")


def _before_date(text: str, rest: list[Piece], *, title_after: bool) -> bool:
    """A short label right before the date line is the category ("Verbund-News") when a
    title follows the date (or the file marks its title); otherwise it is the title."""
    following = [_text(p) for p in rest if p.kind == "paragraph"][:2]
    if not pt.short_label(text) or not following or pt.date_line(following[0]) is None:
        return False
    if not title_after:
        return True
    return len(following) == 2 and _title_like(following[1]) and not pt.is_prose(following[1])


def guess_kind(draft: Draft) -> None:
    """Press when the head or the first paragraphs call themselves a press release."""
    if draft.kind:
        return
    sources = [(c.where, c.text) for c in draft.consumed]
    sources += [(p.where, p.plain) for p in draft.pieces[:_HEAD_LIMIT]]
    for where, text in sources:
        word = pt.press_word(text)
        if word:
            draft.kind, draft.kind_reason = "press", f"“{word}” ({where})"
            return
    draft.kind, draft.kind_reason = "news", "no “Pressemitteilung” or “Presseerklärung” found"


def guess_place(draft: Draft) -> None:
    """The town of the place line, else of a dateline ("Essen, 23.08.2018 – …")."""
    for piece in draft.pieces[:_HEAD_LIMIT]:
        town = pt.place(_text(piece)) if piece.role == "place" else None
        if town:
            draft.location = town
            draft.date = draft.date or pt.find_date(_text(piece))
            return
    first = next((p for p in draft.pieces if p.kind == "paragraph" and pt.is_prose(p.plain)),
                 None)
    found = pt.dateline(first.plain) if first else None
    if found:
        draft.location = draft.location or found[0]
        draft.date = draft.date or found[1]


def add_checks(draft: Draft) -> None:
    checks = draft.checks
    if not draft.title:
        checks.append(f"no title found: the file name {draft.source.stem!r} stands in")
    if draft.date is None:
        checks.append("no date found: today's date stands in")
    if draft.caption:
        checks.append("photo caption without a photo file: add the photo and uncomment "
                      "image: in the front matter")
    if draft.contact is not None and draft.contact.missing():
        checks.append(f"contact incomplete: no {', no '.join(draft.contact.missing())}")
    elif draft.contact is None and draft.kind == "press":
        checks.append("no press contact found at the end (name, phone, e-mail)")
    if not draft.location:
        checks.append("no place found (location)")
    quoted = sum(1 for p in draft.pieces if p.kind == "paragraph" and pt.quotes(p.plain))
    if quoted:
        checks.append(f"{quoted} paragraph(s) quote people directly („…“): make sure they "
                      "approved the quotes, or use indirect speech")
    if any(p.kind == "table" for p in draft.pieces):
        checks.append("tables are written as Markdown pipe tables: check their header row "
                      "and columns in the preview (a merged cell became separate cells)")
    for number, piece in enumerate((p for p in draft.pieces if p.kind == "picture"), 1):
        if piece.picture is not None and not piece.picture.alt.strip():
            checks.append(f"image {number} ({piece.where}) has no description: write its "
                          "alt text")
    checks.append("no summary: write one or two sentences for the lead and the preheader")
