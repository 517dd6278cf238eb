"""Catalogs, machine drafts, status and previews: what the translation commands do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.app.workspace import find_release, list_releases, target_codes
from newsletter.content.release import Release
from newsletter.render.preview import PreviewFile, write_previews
from newsletter.translation.adminstrings import extract_admin
from newsletter.translation.catalog import UpdateResult, extract_release
from newsletter.translation.drafting import TranslateReport, translate_release
from newsletter.translation.editions import coverage
from newsletter.translation.engines import ENGINES, RetryPolicy, make_engine
from newsletter.translation.progress import ReleaseStatus, export_tmx, release_status
from newsletter.translation.uistrings import extract_package_ui, extract_ui
from newsletter.translation.webstrings import extract_web
from newsletter.workspace.config import Workspace

ENGINE_NAMES = tuple(ENGINES)


def extract(ws: Workspace, refs: tuple[str, ...], *, ui: bool) -> list[UpdateResult]:
    """Write the catalogs of the named releases (and with ``ui`` the UI strings: the
    mails' and the archive's, domain 'messages', the web app's, domain 'web', and the
    admin pages', domain 'admin', where the workspace needs its own; and the About-us
    text's, domain 'about')."""
    results: list[UpdateResult] = []
    for ref in refs:
        results += extract_release(find_release(ws, ref), ws)
    if ui:
        results += extract_ui(ws)
        results += extract_web(ws)
        results += extract_admin(ws)
    return results


def extract_package() -> list[UpdateResult]:
    """For developers: rewrite the UI catalogs the package ships from its own templates
    (a source checkout only)."""
    return extract_package_ui()


@dataclass(frozen=True)
class Previews:
    release: Release
    folder: Path  # where the files went: <folder>/<release id>/
    files: list[PreviewFile]


def preview(ws: Workspace, ref: str, langs: tuple[str, ...], out: Path | None) -> Previews:
    rel = find_release(ws, ref)
    chosen = target_codes(ws, langs) or ws.config.languages.all
    target = ws.operator_path(out or ws.build_dir / "preview")
    return Previews(rel, target, write_previews(rel, ws, chosen, target))


@dataclass(frozen=True)
class Drafting:
    release: Release
    report: TranslateReport
    missing: int = 0  # entries still empty when the engine stopped
    missing_languages: int = 0


def translate(ws: Workspace, ref: str, *, engine: str | None, langs: tuple[str, ...],
              dry_run: bool) -> Drafting:
    """Draft every empty entry: translation memory first, then the engine."""
    rel = find_release(ws, ref)
    cfg = ws.config.translation
    mt = make_engine(engine or cfg.engine, libre_url=cfg.libretranslate_url,
                     policy=RetryPolicy(timeout=cfg.timeout, retries=cfg.retries))
    chosen = target_codes(ws, langs, targets_only=True) or None
    report = translate_release(rel, ws, mt, chosen, dry_run=dry_run)
    if not report.stopped:
        return Drafting(rel, report)
    missing = [coverage(rel, ws, lang).missing for lang in chosen or ws.config.languages.targets]
    return Drafting(rel, report, sum(missing), sum(1 for n in missing if n))


def status(ws: Workspace, refs: tuple[str, ...]) -> list[ReleaseStatus]:
    rels = [find_release(ws, ref) for ref in refs] if refs else list_releases(ws)
    return [release_status(rel, ws) for rel in rels]


def tm_export(ws: Workspace, lang: str, out: Path | None) -> tuple[int, Path]:
    """Write the reviewed pairs of ``lang`` as TMX 1.4; returns (count, file)."""
    (code,) = target_codes(ws, (lang,), targets_only=True)
    src = ws.config.languages.source
    target = ws.operator_path(out or ws.build_dir / "tm" / f"{src}-{code}.tmx")
    return export_tmx(ws, code, target), target
