"""Gettext catalogs of releases and of the UI: extract, update, read, write atomically."""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po

from newsletter.content.release import Release
from newsletter.content.segments import Segment
from newsletter.errors import CatalogBusy, CatalogError
from newsletter.translation.plurals import plural_forms
from newsletter.workspace.config import Workspace
from newsletter.workspace.files import atomic_write, exclusive_lock

# Babel guesses these from the msgid; for prose they are wrong ("20 % der" is not a
# format string) and make msgfmt -c and Babel's checks reject correct translations.
_GUESSED_FLAGS = ("python-format", "python-brace-format")
PROJECT = "newsletter"
WIDTH = 76
# Babel writes "Generated-By: Babel <its version>" into every catalog it writes, so each
# upgrade of Babel would change the header of every catalog the next write touches, with
# nothing in it a translator or a gettext tool uses. We name ourselves, without a version
# (ours would flip them just the same).
GENERATED_BY = b'"Generated-By: ' + PROJECT.encode() + b'\\n"'
_GENERATED_BY_LINE = re.compile(rb'^"Generated-By: [^"\n]*\\n"$', re.MULTILINE)


@dataclass(frozen=True)
class UpdateResult:
    """What ``extract`` did to one catalog file, for the CLI to print and tests to check."""

    path: Path
    language: str | None  # None for the template
    action: str  # "created", "updated" or "unchanged"
    entries: int
    translated: int
    obsolete: int


def pot_path(ws: Workspace, domain: str) -> Path:
    return ws.locales_dir / f"{domain}.pot"


def po_path(ws: Workspace, domain: str, lang: str) -> Path:
    return ws.locales_dir / lang / "LC_MESSAGES" / f"{domain}.po"


LOCK_WAIT = 10.0  # seconds a writer waits for another one (a save is quick; drafting is not)


@contextmanager
def catalog_lock(ws: Workspace, domain: str, lang: str, *, timeout: float | None = None
                 ) -> Iterator[None]:
    """One writer at a time for the catalog of ``domain`` in ``lang``: whoever reads,
    changes and writes it back (the review page, ``translate``, ``extract``) holds this
    lock for the whole read-modify-write, so no one's change is lost in between. The
    lock file lives in state/locks/, never beside the PO file (git would see it)."""
    path = ws.state_dir / "locks" / f"catalog-{domain}.{lang}.lock"
    try:
        with exclusive_lock(path, timeout=LOCK_WAIT if timeout is None else timeout):
            yield
    except TimeoutError as err:
        raise CatalogBusy(f"the {lang} catalog of {domain} is being written by another "
                          "process; try again in a moment") from err


def release_template(release: Release, ws: Workspace) -> Catalog:
    """The POT of a release: one entry per distinct (role, text), in document order."""
    cat = new_catalog(locale=None, domain=release.id, source_lang=ws.config.languages.source,
                      contact=ws.config.organization.email)
    where = ws.relative(release.path)
    for unit in release.units():
        cat.add(
            unit.segment.text,
            locations=[(where, unit.line)],
            auto_comments=[unit.block_type, *tag_notes(unit.segment)],
            context=unit.context,
        )
    return strip_guessed_flags(cat)


def tag_notes(segment: Segment) -> list[str]:
    """Extracted comments for translators on tags they cannot tell apart: line breaks."""
    breaks = [f"<{t.number}/>" for t in segment.tags if t.kind == "br"]
    if not breaks:
        return []
    return [" ".join(breaks) + (": line breaks" if len(breaks) > 1 else ": line break")]


def new_catalog(*, locale: str | None, domain: str, source_lang: str,
                contact: str = "") -> Catalog:
    cat = Catalog(
        locale=locale,
        domain=domain,
        project=PROJECT,
        version=domain,
        copyright_holder=None,
        msgid_bugs_address=contact,
        fuzzy=False,
        header_comment=f"# Catalog {domain!r}, source language {source_lang!r}.\n"
        "# Translators: clearing the 'fuzzy' flag approves an entry for sending.",
    )
    if locale:
        # msgfmt -c warns about the template's placeholder values; say what is true instead
        cat.language_team = f"{locale} reviewers <{contact}>" if contact else locale
        cat.last_translator = "not yet reviewed"
        cat.revision_date = cat.creation_date
        cat.mime_headers = [("Plural-Forms", plural_forms(locale))]
    return cat


def has_plural_forms(cat: Catalog) -> bool:
    """Whether ``cat`` was read with a Plural-Forms header (Babel otherwise answers with
    its own rule for the locale, which differs between its versions)."""
    return getattr(cat, "_num_plurals", None) is not None


