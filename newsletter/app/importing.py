"""Importing a press release from a text, Word or HTML file into releases/<id>.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from newsletter.content.importers import SUFFIXES, Imported, import_file_limited
from newsletter.content.parser import parse_release
from newsletter.content.release import Release
from newsletter.errors import AlreadyExists, ImportError_, ReleaseError
from newsletter.workspace.config import Workspace
from newsletter.workspace.files import atomic_write

__all__ = ["SUFFIXES", "ImportResult", "import_release"]


@dataclass(frozen=True)
class ImportResult:
    imported: Imported  # the guesses and the "check these" list
    release: Release  # the written file, read back by the parser
    path: Path  # releases/<id>.md
    images: tuple[Path, ...]  # releases/images/<id>-N.<ext>


def import_release(ws: Workspace, source: Path | str, *, release_id: str | None = None,
                   kind: str | None = None, force: bool = False,
                   today: dt.date | None = None) -> ImportResult:
    """Write ``source`` as ``releases/<id>.md`` (and its images), never over an existing
    file unless ``force``; the written release is parsed back before this returns."""
    # as typed from the current folder first, like a release named on the command line
    src = Path(source).resolve() if Path(source).is_file() else ws.operator_path(source)
    if not src.is_file():
        raise ImportError_("file not found", path=src)
    # read in a child process with limits: a small file may unpack to a lot of work
    imported = import_file_limited(src, release_id=release_id, kind=kind, today=today)
    target = ws.releases_dir / f"{imported.release_id}.md"
    images = [(ws.releases_dir / rel, data) for rel, data in imported.images]
    if not force:
        for path in [target, *(p for p, _ in images)]:
            if path.exists():
                raise AlreadyExists("already exists: pass --force to replace it, or --id to "
                                   "choose another name", path=ws.relative(path))
    created = [p for p, _ in images if not p.exists()]
    for path, data in images:
        atomic_write(path, data)
    try:
        # the images must exist for the parser's path checks, so they are written first
        release = parse_release(imported.text, path=target, workspace_root=ws.root,
                                timezone=ws.config.delivery.timezone)
    except ReleaseError as err:
        for path in created:
            path.unlink(missing_ok=True)
        raise ImportError_(f"the imported release does not read back ({err.message}, line "
                           f"{err.line}); this is a bug, please report it with the file",
                           path=src) from err
    atomic_write(target, imported.text.encode("utf-8"))
    return ImportResult(imported, release, target, tuple(p for p, _ in images))
