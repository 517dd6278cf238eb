"""Editions: a release in one language, chosen by the publishing policy with fallbacks."""

from __future__ import annotations

from dataclasses import dataclass

from babel.messages.catalog import Message

from newsletter.catalog import is_reviewed, messages_by_key, po_path, read_catalog
from newsletter.config import Workspace
from newsletter.errors import LanguageError
from newsletter.languages import Language, language
from newsletter.release import Release
from newsletter.segments import Segment, check_tags

SOURCE = "source"
TRANSLATED = "translated"
FALLBACK = "fallback"


@dataclass(frozen=True)
class Coverage:
    """How far one language's catalog covers a release."""

    language: str
    total: int
    reviewed: int
    problems: tuple[str, ...]  # e.g. "line 20: 7 of 24 entries not reviewed"

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.reviewed == self.total and not self.problems


@dataclass(frozen=True)
class Edition:
    """The release as one reader language gets it."""

    release: Release  # the content, already in ``language``
    requested: Language  # the reader's language
    language: Language  # the language of the content and of the UI strings
    status: str  # SOURCE, TRANSLATED or FALLBACK
    reasons: tuple[str, ...] = ()  # why earlier languages of the chain were passed over

    @property
    def is_fallback(self) -> bool:
        return self.status == FALLBACK


def coverage(release: Release, ws: Workspace, lang: str) -> tuple[Coverage, dict]:
    """Check the catalog of ``lang`` against the release; returns coverage and usable strings."""
    path = po_path(ws, release.id, lang)
    units = list(release.units())
    keys = list(dict.fromkeys((u.context, u.segment.text) for u in units))
    if not path.exists():
        return Coverage(lang, len(keys), 0, (f"no catalog {ws.relative(path)}; run "
                                             "'newsletter extract'",)), {}
    messages = messages_by_key(read_catalog(path, locale=lang))
    usable: dict[tuple[str | None, str], str] = {}
    tag_problems: list[str] = []
    segments = {(u.context, u.segment.text): u.segment for u in units}
    for key in keys:
        msg: Message | None = messages.get(key)
        if not is_reviewed(msg):
            continue
        problems = check_tags(str(msg.string), segments[key].tags)  # type: ignore[union-attr]
        if problems:
            tag_problems.append(f"{ws.relative(path)}: {key[1][:40]!r}: {problems[0]}")
            continue
        usable[key] = str(msg.string)  # type: ignore[union-attr]
    missing = len(keys) - len(usable) - len(tag_problems)
    problems_out = list(tag_problems)
    if missing:
        problems_out.insert(0, f"{missing} of {len(keys)} entries not reviewed")
    return Coverage(lang, len(keys), len(usable), tuple(problems_out)), usable


def build_edition(release: Release, ws: Workspace, reader_lang: str) -> Edition:
    """The edition for readers of ``reader_lang``: the first language of its chain that is
    completely reviewed. Content is never mixed: one edition, one language."""
    langs = ws.config.languages
    requested = language(reader_lang)
    if requested.code not in langs.all:
        raise LanguageError(f"{reader_lang!r} is not a language of this workspace "
                            f"({', '.join(langs.all)})")
    reasons: list[str] = []
    for candidate in langs.chain(requested.code):
        if candidate == langs.source:
            status = SOURCE if candidate == requested.code else FALLBACK
            return Edition(release, requested, language(candidate), status, tuple(reasons))
        cov, usable = coverage(release, ws, candidate)
        if cov.complete:
            translated = release.translated(_lookup(usable))
            status = TRANSLATED if candidate == requested.code else FALLBACK
            return Edition(translated, requested, language(candidate), status, tuple(reasons))
        reasons.append(f"{candidate}: {'; '.join(cov.problems)}")
    raise AssertionError("a fallback chain always ends with the source language")


def _lookup(usable: dict[tuple[str | None, str], str]):
    def lookup(context: str | None, segment: Segment) -> Segment:
        return segment.with_text(usable[(context, segment.text)])

    return lookup
