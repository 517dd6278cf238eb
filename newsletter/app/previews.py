"""Previews for the admin pages: the edition a reader of one language gets, in memory.

The same edition and rendering as ``newsletter preview`` and ``send`` (the publishing
policy picks the language, the fallback is whole), without a recipient. Images are
linked through ``asset_url``, which the web layer points at its own route; only the
release's own image files can be fetched there (``release_file``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.app.workspace import find_release
from newsletter.content.release import Release
from newsletter.errors import WorkspaceError
from newsletter.reasons import Reason
from newsletter.render.preview import render_preview
from newsletter.render.renderer import Renderer
from newsletter.translation.editions import FALLBACK
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language


@dataclass(frozen=True)
class EditionPreview:
    release_id: str
    title: str  # in the source language
    requested: Language  # the reader's language
    language: Language  # the language they get
    status: str  # "source", "translated" or "fallback"
    reasons: tuple[Reason, ...]  # why the languages before it were passed over
    machine: bool  # unreviewed machine drafts (policy "machine")
    html: str
    text: str

    @property
    def is_fallback(self) -> bool:
        return self.status == FALLBACK


def edition_preview(ws: Workspace, ref: str, lang: str, *,
                    asset_url: Callable[[Release, Path], str]) -> EditionPreview:
    """What a reader of ``lang`` receives of release ``ref`` (LanguageError for a language
    the workspace does not have, ReleaseError for an unknown release)."""
    rel = find_release(ws, ref)
    renderer = Renderer(ws, lambda path: asset_url(rel, path))
    shown = render_preview(renderer, rel, ws, lang,
                           view_online_url=ws.config.web.view_online(rel.id, lang))
    ed = shown.edition
    return EditionPreview(rel.id, rel.title.plain, ed.requested, ed.language, ed.status,
                          ed.reasons, ed.machine, shown.html, shown.text)


def release_file(ws: Workspace, ref: str, name: str) -> tuple[bytes, str]:
    """An image file of release ``ref`` by its file name, and its media type. Nothing
    but the release's own image and print file is served."""
    rel = find_release(ws, ref)
    files = [p for p in (rel.image.path, rel.image.print_path) if p] if rel.image else []
    for path in files:
        if path.name == name and path.is_file():
            media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return path.read_bytes(), media
    raise WorkspaceError(f"release {rel.id} has no image file {name!r}")
