"""The static web archive."""

from __future__ import annotations

from pathlib import Path

from newsletter.publish.archive import ArchiveResult, build_archive
from newsletter.workspace.config import Workspace


def archive(ws: Workspace, out: Path | None = None) -> tuple[ArchiveResult, Path]:
    """Build every release in every language, an index and a feed per language."""
    target = ws.operator_path(out or ws.root / "site")
    return build_archive(ws, target), target
