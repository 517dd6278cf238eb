"""Opening a workspace, finding its releases, and naming languages the user typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from newsletter.content import ids
from newsletter.content.parser import load_release
from newsletter.content.release import Release
from newsletter.errors import LanguageError, ReleaseError
from newsletter.workspace.config import Workspace, resolve_inside
from newsletter.workspace.languages import Language, language
from newsletter.workspace.loading import load_workspace

__all__ = ["Language", "Release", "Workspace", "find_release", "language_info",
           "list_releases", "open_workspace", "target_codes"]


def open_workspace(folder: Path | str | None) -> Workspace:
    """The workspace in ``folder`` (else $NEWSLETTER_WORKSPACE, else the current folder)."""
    return load_workspace(folder)


def language_info(code: str) -> Language:
    """A language by any code Babel knows; unknown codes are a LanguageError."""
    return language(code)


def target_codes(ws: Workspace, codes: tuple[str, ...], *, targets_only: bool = False
                 ) -> tuple[str, ...]:
    """Normalised codes the user typed; with ``targets_only`` each must be a target."""
    out = tuple(language(code).code for code in codes)
    if targets_only:
        for code, typed in zip(out, codes, strict=True):
            if code not in ws.config.languages.targets:
                raise LanguageError(f"{typed!r} is not a target language of this workspace")
    return out


def find_release(ws: Workspace, ref: str) -> Release:
    """A release given as a path (releases/x.md) or as its id (x)."""
    tries = [Path(ref), ws.root / ref, ws.releases_dir / ref, ws.releases_dir / f"{ref}.md"]
    found = [p.resolve() for p in tries if _is_file(p)]
    inside = [p for p in found if p.is_relative_to(ws.root)]
    if not inside:
        if found:  # only a file outside the workspace matches: refuse it by name
            resolve_inside(ws.root, found[0], what="release")
        raise ReleaseError(f"no release {ref[:ids.MAX_LENGTH]!r}: give a file such as "
                           f"releases/<id>.md or an id from {ws.relative(ws.releases_dir)}/")
    path = resolve_inside(ws.root, inside[0], what="release")
    return load_release(path, ws.root, timezone=ws.config.delivery.timezone)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name over the file-name limit, or a path through a file
        return False


def list_releases(ws: Workspace, *, include_embargoed: bool = True,
                  now: dt.datetime | None = None) -> list[Release]:
    """Every release of the workspace, oldest file name first."""
    moment = now or dt.datetime.now(dt.UTC)
    releases = [load_release(p, ws.root, timezone=ws.config.delivery.timezone)
                for p in sorted(ws.releases_dir.glob("*.md"))]
    if include_embargoed:
        return releases
    return [r for r in releases if not (r.embargo and moment < r.embargo)]
