"""Audience: select recipients from lists and tags, and plan who gets which edition."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from newsletter import reasons as reasons_
from newsletter.audience.lists import ListFile, Merged, Recipient, RowProblem, merge, read_list
from newsletter.audience.tokens import address_id
from newsletter.content.release import Release
from newsletter.errors import AudienceError, RecipientError
from newsletter.reasons import LISTS, SUBSCRIBER, WEB, Why
from newsletter.translation.editions import Edition, build_edition
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import language
from newsletter.workspace.loading import BUILTIN_LIST


@dataclass(frozen=True)
class Selection:
    """What the user asked for on the command line; part of the campaign id."""

    lists: tuple[str, ...]
    tags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()  # (field, value): --where beat=Integration

    def key(self) -> str:
        key = "lists=" + ",".join(sorted(self.lists)) + ";tags=" + ",".join(
            sorted(self.tags)) + ";langs=" + ",".join(sorted(self.langs))
        if self.where:  # only when used, so older campaign ids stay what they were
            key += ";where=" + ",".join(sorted(f"{f}={v}" for f, v in self.where))
        return key


WHERE_FIELDS = ("outlet", "beat", "organization")


def parse_where(items: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``field=value`` pairs for --where; the value is matched ignoring case."""
    out = []
    for item in items:
        field, sep, value = item.partition("=")
        field = field.strip().lower()
        if not sep or field not in WHERE_FIELDS or not value.strip():
            raise AudienceError(f"--where {item!r}: write FIELD=VALUE with FIELD one of "
                                f"{', '.join(WHERE_FIELDS)}")
        out.append((field, value.strip()))
    return tuple(out)


def _matches(r: Recipient, where: tuple[tuple[str, str], ...]) -> bool:
    return all(getattr(r, f).casefold() == v.casefold() for f, v in where)


@dataclass(frozen=True)
class Audience:
    recipients: tuple[Recipient, ...]
    skipped: tuple[RowProblem, ...]  # invalid rows left out with --skip-invalid
    notes: tuple[str, ...]
    not_tagged: int  # valid recipients left out by --tag or --where


@dataclass(frozen=True)
class Wish:
    """What a reader chose on the preferences page."""

    language: str  # "" keeps the list's language
    topics: tuple[str, ...] | None  # None: never chosen, the list's tags stand


@dataclass(frozen=True)
class Wishes:
    """Every reader's choices, by recipient id (the ledger knows people only by it)."""

    by_id: Mapping[str, Wish]
    address_key: bytes
    topics: frozenset[str]  # the public topics ([web.topics]) a choice replaces

    def apply(self, r: Recipient) -> Recipient:
        """The reader as they asked to be: their language, and their public topics in
        place of the list's (tags that are not public topics stay: the office set them)."""
        wish = self.by_id.get(address_id(self.address_key, r.email))
        if wish is None:
            return r
        tags = r.tags if wish.topics is None else (r.tags - self.topics) | frozenset(
            wish.topics)
        return replace(r, language=wish.language or r.language, tags=tags)


def load_audience(ws: Workspace, selection: Selection, *, skip_invalid: bool,
                  extra: Mapping[str, ListFile] | None = None,
                  wishes: Wishes | None = None) -> Audience:
    """Read the chosen lists, merge people, apply their wishes, then tags. Invalid rows
    fail the whole selection unless ``skip_invalid``: nothing is sent to half a list by
    accident. ``extra`` lists are not files of newsletter.toml (the web sign-ups)."""
    extra = extra or {}
    known = [*ws.config.lists, *(n for n in extra if n not in ws.config.lists)]
    if not selection.lists:
        raise AudienceError(f"choose at least one list with --list (known: "
                            f"{', '.join(known) or 'none'})")
    unknown = [n for n in selection.lists if n not in known]
    if unknown:
        raise AudienceError(f"unknown list {unknown[0]!r} (known: {', '.join(known)})")
    merged: Merged = merge(extra[n] if n in extra else read_list(n, ws.config.lists[n])
                           for n in dict.fromkeys(selection.lists))
    if merged.problems and not skip_invalid:
        shown = "\n  ".join(str(p) for p in merged.problems[:20])
        more = f"\n  ... and {len(merged.problems) - 20} more" if len(merged.problems) > 20 else ""
        raise RecipientError(f"{len(merged.problems)} invalid row(s); fix them or pass "
                             f"--skip-invalid:\n  {shown}{more}")
    people = merged.recipients
    if wishes is not None and wishes.by_id:
        people = tuple(wishes.apply(r) for r in people)
    wanted = {t.lower() for t in selection.tags}
    chosen = tuple(r for r in people if wanted <= r.tags and _matches(r, selection.where))
    return Audience(chosen, merged.problems, merged.notes, len(people) - len(chosen))


@dataclass(frozen=True, slots=True)
class Assignment:
    recipient: Recipient
    reader_lang: str  # the language the recipient reads (their own, or the source)
    edition: Edition
    reason: str  # empty when the recipient gets their own language
    why: str = ""  # why they receive the mailing at all: a ``Why.key``

    @property
    def edition_lang(self) -> str:
        """The edition's key: its language, or e.g. "en+de" when the original goes along."""
        return self.edition.key


