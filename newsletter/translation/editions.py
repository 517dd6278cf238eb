"""Editions: a release in one language, chosen by the publishing policy with fallbacks."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsletter import reasons
from newsletter.content.release import Release
from newsletter.content.segments import Segment
from newsletter.errors import LanguageError
from newsletter.reasons import Reason
from newsletter.translation.catalog import messages_by_key, po_path, read_catalog
from newsletter.translation.checks import check_translation
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language, language

SOURCE = "source"
TRANSLATED = "translated"
FALLBACK = "fallback"


@dataclass(frozen=True)
class Coverage:
    """How far one language's catalog covers a release, under its publishing policy."""

    language: str
    policy: str  # "reviewed" or "machine"
    total: int
    reviewed: int
    drafts: int  # translated but fuzzy (machine drafts, memory suggestions, edited blocks)
    missing: int
    failing: tuple[Reason, ...]  # entries whose translation fails a check, named
    note: str = ""  # e.g. the catalog does not exist
    usable: dict[tuple[str | None, str], str] = field(default_factory=dict, compare=False)

    @property
    def publishable(self) -> bool:
        if self.total == 0 or self.failing or self.missing or self.note:
            return False
        return self.drafts == 0 or self.policy == "machine"

    @property
    def uses_drafts(self) -> bool:
        return self.publishable and self.drafts > 0

    @property
    def percent(self) -> int:
        return round(100 * self.reviewed / self.total) if self.total else 0

    def problems(self) -> tuple[Reason, ...]:
        out = [reasons.catalog_note(self.note)] if self.note else []
        if self.missing:
            out.append(reasons.untranslated(self.missing, self.total))
        if self.drafts and self.policy == "reviewed":
            out.append(reasons.unreviewed(self.drafts, self.total))
        out += [reasons.fails_check(f) for f in self.failing]
        return tuple(out)


@dataclass(frozen=True)
class Edition:
    """The release as one reader language gets it."""

    release: Release  # the content, already in ``language``
    requested: Language  # the reader's language
    language: Language  # the language of the content and of the UI strings
    status: str  # SOURCE, TRANSLATED or FALLBACK
    reasons: tuple[Reason, ...] = ()  # why earlier languages of the chain were passed over
    machine: bool = False  # contains unreviewed machine drafts (policy "machine")
    original: Release | None = None  # press: the source text, sent along with this edition
    original_lang: str = ""  # the source language, when ``original`` is set

    @property
    def is_fallback(self) -> bool:
        return self.status == FALLBACK

    @property
    def key(self) -> str:
        """Names the edition in plans and the ledger: "en", or "en+de" with the original."""
        return self.language.code + (f"+{self.original_lang}" if self.original else "")

    @property
    def content_languages(self) -> str:
        """For the Content-Language header: "en" or "en, de"."""
        return self.language.html_lang + (f", {self.original_lang}" if self.original else "")


def coverage(release: Release, ws: Workspace, lang: str) -> Coverage:
    """Check the catalog of ``lang`` against the release and the language's policy."""
    policy = ws.config.languages.policy_for(lang)
    path = po_path(ws, release.id, lang)
    segments: dict[tuple[str | None, str], Segment] = {}
    for unit in release.units():
        segments.setdefault((unit.context, unit.segment.text), unit.segment)
    total = len(segments)
    if not path.exists():
        return Coverage(lang, policy, total, 0, 0, total, (),
                        note=f"no catalog {ws.relative(path)}; run 'newsletter extract'")
    messages = messages_by_key(read_catalog(path, locale=lang))
    reviewed = drafts = missing = 0
    failing: list[Reason] = []
    usable: dict[tuple[str | None, str], str] = {}
    for key, segment in segments.items():
        msg = messages.get(key)
        if msg is None or not msg.string:
            missing += 1
            continue
        problems = check_translation(segment, str(msg.string))
        if problems:
            failing.append(reasons.failing_entry(segment.plain[:40], problems[0]))
            continue
        usable[key] = str(msg.string)
        if msg.fuzzy:
            drafts += 1
        else:
            reviewed += 1
    return Coverage(lang, policy, total, reviewed, drafts, missing, tuple(failing),
                    usable=usable)


def build_edition(release: Release, ws: Workspace, reader_lang: str) -> Edition:
    """The edition for readers of ``reader_lang``: the first language of its chain that is
    publishable under its policy. Content is never mixed: one edition, one language."""
    langs = ws.config.languages
    requested = language(reader_lang)
    if requested.code not in langs.all:
        raise LanguageError(f"{reader_lang!r} is not a language of this workspace "
                            f"({', '.join(langs.all)})")
    passed: list[Reason] = []
    for candidate in langs.chain(requested.code):
        if candidate == langs.source:
            status = SOURCE if candidate == requested.code else FALLBACK
            return Edition(release, requested, language(candidate), status, tuple(passed))
        cov = coverage(release, ws, candidate)
        if cov.publishable:
            translated = release.translated(_lookup(cov.usable))
            status = TRANSLATED if candidate == requested.code else FALLBACK
            return Edition(translated, requested, language(candidate), status, tuple(passed),
                           machine=cov.uses_drafts)
        passed.append(reasons.passed_over(candidate, cov.problems()))
    raise AssertionError("a fallback chain always ends with the source language")


def _lookup(usable: dict[tuple[str | None, str], str]):
    def lookup(context: str | None, segment: Segment) -> Segment:
        return segment.with_text(usable[(context, segment.text)])

    return lookup

