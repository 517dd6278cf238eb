"""Shared fixtures: every test works on a private copy of the example workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsletter.workspace.config import Workspace
from newsletter.workspace.loading import load_workspace
from tests.pg import pg_url, sqlite_only, state_db  # noqa: F401 - fixtures for every test module

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
WORKSPACE_PARTS = ("newsletter.toml", "releases", "locales", "templates", "recipients")
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
