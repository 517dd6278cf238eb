"""Writing a draft as a release file: YAML front matter plus a CommonMark body.

The result must read back with ``parse_release`` exactly as the release format in the
README describes. What the importer is unsure of goes into YAML comments, which the
parser ignores and the writer of the release sees first: the lines of the original
that became front-matter values, and a commented-out image block when the text
names a photo that did not come with it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import yaml

from newsletter.content.importers.inline import escape
from newsletter.content.importers.model import Draft, Piece

# Words that make a file name longer without telling releases apart.
_STOPWORDS = frozenset((
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und",
    "oder", "mit", "von", "vom", "zu", "zum", "zur", "im", "in", "am", "an", "auf", "fuer",
    "bei", "aus", "nach", "ueber", "the", "a", "and", "of", "for", "to",
))
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                           "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_SLUG_LIMIT = 48


@dataclass(frozen=True)
class Written:
    text: str  # the release file
    images: tuple[tuple[str, bytes], ...]  # (path relative to releases/, data)


def slug(title: str, limit: int = _SLUG_LIMIT) -> str:
    """ASCII words of a title for a file name: 'Stadt und Verbund' → 'stadt-verbund'."""
    ascii_text = unicodedata.normalize("NFKD", title.translate(_TRANSLIT))
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", ascii_text) if w]
    kept = [w for w in words if w not in _STOPWORDS] or words
    out = ""
    for word in kept:
        if out and len(out) + 1 + len(word) > limit:
            break
        out = f"{out}-{word}" if out else word[:limit]
    return out or "import"


def default_id(date: dt.date, title: str) -> str:
    return f"{date.isoformat()}-{slug(title)}"


def write(draft: Draft, release_id: str, *, today: dt.date) -> Written:
    """The release file for ``draft`` and the image files it refers to."""
    images: list[tuple[str, bytes]] = []
    blocks = [_block(p, release_id, images) for p in draft.pieces]
    front = _front_matter(draft, release_id, today)
    body = "\n\n".join(b for b in blocks if b)
    return Written(f"---\n{front}---\n\n{body}\n", tuple(images))


def _scalar(value: str) -> str:
    dumped = yaml.safe_dump(value, allow_unicode=True, width=10**6)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _comment(text: str) -> str:
    return " ".join(text.split())


def _front_matter(draft: Draft, release_id: str, today: dt.date) -> str:
    lines = [f"# Imported from {draft.source.name} by 'newsletter import': check every value "
             "against the original,", "# then delete these comments."]
    if draft.consumed:
        lines.append("# Read from the original as front matter rather than body text:")
        lines.extend(f"#   {c.where} ({c.became}): {_comment(c.text)}"
                     for c in sorted(draft.consumed, key=lambda c: c.seq))
    lines.append(f"title: {_scalar(draft.title or draft.source.stem)}")
    lines.append(f"date: {(draft.date or today).isoformat()}")
    if draft.category:
        lines.append(f"category: {_scalar(draft.category)}")
    lines.append(f"kind: {draft.kind or 'news'}")
    lines.append("# summary: one or two sentences, shown as the lead and as the email preheader")
    if draft.location:
        lines.append(f"location: {_scalar(draft.location)}")
    lines.extend(_contact(draft))
    if draft.caption:
        lines.extend([
            "# The text names a photo that did not come with it. Put the photo under",
            "# releases/images/, uncomment these lines and say what it shows in alt:",
            "# image:",
            f"#   path: images/{release_id}.jpg",
            "#   alt:",
            f"#   caption: {_scalar(_comment(draft.caption))}",
        ])
    return "\n".join(lines) + "\n"


def _contact(draft: Draft) -> list[str]:
    contact = draft.contact
    if contact is None:
        return []
    # without a name the parser refuses the block: leave it commented out to be filled in
    prefix = "" if contact.name else "# "
    lines = [f"{prefix}contact:"]
    for key in ("name", "role", "phone", "email"):
        value = getattr(contact, key)
        if value or key == "name":
            lines.append(f"{prefix}  {key}: {_scalar(value) if value else ''}".rstrip())
    return lines


def _block(piece: Piece, release_id: str, images: list[tuple[str, bytes]]) -> str:
    if piece.kind in ("heading", "title"):
        level = min(max(piece.level, 2), 6)
        return f"{'#' * level} {piece.markdown}" if piece.markdown else ""
    if piece.kind == "picture" and piece.picture is not None:
        pic = piece.picture
        number = len(images) + 1
        rel = f"images/{release_id}-{number}.{pic.ext}"
        images.append((rel, pic.data))
        alt = escape(_comment(pic.alt) or f"Bild {number}: Beschreibung fehlt")
        title = _comment(pic.caption).replace("\\", "\\\\").replace('"', '\\"')
        return f"![{alt}]({rel} \"{title}\")" if title else f"![{alt}]({rel})"
    return piece.markdown
