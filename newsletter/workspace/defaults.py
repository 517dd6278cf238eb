"""What ships inside the package: the templates, the UI catalogs, a newsletter.toml to start.

A workspace's own ``templates/`` and ``locales/`` override these file by file; the
release catalogs and the About-us catalogs always live in the workspace.
"""

from __future__ import annotations

from pathlib import Path

# a folder of plain files beside the modules (package data, see pyproject.toml); read
# through the functions below, so that tests can point them elsewhere
DEFAULTS = Path(__file__).resolve().parent.parent / "defaults"
CONFIG_TEMPLATE = "newsletter.toml"


def package_templates() -> Path:
    return DEFAULTS / "templates"


def package_locales() -> Path:
    return DEFAULTS / "locales"


def config_template() -> Path:
    """The commented newsletter.toml that ``newsletter init`` fills in."""
    return DEFAULTS / CONFIG_TEMPLATE


def sample_release() -> Path:
    """A short German release of a fictional association, for a new workspace to try."""
    return DEFAULTS / "sample-release.md"


def next_steps() -> Path:
    """The note of next steps a new workspace gets (a string.Template)."""
    return DEFAULTS / "next-steps.md"


def source_checkout() -> Path | None:
    """The checkout the package runs from (pyproject.toml beside it), else None: only
    there may the shipped catalogs be rewritten."""
    root = DEFAULTS.parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "newsletter").is_dir() else None
