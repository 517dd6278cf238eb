"""Shared fixtures: every test works on a private copy of the example workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsletter.translation.catalog import po_path
from newsletter.translation.uicatalogs import package_po
from newsletter.workspace import defaults
from newsletter.workspace.config import Workspace
from newsletter.workspace.loading import load_workspace
from tests.pg import pg_url, sqlite_only, state_db  # noqa: F401 - fixtures for every test module

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# the example workspace keeps no templates of its own: the package's serve it
WORKSPACE_PARTS = ("newsletter.toml", "releases", "locales", "recipients")
EXAMPLE_RELEASE = "2018-08-23-kooperationsvertrag"


def copy_workspace(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKSPACE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copy2(src, dest / part)
    return dest


@pytest.fixture
def ws_root(tmp_path: Path) -> Path:
    """A copy of the repo's example workspace in a temporary folder."""
    return copy_workspace(tmp_path / "ws")


@pytest.fixture
def ws(ws_root: Path) -> Workspace:
    return load_workspace(ws_root)


def own_ui_catalog(ws: Workspace, domain: str, lang: str) -> Path:
    """The workspace's own copy of the package's UI catalog (it then replaces the package's
    for this workspace), for a test to edit as a reviewer or an association would."""
    path = po_path(ws, domain, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package_po(domain, lang), path)
    return path


@pytest.fixture
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the package's defaults (templates, catalogs) the package then reads, for
    tests that break what it ships; the package itself stays as it is."""
    copy = tmp_path / "checkout" / "newsletter" / "defaults"
    shutil.copytree(defaults.DEFAULTS, copy)
    monkeypatch.setattr(defaults, "DEFAULTS", copy)
    return copy


def require_msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:  # make test installs gettext; a missing msgfmt is a setup error
        pytest.fail("GNU msgfmt not found: install the 'gettext' package (make test does)")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = sqlite_only(items)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
