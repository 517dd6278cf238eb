"""A press release uploaded on the admin pages, through ``newsletter import``'s importer;
then its front matter edited in a form and written back through the release parser.

The upload arrives as a file the web layer streamed into ``upload_folder`` (inside the
workspace's state, never the client's path); only the suffix of the client's file name
decides the reader, and its stem, cut down to safe letters, names the temporary file
(the importer falls back to it for a title and writes it into a comment).

The form edits the keys a press officer checks after an import; every other key
(image, embargo, attachments) is kept as it is. A save is refused when the file
changed since the form was loaded (``version``), and YAML comments are not kept.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from newsletter.app import audit
from newsletter.app.importing import SUFFIXES, ImportResult, import_release
from newsletter.content import ids
from newsletter.content.frontmatter import load_front_matter, split_front_matter
from newsletter.content.parser import parse_release
from newsletter.content.release import KINDS, Release
from newsletter.errors import FormError, ImportError_, ReleaseError
from newsletter.workspace.config import Workspace
from newsletter.workspace.files import atomic_write

__all__ = ["KINDS", "MAX_UPLOAD", "SUFFIXES", "Editable", "FrontMatterForm", "ImportResult",
           "editable", "import_upload", "save_front_matter", "upload_folder"]

MAX_UPLOAD = 10 * 1024 * 1024  # a Word file with a few photos; larger is a mistake
UPLOADS = "uploads"  # below state/
IMPORTED = "release imported"  # the audit log's actions
FRONT_MATTER_SAVED = "front matter saved"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MISSING = re.compile(r"missing front-matter key '(\w+)'")


# --- the upload ----------------------------------------------------------------------------

def upload_name(client_name: str) -> str:
    """A safe file name for an upload: the client's suffix (one the importer reads) and
    its stem cut to letters, digits, '_' and '-'. ImportError_ for other suffixes."""
    base = PureWindowsPath(PurePosixPath(client_name or "").name).name  # no folders of any OS
    suffix = Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportError_(f"cannot import {suffix or 'files without a suffix'}: upload a "
                           ".docx, .txt or .html file")
    stem = _UNSAFE.sub("-", Path(base).stem).strip("-")[:60] or "upload"
    return stem + suffix


@contextmanager
def upload_folder(ws: Workspace) -> Iterator[Path]:
    """A fresh private folder for one upload below state/uploads/, removed afterwards."""
    parent = ws.state_dir / UPLOADS
    parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def import_upload(ws: Workspace, path: Path, *, release_id: str | None, kind: str | None,
                  replace: bool, account: str) -> ImportResult:
    """``newsletter import`` for an uploaded file; AlreadyExists unless ``replace``."""
    done = import_release(ws, path, release_id=release_id or None, kind=kind or None,
                          force=replace)
    audit.record(ws, account, IMPORTED, done.release.id, "replaced" if replace else "")
    return done


# --- the front-matter form -----------------------------------------------------------------

@dataclass(frozen=True)
class FrontMatterForm:
    """The keys most releases need; anything else (contacts, event, image, embargo...)
    is written back as it was."""

    kicker: str = ""
    title: str = ""
    subtitle: str = ""
    date: str = ""
    category: str = ""
    kind: str = ""
    summary: str = ""
    location: str = ""
    contact_name: str = ""
    contact_role: str = ""
    contact_organization: str = ""
    contact_address: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    contact_web: str = ""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


PLAIN_KEYS = ("kicker", "title", "subtitle", "date", "category", "kind", "summary", "location")
# the single contact's keys in the form ("organisation" is read as "organization")
FORM_CONTACT_KEYS = ("name", "role", "organization", "address", "phone", "email", "web")
EDITED = (*PLAIN_KEYS, "contact")


@dataclass(frozen=True)
class Editable:
    release_id: str
    form: FrontMatterForm
    version: str  # the file's hash when it was read: a save checks it
    kept: tuple[str, ...]  # the other keys, written back unchanged
    comments: bool  # the front matter has comments, which a save drops


def _path(ws: Workspace, release_id: str) -> Path:
    if ids.problem(release_id) is not None:  # never a file name: too long, a newline
        raise ReleaseError(f"no release {release_id[:ids.MAX_LENGTH]!r}")
    path = ws.releases_dir / f"{release_id}.md"
    if not path.is_file():
        raise ReleaseError(f"no release {release_id!r}", path=ws.relative(path))
    return path


def _read(path: Path) -> tuple[str, str, dict[str, Any], str]:
    raw = path.read_bytes()
    try:
        source = raw.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    except UnicodeDecodeError as err:
        raise ReleaseError(f"not UTF-8 text ({err.reason})", path=path) from err
    front, body, _ = split_front_matter(source, path)
    meta, _ = load_front_matter(front, path)
    return front, body, meta, hashlib.sha256(raw).hexdigest()[:20]


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value)


def editable(ws: Workspace, release_id: str) -> Editable:
    """The form's values as the file holds them (ReleaseError when it cannot be read)."""
    path = _path(ws, release_id)
    front, _, meta, version = _read(path)
    contact = dict(meta["contact"]) if isinstance(meta.get("contact"), dict) else {}
    if "organisation" in contact:
        contact.setdefault("organization", contact.pop("organisation"))
    form = FrontMatterForm(**{k: _text(meta.get(k)) for k in PLAIN_KEYS},
                           **{f"contact_{k}": _text(contact.get(k)) for k in FORM_CONTACT_KEYS})
    comments = any(line.lstrip().startswith("#") for line in front.split("\n"))
    return Editable(release_id, form, version,
                    tuple(str(k) for k in meta if k not in EDITED), comments)


