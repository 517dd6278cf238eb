"""Reviewing a release's catalog entry by entry: what a reviewer sees, and saving safely.

The PO file stays the one truth (Poedit and Weblate work on the same files): an
entry is read from it for the page, and a save re-reads it under the catalog's lock
and compares the entry with the fingerprint the page was built from. When anyone
changed the entry in between (another reviewer, ``translate``, a git pull), nothing
is written and the caller gets both versions.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from dataclasses import dataclass

from babel.messages.catalog import Catalog, Message

from newsletter.content.release import Release
from newsletter.content.segments import Segment
from newsletter.translation.catalog import (
    PREVIOUS,
    catalog_lock,
    po_path,
    read_catalog,
    write_catalog,
)
from newsletter.translation.checks import check_translation
from newsletter.translation.drafting import GLOSSARY, Origin, draft_origin
from newsletter.translation.masking import load_glossary
from newsletter.workspace.config import Workspace

APPROVED, DRAFT, MISSING, FAILING = "approved", "draft", "missing", "failing"
ERROR, WARNING = "error", "warning"
# Around the entry under review in a preview: private-use characters never in a release
MARK_START, MARK_END = "\ue000", "\ue001"
SHORT_WORDS = 5  # below this many words a text may well stay as it is (names, places)


@dataclass(frozen=True)
class Check:
    """One finding: errors block approval (the entry would not be sent), warnings not."""

    level: str  # ERROR or WARNING
    code: str  # "empty", "check", "glossary", "same_as_source", "spaces"
    # "check": the check's problem (a Reason: English, and a code the admin pages say
    # in their language); "glossary": the term
    detail: str = ""


@dataclass(frozen=True)
class DiffPart:
    op: str  # "same", "removed" or "added"
    text: str


@dataclass(frozen=True)
class Entry:
    """One entry of a catalog, as the review page shows it."""

    index: int  # its place among the release's entries, from 0
    context: str | None  # msgctxt
    role: str  # msgctxt, else the block type from the extracted comment ("paragraph")
    source: str  # msgid, pseudo-tags included
    translation: str
    fuzzy: bool
    notes: tuple[str, ...]  # extracted comments beyond the block type (line breaks)
    origin: Origin
    previous: str  # the source text the translation was made for, when it changed since
    checks: tuple[Check, ...]
    glossary: tuple[str, ...]  # do-not-translate terms in the source
    fingerprint: str

    @property
    def errors(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level == ERROR)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level == WARNING)

    @property
    def state(self) -> str:
        if not self.translation:
            return MISSING
        if self.errors:
            return FAILING
        return DRAFT if self.fuzzy else APPROVED

    @property
    def previous_diff(self) -> tuple[DiffPart, ...]:
        return word_diff(self.previous, self.source) if self.previous else ()


@dataclass(frozen=True)
class Saved:
    """What a save did: "approved", "saved", "blocked" (a check error; nothing written)
    or "changed" (the entry is not what the page showed; nothing written)."""

    outcome: str
    entry: Entry | None  # after the save; for "changed" the entry as it is now (None: gone)
    problems: tuple[Check, ...] = ()


def fingerprint(msg: Message) -> str:
    """Names an entry's state: msgctxt, msgid, msgstr and flags (comments may change)."""
    data = json.dumps([msg.context, msg.id, msg.string or "", sorted(msg.flags)],
                      ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def find_checks(source: Segment, text: str, glossary: tuple[str, ...]) -> tuple[Check, ...]:
    if not text:
        return (Check(ERROR, "empty"),)
    found = [Check(ERROR, "check", p) for p in check_translation(source, text)]
    found += [Check(WARNING, "glossary", term) for term in glossary if term not in text]
    if (text.strip() == source.text.strip() and len(source.text.split()) < SHORT_WORDS
            and re.search(r"[^\W\d_]", source.text)):
        found.append(Check(WARNING, "same_as_source"))
    if text != text.strip() and source.text == source.text.strip():
        found.append(Check(WARNING, "spaces"))
    return tuple(found)


def word_diff(old: str, new: str) -> tuple[DiffPart, ...]:
    """A word-level diff from ``old`` to ``new``, for showing what changed in the source."""
    a, b = _words(old), _words(new)
    parts: list[DiffPart] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("removed", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("added", "".join(b[j1:j2])))
    return tuple(parts)


def _words(text: str) -> list[str]:
    return re.findall(r"\s+|\w+|[^\w\s]", text)


def _previous(msg: Message) -> str:
    """The old source: our extract's comment, or the ``#| msgid`` msgmerge and Weblate write."""
    for comment in msg.user_comments:
        if comment.startswith(PREVIOUS):
            return comment[len(PREVIOUS):]
    prev = msg.previous_id
    if isinstance(prev, (list, tuple)):
        prev = prev[0] if prev else ""
    return str(prev or "")


def _segments(release: Release) -> dict[tuple[str | None, str], Segment]:
    out: dict[tuple[str | None, str], Segment] = {}
    for unit in release.units():
        out.setdefault((unit.context, unit.segment.text), unit.segment)
    return out


def _entry(index: int, msg: Message, seg: Segment, glossary: tuple[str, ...]) -> Entry:
    auto = list(msg.auto_comments)
    block = auto.pop(0) if auto else ""
    text = str(msg.string or "")
    return Entry(index, msg.context, msg.context or block, str(msg.id), text, msg.fuzzy,
                 tuple(auto), draft_origin(list(msg.user_comments)), _previous(msg),
                 find_checks(seg, text, tuple(t for t in glossary if t in seg.text)),
                 tuple(t for t in glossary if t in seg.text), fingerprint(msg))


def _glossary(ws: Workspace) -> tuple[str, ...]:
    return load_glossary(ws.locales_dir / GLOSSARY)


def _entries_of(cat: Catalog, release: Release, ws: Workspace) -> list[Entry]:
    segments, glossary = _segments(release), _glossary(ws)
    msgs = [m for m in cat if m.id and (m.context, m.id) in segments]
    return [_entry(i, m, segments[(m.context, m.id)], glossary) for i, m in enumerate(msgs)]


def entries(release: Release, ws: Workspace, lang: str) -> list[Entry]:
    """The release's entries in ``lang``, in the catalog's (the document's) order.
    CatalogError when the catalog is missing or broken."""
    return _entries_of(read_catalog(po_path(ws, release.id, lang), locale=lang), release, ws)


def save_entry(release: Release, ws: Workspace, lang: str, *, context: str | None,
               source: str, seen: str, text: str, approve: bool, translator: str,
               now: dt.datetime | None = None) -> Saved:
    """Save ``text`` as the translation of the entry (``context``, ``source``) if it is
    still the one the reviewer saw (fingerprint ``seen``); with ``approve`` clear its
    fuzzy flag, which a check error refuses. CatalogBusy when another writer holds the
    catalog too long."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    path = po_path(ws, release.id, lang)
    segments, glossary = _segments(release), _glossary(ws)
    seg = segments.get((context, source))
    with catalog_lock(ws, release.id, lang):
        cat = read_catalog(path, locale=lang)
        msgs = [m for m in cat if m.id and (m.context, m.id) in segments]
        msg = cat.get(source, context=context)
        index = next((i for i, m in enumerate(msgs) if m is msg), 0)
        if msg is None or seg is None or fingerprint(msg) != seen:
            current = _entry(index, msg, seg, glossary) if msg is not None and seg else None
            return Saved("changed", current)
        problems = find_checks(seg, text, tuple(t for t in glossary if t in seg.text))
        errors = tuple(p for p in problems if p.level == ERROR)
        if approve and errors:
            return Saved("blocked", _entry(index, msg, seg, glossary), errors)
        msg.string = text
        if approve:
            msg.flags.discard("fuzzy")
            # the old source served the review that has now happened (extract does the same)
            msg.user_comments = [c for c in msg.user_comments if not c.startswith(PREVIOUS)]
            msg.previous_id = ()
        elif text:
            msg.flags.add("fuzzy")
        else:
            msg.flags.discard("fuzzy")  # an empty entry is untranslated, not a draft
        cat.last_translator = translator
        cat.revision_date = now or dt.datetime.now(dt.UTC)
        write_catalog(path, cat)
        return Saved("approved" if approve else "saved", _entry(index, msg, seg, glossary))


def draft_release(release: Release, ws: Workspace, lang: str,
                  highlight: tuple[str | None, str] | None = None) -> Release:
    """The release as the catalog of ``lang`` has it now, drafts included (a translation
    that fails a check, and an empty one, show the source instead); the ``highlight``
    entry is wrapped in MARK_START and MARK_END for the preview to mark."""
    path = po_path(ws, release.id, lang)
    cat = read_catalog(path, locale=lang) if path.exists() else None
    texts = {(m.context, m.id): str(m.string) for m in cat if m.id and m.string} if cat else {}

    def lookup(context: str | None, segment: Segment) -> Segment:
        text = texts.get((context, segment.text), "")
        if not text or check_translation(segment, text):
            text = segment.text
        if highlight == (context, segment.text):
            text = MARK_START + text + MARK_END
        return segment.with_text(text)

    return release.translated(lookup)