def strip_guessed_flags(cat: Catalog) -> Catalog:
    for msg in cat:
        if msg.id:
            for flag in _GUESSED_FLAGS:
                msg.flags.discard(flag)
    return cat


PAIR_RATIO = 0.65
PREVIOUS = "previous source: "


def update_catalog(template: Catalog, old: Catalog | None, *, lang: str, domain: str,
                   source_lang: str, contact: str = "", prose: bool = True) -> Catalog:
    """A new language catalog for ``template`` keeping every translation whose entry is unchanged.

    A changed block inherits the translation of the old block it replaces, as fuzzy,
    when the two are close (see ``pair_changed``); the old source text is kept in a
    translator comment so the reviewer sees what changed. Entries that vanished from
    the source move to the obsolete section (``#~``) so no reviewed work is lost.
    Babel's own fuzzy matching is not used: it ignores msgctxt and lets one old
    translation seed several new entries.
    """
    cat = new_catalog(locale=lang, domain=domain, source_lang=source_lang, contact=contact)
    previous: dict[tuple[str, str | None], Message] = {}
    if old is not None:
        cat.last_translator = old.last_translator
        cat.language_team = old.language_team
        cat.revision_date = old.revision_date
        if has_plural_forms(old):
            # The file's own rule stays: its msgstr[N] are numbered by it (a translator
            # may also have chosen one), and a new Babel must not rewrite it.
            cat.mime_headers = [("Plural-Forms", old.plural_forms)]
        previous = {(m.id, m.context): m for m in old if m.id}
        previous.update({(m.id, m.context): m for m in old.obsolete.values()})
    current_old = [m for m in old if m.id] if old is not None else []
    new_keys = [(m.id, m.context) for m in template if m.id]
    paired = pair_changed(current_old, new_keys, set(previous)) if prose else {}
    for tmsg in template:
        if not tmsg.id:
            continue
        key = (tmsg.id, tmsg.context)
        was = previous.pop(key, None)
        if was is not None:
            fuzzy = was.fuzzy
            comments = [c for c in was.user_comments if fuzzy or not c.startswith(PREVIOUS)]
            string, flags = was.string, ({"fuzzy"} if fuzzy else set()) | set(tmsg.flags)
        elif key in paired:
            base = paired[key]
            comments = [c for c in base.user_comments if not c.startswith(PREVIOUS)]
            comments.append(PREVIOUS + str(base.id))
            string, flags = base.string, {"fuzzy"} | set(tmsg.flags)
        else:
            string, flags, comments = "", set(tmsg.flags), []
        cat.add(tmsg.id, string=string, locations=tmsg.locations,
                auto_comments=tmsg.auto_comments, user_comments=comments, flags=flags,
                context=tmsg.context)
    for (msgid, ctx), msg in previous.items():
        if msg.string:  # an untranslated entry that left the source is simply gone
            cat.obsolete[cat._key_for(msgid, ctx)] = Message(
                msgid, msg.string, user_comments=msg.user_comments, flags=msg.flags,
                context=ctx,
            )
    return strip_guessed_flags(cat) if prose else cat


def pair_changed(old: list[Message], new_keys: list[tuple[str, str | None]],
                 known: set[tuple[str, str | None]]) -> dict[tuple[str, str | None], Message]:
    """Pair edited blocks with the blocks they replace: one to one, in document order.

    Only entries that left the source (old) and entries that are new (not known) take
    part; a pair needs the same role (msgctxt) and a similarity of at least PAIR_RATIO.
    """
    old_keys = [(m.id, m.context) for m in old]
    by_key = {(m.id, m.context): m for m in old}
    out: dict[tuple[str, str | None], Message] = {}
    matcher = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        gone = [k for k in old_keys[i1:i2] if k not in new_keys and by_key[k].string]
        added = [k for k in new_keys[j1:j2] if k not in known]
        start = 0
        for new in added:
            for idx in range(start, len(gone)):
                cand = gone[idx]
                if cand[1] != new[1]:
                    continue
                ratio = difflib.SequenceMatcher(a=cand[0], b=new[0], autojunk=False).ratio()
                if ratio >= PAIR_RATIO:
                    out[new] = by_key[cand]
                    start = idx + 1
                    break
    return out


_PO_STRING = r'"(?:[^"\\]|\\.)*"'
_PO_LINE = re.compile(
    rf'^(?:#.*|(?:#~\s*)?(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+{_PO_STRING}'
    rf'|(?:#~\s*)?{_PO_STRING})?\s*$'
)