class _Dumper(yaml.SafeDumper):
    """Writes dates as the parser reads them (plain 2018-08-23, not quoted): the
    timestamp resolver is dropped, as in the front matter's loader."""


_Dumper.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


def _front(form: FrontMatterForm, meta: dict[str, Any]) -> str:
    new: dict[str, Any] = {}
    for key in PLAIN_KEYS:
        value = getattr(form, key).strip()
        if value:
            new[key] = value
    contact = {k: v for k in FORM_CONTACT_KEYS
               if (v := getattr(form, f"contact_{k}").strip())}
    if contact:
        new["contact"] = contact
    new.update((k, v) for k, v in meta.items() if k not in EDITED)
    return yaml.dump(new, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6)


def _field(err: ReleaseError, lines: dict[str, int]) -> tuple[str, ...]:
    """The form field a parser error is about, from the line it names."""
    key = next((k for k, line in lines.items() if line == err.line), "")
    missing = _MISSING.search(err.message)  # a left-out key has no line of its own
    if missing:
        key = missing.group(1)
    if "contact." in err.message:  # the parser names a contact's own line, not contact:'s
        key = "contact"
    if key == "contact":
        named = next((k for k in FORM_CONTACT_KEYS if f"contact.{k}" in err.message), "name")
        return (f"contact_{named}",)
    return (key,) if key in PLAIN_KEYS else ()


def save_front_matter(ws: Workspace, release_id: str, form: FrontMatterForm, version: str,
                      account: str) -> Release:
    """Write the form into releases/<id>.md atomically, after the parser read it back;
    a FormError names the field the parser refused, or says the file changed."""
    path = _path(ws, release_id)
    _, body, meta, current = _read(path)
    if version != current:
        raise FormError((), "the release changed since this form was opened: load it again "
                            "and repeat your changes")
    front = _front(form, meta)
    text = f"---\n{front}---\n{body}"
    try:
        release = parse_release(text, path=path, workspace_root=ws.root,
                                timezone=ws.config.delivery.timezone)
    except ReleaseError as err:
        _, lines = load_front_matter(front, path)
        raise FormError(_field(err, lines), err.message) from None
    atomic_write(path, text.encode("utf-8"))
    audit.record(ws, account, FRONT_MATTER_SAVED, release_id)
    return release