@dataclass(frozen=True)
class Plan:
    """Who gets which edition and why: computed once, before any message is built.

    Kept as parallel columns (one shared string per language and reason) rather than
    one object per recipient: a plan of 100,000 people then costs little more than
    the people themselves.
    """

    recipients: tuple[Recipient, ...]
    readers: tuple[str, ...]  # per recipient: the language they read
    languages: tuple[str, ...]  # per recipient: the edition they get
    reasons: tuple[str, ...]  # per recipient: why, when it is not their own language
    editions: dict[str, Edition]  # by edition language
    left_out_by_lang: int
    whys: tuple[str, ...] = ()  # per recipient: why they get the mailing (``Why.key``)

    def __len__(self) -> int:
        return len(self.recipients)

    def __iter__(self) -> Iterator[Assignment]:
        whys = self.whys or ("",) * len(self.recipients)
        for r, reader, lang, reason, why in zip(self.recipients, self.readers, self.languages,
                                                self.reasons, whys, strict=True):
            yield Assignment(r, reader, self.editions[lang], reason, why)

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return tuple(self)

    def summary(self) -> list[tuple[str, int, int, tuple[tuple[str, int], ...]]]:
        """Rows of (edition language, recipients, of them by fallback, reasons with counts)."""
        counts: dict[str, int] = {}
        reasons: dict[str, Counter[str]] = {}
        for lang, reason in zip(self.languages, self.reasons, strict=True):
            counts[lang] = counts.get(lang, 0) + 1
            bucket = reasons.setdefault(lang, Counter())
            if reason:
                bucket[reason] += 1
        return [(lang, n, sum(reasons[lang].values()),
                 tuple(sorted(reasons[lang].items(), key=lambda kv: -kv[1])))
                for lang, n in counts.items()]


def make_plan(release: Release, ws: Workspace, recipients: tuple[Recipient, ...],
              only_langs: tuple[str, ...] = ()) -> Plan:
    only = {language(code).code for code in only_langs}
    by_reader: dict[str, Edition] = {}
    shared: dict[tuple[str, str], str] = {}  # one string per (reader, reason)
    chosen: list[Recipient] = []
    readers: list[str] = []
    languages: list[str] = []
    reasons: list[str] = []
    whys: list[str] = []
    why_of = WhyOf(ws)
    left_out = 0
    press = release.kind == "press"
    for r in recipients:
        reader, reason = reader_language(r, ws)
        journalist = press and bool(r.outlet)
        key = f"press:{reader}" if journalist else reader
        if key not in by_reader:
            by_reader[key] = (_press_edition(release, ws, reader) if journalist
                              else build_edition(release, ws, reader))
        edition = by_reader[key]
        if journalist and not reason and edition.language.code != reader:
            reason = reasons_.press_original(reader, edition.language.code)
        elif edition.is_fallback and not reason:
            reason = reasons_.fallback(reader, edition.language.code, edition.reasons)
        reason = shared.setdefault((reader, reason), reason)
        if only and edition.language.code not in only:
            left_out += 1
            continue
        chosen.append(r)
        readers.append(reader)
        languages.append(edition.key)
        reasons.append(reason)
        whys.append(why_of(r))
    used = set(languages)
    editions = {e.key: e for e in by_reader.values() if e.key in used}
    return Plan(tuple(chosen), tuple(readers), tuple(languages), tuple(reasons),
                editions, left_out, tuple(whys))


class WhyOf:
    """Why a recipient receives a mailing, from the lists that hold them, as a ``Why.key``
    (one shared string per combination of lists: plans hold one per recipient)."""

    def __init__(self, ws: Workspace):
        self.config = ws.config
        order = [*ws.config.lists, BUILTIN_LIST]
        self._rank = {name: i for i, name in enumerate(order)}
        self._keys: dict[tuple[str, ...], str] = {}

    def __call__(self, r: Recipient) -> str:
        key = self._keys.get(r.lists)
        if key is None:
            key = self._keys[r.lists] = self.why(r.lists).key
        return key

    def why(self, lists: tuple[str, ...]) -> Why:
        # in the order of newsletter.toml, whatever order the lists were chosen in
        names = tuple(sorted(dict.fromkeys(lists), key=lambda n: self._rank.get(n, len(
            self._rank))))
        if len(names) > 1:
            return Why(LISTS, names)
        if not names:
            return Why(SUBSCRIBER)
        if names[0] == BUILTIN_LIST:
            return Why(WEB)
        return Why(self.config.list_of(names[0]).reason)


PRESS_SECOND_LANGUAGE = "en"


def editions_for(release: Release, ws: Workspace, keys: set[str]) -> dict[str, Edition]:
    """The editions named ``keys`` (Edition.key), as make_plan builds them: a worker that
    joins a campaign prepares what the ledger's rows name, without the audience."""
    found: dict[str, Edition] = {}
    for reader in ws.config.languages.all:
        candidates = [build_edition(release, ws, reader)]
        if release.kind == "press":
            candidates.append(_press_edition(release, ws, reader))
        for edition in candidates:
            if edition.key in keys:
                found.setdefault(edition.key, edition)
    return found


def _press_edition(release: Release, ws: Workspace, reader: str) -> Edition:
    """Journalists get the original; English-language journalists also the English edition.

    The English edition comes first with the original appended, when English is
    publishable; otherwise, and for every other language, the original alone.
    """
    source = ws.config.languages.source
    if reader == PRESS_SECOND_LANGUAGE and reader in ws.config.languages.targets:
        english = build_edition(release, ws, reader)
        if english.language.code == reader:
            return replace(english, original=release, original_lang=source)
    return build_edition(release, ws, source)


def reader_language(r: Recipient, ws: Workspace) -> tuple[str, str]:
    """The workspace language a recipient reads, and why if it is not their own."""
    langs = ws.config.languages
    if not r.language:
        return langs.source, reasons_.no_language(langs.source)
    if r.language in langs.all:
        return r.language, ""
    base = r.language.split("_")[0]  # de_AT reads de
    if base in langs.all:
        return base, ""
    return langs.source, reasons_.not_offered(r.language, langs.source)
