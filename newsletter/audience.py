"""Audience: select recipients from lists and tags, and plan who gets which edition."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from newsletter.config import Workspace
from newsletter.edition import Edition, build_edition
from newsletter.errors import AudienceError, RecipientError
from newsletter.languages import language
from newsletter.recipients import Merged, Recipient, RowProblem, merge, read_list
from newsletter.release import Release


@dataclass(frozen=True)
class Selection:
    """What the user asked for on the command line; part of the campaign id."""

    lists: tuple[str, ...]
    tags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()

    def key(self) -> str:
        return "lists=" + ",".join(sorted(self.lists)) + ";tags=" + ",".join(
            sorted(self.tags)) + ";langs=" + ",".join(sorted(self.langs))


@dataclass(frozen=True)
class Audience:
    recipients: tuple[Recipient, ...]
    skipped: tuple[RowProblem, ...]  # invalid rows left out with --skip-invalid
    notes: tuple[str, ...]
    not_tagged: int  # valid recipients left out by --tag


def load_audience(ws: Workspace, selection: Selection, *, skip_invalid: bool) -> Audience:
    """Read the chosen lists, merge people, apply tags. Invalid rows fail the whole
    selection unless ``skip_invalid``: nothing is sent to half a list by accident."""
    if not selection.lists:
        raise AudienceError("choose at least one list with --list "
                            f"(known: {', '.join(ws.config.lists) or 'none'})")
    unknown = [n for n in selection.lists if n not in ws.config.lists]
    if unknown:
        raise AudienceError(f"unknown list {unknown[0]!r} (known: {', '.join(ws.config.lists)})")
    merged: Merged = merge(read_list(n, ws.config.lists[n]) for n in dict.fromkeys(
        selection.lists))
    if merged.problems and not skip_invalid:
        shown = "\n  ".join(str(p) for p in merged.problems[:20])
        more = f"\n  ... and {len(merged.problems) - 20} more" if len(merged.problems) > 20 else ""
        raise RecipientError(f"{len(merged.problems)} invalid row(s); fix them or pass "
                             f"--skip-invalid:\n  {shown}{more}")
    wanted = {t.lower() for t in selection.tags}
    chosen = tuple(r for r in merged.recipients if wanted <= r.tags)
    return Audience(chosen, merged.problems, merged.notes, len(merged.recipients) - len(chosen))


@dataclass(frozen=True, slots=True)
class Assignment:
    recipient: Recipient
    reader_lang: str  # the language the recipient reads (their own, or the source)
    edition: Edition
    reason: str  # empty when the recipient gets their own language

    @property
    def edition_lang(self) -> str:
        return self.edition.language.code


@dataclass(frozen=True)
class Plan:
    """Who gets which edition and why: computed once, before any message is built."""

    release: Release
    assignments: tuple[Assignment, ...]
    editions: dict[str, Edition]  # by edition language
    left_out_by_lang: int

    def summary(self) -> list[tuple[str, int, int, tuple[tuple[str, int], ...]]]:
        """Rows of (edition language, recipients, of them by fallback, reasons with counts)."""
        rows = []
        by_lang: dict[str, list[Assignment]] = {}
        for a in self.assignments:
            by_lang.setdefault(a.edition_lang, []).append(a)
        for lang, items in by_lang.items():
            reasons = Counter(a.reason for a in items if a.reason)
            rows.append((lang, len(items), sum(reasons.values()),
                         tuple(sorted(reasons.items(), key=lambda kv: -kv[1]))))
        return rows


def make_plan(release: Release, ws: Workspace, recipients: tuple[Recipient, ...],
              only_langs: tuple[str, ...] = ()) -> Plan:
    only = {language(code).code for code in only_langs}
    editions: dict[str, Edition] = {}  # by reader language
    reasons: dict[tuple[str, str], str] = {}  # one shared string per reader language
    assignments = []
    left_out = 0
    for r in recipients:
        reader, reason = _reader_language(r, ws)
        if reader not in editions:
            editions[reader] = build_edition(release, ws, reader)
        edition = editions[reader]
        if edition.is_fallback and not reason:
            reason = f"{reader} → {edition.language.code} ({'; '.join(edition.reasons)})"
        reason = reasons.setdefault((reader, reason), reason)
        if only and edition.language.code not in only:
            left_out += 1
            continue
        assignments.append(Assignment(r, reader, edition, reason))
    by_edition = {a.edition_lang: a.edition for a in assignments}
    return Plan(release, tuple(assignments), by_edition, left_out)


def _reader_language(r: Recipient, ws: Workspace) -> tuple[str, str]:
    """The workspace language a recipient reads, and why if it is not their own."""
    langs = ws.config.languages
    if not r.language:
        return langs.source, f"no language given → {langs.source}"
    if r.language in langs.all:
        return r.language, ""
    base = r.language.split("_")[0]  # de_AT reads de
    if base in langs.all:
        return base, ""
    return langs.source, f"{r.language} is not offered → {langs.source}"