def check_po_syntax(data: bytes, path: Path) -> None:
    """Refuse lines Babel would silently misread (an unclosed quote loses a translation)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CatalogError(f"not UTF-8 ({err.reason})", path=path) from err
    for number, line in enumerate(text.splitlines(), start=1):
        if not _PO_LINE.match(line):
            raise CatalogError(f"malformed PO line: {line[:60]!r}", path=path, line=number)


def read_catalog(path: Path, *, locale: str | None = None, prose: bool = True) -> Catalog:
    """Read a PO/POT file; a malformed file is a ``CatalogError`` naming file and line."""
    try:
        data = path.read_bytes()
        check_po_syntax(data, path)
        cat = read_po(io.BytesIO(data), locale=locale, abort_invalid=True)
    except FileNotFoundError as err:
        raise CatalogError("catalog not found", path=path) from err
    except PoFileError as err:
        line = getattr(err, "lineno", None)
        raise CatalogError(f"malformed PO file: {err}", path=path, line=line) from err
    except (UnicodeDecodeError, ValueError) as err:
        raise CatalogError(f"cannot read catalog: {err}", path=path) from err
    # UI strings really are format strings (%(name)s); release prose is not
    return strip_guessed_flags(cat) if prose else cat


def render_catalog(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, cat, width=WIDTH, sort_output=False, include_previous=True)
    head, sep, body = buf.getvalue().partition(b"\n\n")  # the header entry comes first
    return _GENERATED_BY_LINE.sub(lambda _: GENERATED_BY, head, count=1) + sep + body


def write_catalog(path: Path, cat: Catalog) -> str:
    """Write ``cat`` atomically; returns "created", "updated" or "unchanged".

    A file whose entries, translations, flags and comments did not change is left
    alone, whatever its line wrapping: running ``extract`` twice produces no
    version-control noise and does not reformat what Poedit or Weblate wrote.
    """
    data = render_catalog(cat)
    if path.exists():
        try:
            old = read_po(io.BytesIO(path.read_bytes()), abort_invalid=True)
        except (PoFileError, UnicodeDecodeError, ValueError):
            old = None
        if old is not None and _content(old) == _content(cat):
            return "unchanged"
        action = "updated"
    else:
        action = "created"
    atomic_write(path, data)
    return action


def _content(cat: Catalog) -> tuple:
    """What a catalog says, without dates and formatting."""

    def entry(m: Message) -> tuple:
        return (m.context, m.id, m.string or "", tuple(sorted(m.flags - set(_GUESSED_FLAGS))),
                _words(m.user_comments), _words(m.auto_comments), _locations(m))

    header = tuple((k, v) for k, v in cat.mime_headers
                   if k not in ("POT-Creation-Date", "PO-Revision-Date", "Generated-By"))
    return (header, tuple(entry(m) for m in cat if m.id),
            tuple(entry(m) for m in cat.obsolete.values()))


def _words(comments: list[str]) -> str:
    """Comments as their words: write_po wraps a long one into several lines, and
    read_po gives each line back as a comment of its own."""
    return " ".join(" ".join(comments).split())


def _locations(m: Message) -> tuple[tuple[str, int], ...]:
    """The "#:" references as written: write_po sorts them by file and line, while
    extraction lists a template's own folder before its subfolders."""
    return tuple(sorted(set(m.locations), key=lambda loc: (loc[0], loc[1] or -1)))


def extract_release(release: Release, ws: Workspace) -> list[UpdateResult]:
    """Write ``locales/<id>.pot`` and create or update the PO file of every target language."""
    template = release_template(release, ws)
    results = [_result(pot_path(ws, release.id), None, template,
                       write_catalog(pot_path(ws, release.id), template))]
    langs = ws.config.languages
    for lang in langs.targets:
        path = po_path(ws, release.id, lang)
        with catalog_lock(ws, release.id, lang):
            old = read_catalog(path, locale=lang) if path.exists() else None
            cat = update_catalog(template, old, lang=lang, domain=release.id,
                                 source_lang=langs.source, contact=ws.config.organization.email)
            results.append(_result(path, lang, cat, write_catalog(path, cat)))
    return results


def _result(path: Path, lang: str | None, cat: Catalog, action: str) -> UpdateResult:
    entries = [m for m in cat if m.id]
    return UpdateResult(
        path=path, language=lang, action=action, entries=len(entries),
        translated=sum(1 for m in entries if m.string and not m.fuzzy),
        obsolete=len(cat.obsolete),
    )


def is_reviewed(msg: Message | None) -> bool:
    """A translation that may be sent: present, non-empty and not fuzzy."""
    return bool(msg is not None and msg.string and not msg.fuzzy)


def messages_by_key(cat: Catalog) -> dict[tuple[str | None, str], Message]:
    return {(m.context, m.id): m for m in cat if m.id}

