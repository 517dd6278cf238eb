"""Machine drafts for the reviewers: translation memory first, then the engine.

Every empty entry of every target catalog of a release gets a draft marked fuzzy
with a translator comment naming where it came from. The catalog is written after
every entry, so a failure later in the run never throws away earlier drafts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Message

from newsletter.content.release import Release
from newsletter.content.segments import Segment
from newsletter.errors import EngineRejected, EngineUnavailable
from newsletter.translation.catalog import (
    catalog_lock,
    extract_release,
    po_path,
    read_catalog,
    write_catalog,
)
from newsletter.translation.checks import check_translation
from newsletter.translation.engines import Engine
from newsletter.translation.masking import MaskError, load_glossary, mask, unmask
from newsletter.translation.memory import TranslationMemory
from newsletter.workspace.config import Workspace

# Prefixes of the comments we write; older ones are replaced on the next run.
OUR_COMMENTS = ("mt: ", "mt failed", "tm: ")
GLOSSARY = "glossary.txt"


@dataclass
class LanguageReport:
    language: str
    kept: int = 0  # already translated entries left alone
    memory_reviewed: int = 0
    memory_fuzzy: int = 0
    machine: int = 0
    failed: int = 0
    pending: int = 0  # dry run: segments that would go to the engine
    characters: int = 0  # characters sent (or, in a dry run, that would be)
    failures: list[str] = field(default_factory=list)


@dataclass
class TranslateReport:
    release: str
    engine: str
    languages: list[LanguageReport]
    stopped: str = ""  # why the run stopped early (engine unreachable)
    calls: int = 0

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.languages)


def translate_release(release: Release, ws: Workspace, engine: Engine,
                      langs: tuple[str, ...] | None = None, *, dry_run: bool = False,
                      today: dt.date | None = None,
                      on_entry: Callable[[str], None] | None = None) -> TranslateReport:
    source = ws.config.languages.source
    targets = list(langs or ws.config.languages.targets)
    engine.check_languages(source, targets)  # before any call
    if not dry_run:
        extract_release(release, ws)
    day = (today or dt.date.today()).isoformat()
    glossary = load_glossary(ws.locales_dir / GLOSSARY)
    segments = {(u.context, u.segment.text): u.segment for u in release.units()}
    report = TranslateReport(release.id, engine.name, [])
    for lang in targets:
        lr = LanguageReport(lang)
        report.languages.append(lr)
        path = po_path(ws, release.id, lang)
        # held for the whole language: a reviewer's save waits (or is told to try again)
        # instead of being overwritten by the catalog this run read before it
        with catalog_lock(ws, release.id, lang):
            stop = _draft_language(ws, engine, source, lang, path, segments, glossary, day,
                                   lr, dry_run=dry_run, on_entry=on_entry)
        report.calls = engine.calls
        if stop:
            report.stopped = stop
            break
    return report


def _draft_language(ws: Workspace, engine: Engine, source: str, lang: str, path: Path,
                    segments: dict[tuple[str | None, str], Segment], glossary: tuple[str, ...],
                    day: str, lr: LanguageReport, *, dry_run: bool,
                    on_entry: Callable[[str], None] | None) -> str:
    """Draft the empty entries of one catalog; returns why the run must stop, or ""."""
    cat = read_catalog(path, locale=lang)
    memory = TranslationMemory.load(ws, lang)
    try:
        for msg in [m for m in cat if m.id]:
            seg = segments.get((msg.context, msg.id))
            if seg is None:
                continue
            if msg.string:
                lr.kept += 1
                continue
            if _from_memory(msg, seg, memory, lr):
                pass
            elif dry_run:
                lr.pending += 1
                lr.characters += len(mask(seg.text, glossary).text)
                continue
            else:
                _from_engine(msg, seg, engine, source, lang, glossary, day, lr)
            if not dry_run:
                write_catalog(path, cat)  # saved as it goes
            if on_entry:
                on_entry(lang)
    except EngineUnavailable as err:
        lr.failures.append(f"{lang}: {err.message}")
        return f"engine unreachable ({err.message})"
    return ""


@dataclass(frozen=True)
class Origin:
    """Where a draft came from, as its translator comment says (see _from_memory and
    _from_engine, which write these comments; the review page reads them)."""

    kind: str  # "memory", "machine", "failed" (the engine's draft was refused) or ""
    source: str = ""  # the release of a memory hit, or the engine's name
    detail: str = ""  # "same text", "similar text (90%)", the day, or why it failed
    reviewed: bool = False  # a memory hit taken as reviewed

    @property
    def similarity(self) -> int:
        """The percentage of a similar memory hit ("similar text (91%)"), else 0: the
        comment is English, the admin pages say it in their own language."""
        m = _SIMILAR.fullmatch(self.detail) if self.kind == "memory" else None
        return int(m["percent"]) if m else 0


_TM = re.compile(r"tm: (?:reviewed translation from (?P<rev>\S+)"
                 r"|(?P<how>.+?) in (?P<rel>\S+); please review)")
_SIMILAR = re.compile(r"similar text \((?P<percent>\d+)%\)")
_MT = re.compile(r"mt: (?P<engine>\S+) (?P<day>\S+);")
_FAILED = re.compile(r"mt failed (?P<day>\S+): (?P<why>.*)")


def draft_origin(comments: list[str]) -> Origin:
    """The origin of a draft from its translator comments (the last of ours wins)."""
    for comment in reversed(comments):
        if m := _TM.match(comment):
            if m["rev"]:
                return Origin("memory", m["rev"], "same text", reviewed=True)
            return Origin("memory", m["rel"], m["how"])
        if m := _MT.match(comment):
            return Origin("machine", m["engine"], m["day"])
        if m := _FAILED.match(comment):
            return Origin("failed", "", m["why"])
    return Origin("")


def _comment(msg: Message, text: str) -> None:
    msg.user_comments = [c for c in msg.user_comments if not c.startswith(OUR_COMMENTS)]
    msg.user_comments.append(text)


def _from_memory(msg: Message, seg: Segment, memory: TranslationMemory,
                 lr: LanguageReport) -> bool:
    hit = memory.lookup(seg)
    if hit is None:
        return False
    msg.string = hit.pair.target
    if hit.approved(seg):
        msg.flags.discard("fuzzy")
        lr.memory_reviewed += 1
        _comment(msg, f"tm: reviewed translation from {hit.pair.release}")
    else:
        msg.flags.add("fuzzy")
        lr.memory_fuzzy += 1
        how = "same text" if hit.exact else f"similar text ({hit.ratio:.0%})"
        _comment(msg, f"tm: {how} in {hit.pair.release}; please review")
    return True


def _from_engine(msg: Message, seg: Segment, engine: Engine, source: str, lang: str,
                 glossary: tuple[str, ...], day: str, lr: LanguageReport) -> None:
    masked = mask(seg.text, glossary)
    lr.characters += len(masked.text)
    try:
        draft = unmask(engine.translate(masked.text, source, lang), masked)
    except (MaskError, EngineRejected) as err:
        _fail(msg, lr, lang, seg, day, str(err))
        return
    problems = check_translation(seg, draft)
    if problems:
        _fail(msg, lr, lang, seg, day, "; ".join(problems))
        return
    msg.string = draft
    msg.flags.add("fuzzy")
    lr.machine += 1
    _comment(msg, f"mt: {engine.name} {day}; machine draft, please review")


def _fail(msg: Message, lr: LanguageReport, lang: str, seg: Segment, day: str,
          why: str) -> None:
    msg.string = ""
    lr.failed += 1
    lr.failures.append(f"{lang}: {seg.plain[:50]!r}: {why}")
    _comment(msg, f"mt failed {day}: {why}")


