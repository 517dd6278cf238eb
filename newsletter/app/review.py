"""Reviewing a release in one language: the review page's use cases.

A reviewer reads and changes only their languages (officers all of them); every save
and approval goes into the audit log. The catalog work (the lock, the fingerprint of
the entry as the page showed it, the checks) is translation.review's; the progress
line says what the numbers mean for readers, from the same walk along the fallback
chain as ``send`` (editions.build_edition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.app import audit
from newsletter.app.accounts import Account, require_language
from newsletter.app.workspace import find_release
from newsletter.content.release import Release
from newsletter.errors import CatalogError, LanguageError
from newsletter.render.renderer import Renderer
from newsletter.render.review import ANCHOR, review_preview
from newsletter.translation.editions import FALLBACK, build_edition, coverage
from newsletter.translation.review import APPROVED, Entry, Saved, entries, save_entry
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language, language

__all__ = ["ANCHOR", "APPROVE", "SAVE", "Entry", "Progress", "ReviewPage", "Saved",
           "next_open", "preview_html", "review_page", "save"]

APPROVE = "approve"  # audit actions
SAVE = "save translation"
TRANSLATOR = "{name} (review page)"  # the PO header's Last-Translator after a save


@dataclass(frozen=True)
class Progress:
    """How far a language is, in what it means for its readers."""

    language: Language
    total: int
    approved: int
    policy: str  # "reviewed" or "machine"
    gets: Language  # the edition its readers get now
    fallback: bool  # ``gets`` is another language's edition
    machine: bool  # they get unreviewed machine drafts (policy "machine")

    @property
    def left(self) -> int:
        return self.total - self.approved


@dataclass(frozen=True)
class ReviewPage:
    release_id: str
    title: str  # in the source language
    source: Language
    language: Language
    entries: tuple[Entry, ...]
    current: Entry | None  # None: the catalog has no entries (or does not exist)
    progress: Progress
    note: str = ""  # why there is nothing to review (no catalog yet)


def _target(ws: Workspace, account: Account, lang: str) -> Language:
    require_language(account, lang)
    langs = ws.config.languages
    if lang not in langs.targets:
        raise LanguageError(f"{lang!r} is not a target language of this workspace")
    return language(lang)


def progress(ws: Workspace, rel: Release, lang: str) -> Progress:
    cov = coverage(rel, ws, lang)
    edition = build_edition(rel, ws, lang)
    return Progress(language(lang), cov.total, cov.reviewed, cov.policy, edition.language,
                    edition.status == FALLBACK, edition.machine)


def next_open(items: tuple[Entry, ...] | list[Entry], after: int) -> Entry | None:
    """The next entry after index ``after`` that is not approved yet (wrapping round)."""
    count = len(items)
    for step in range(1, count + 1):
        entry = items[(after + step) % count]
        if entry.state != APPROVED:
            return entry
    return None


def review_page(ws: Workspace, account: Account, ref: str, lang: str,
                index: int | None = None) -> ReviewPage:
    """The page of release ``ref`` in ``lang`` at entry ``index`` (default: the first
    one still to approve). Forbidden for another reviewer's language, LanguageError for
    the source or an unknown language, ReleaseError for an unknown release."""
    code = _target(ws, account, lang)
    rel = find_release(ws, ref)
    note = ""
    try:
        items = tuple(entries(rel, ws, lang))
    except CatalogError as err:
        items, note = (), err.message
    current: Entry | None = None
    if items:
        if index is not None and 0 <= index < len(items):
            current = items[index]
        else:
            current = next_open(items, -1) or items[0]
    return ReviewPage(rel.id, rel.title.plain, language(ws.config.languages.source), code,
                      items, current, progress(ws, rel, lang), note)


def save(ws: Workspace, account: Account, ref: str, lang: str, *, context: str | None,
         source: str, seen: str, text: str, approve: bool) -> Saved:
    """Save (and with ``approve`` approve) one entry, if it is still as the reviewer saw
    it (``seen``, its fingerprint); see translation.review.save_entry."""
    _target(ws, account, lang)
    rel = find_release(ws, ref)
    done = save_entry(rel, ws, lang, context=context, source=source, seen=seen, text=text,
                      approve=approve, translator=TRANSLATOR.format(name=account.name))
    if done.outcome in ("approved", "saved") and done.entry is not None:
        what = f"{done.entry.role}: {source[:80]}"
        audit.record(ws, account.name, APPROVE if approve else SAVE, f"{rel.id}/{lang}",
                     f"entry {done.entry.index + 1}, {what}")
    return done


def preview_html(ws: Workspace, account: Account, ref: str, lang: str, index: int | None,
                 *, asset_url: Callable[[Release, Path], str]) -> str:
    """The edition in ``lang`` as its catalog is now, entry ``index`` marked (anchor
    ANCHOR)."""
    _target(ws, account, lang)
    rel = find_release(ws, ref)
    key = None
    if index is not None:
        try:
            items = entries(rel, ws, lang)
        except CatalogError:
            items = []
        if 0 <= index < len(items):
            key = (items[index].context, items[index].source)
    renderer = Renderer(ws, lambda path: asset_url(rel, path))
    shown = review_preview(renderer, rel, ws, lang, key,
                           view_online_url=ws.config.web.view_online(rel.id, lang))
    return shown.html
