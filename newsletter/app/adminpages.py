"""The admin pages' renderer and interface language, for the web layer (which sees the
application layer only)."""

from __future__ import annotations

from newsletter.app.pages import accepted_languages
from newsletter.render.adminpages import AdminPages
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language

__all__ = ["AdminPages", "Language", "choose_ui", "open_admin_pages"]


def open_admin_pages(ws: Workspace) -> AdminPages:
    return AdminPages(ws)


def choose_ui(pages: AdminPages, *wanted: str, accept: str = "") -> str:
    """The interface language: the first offered of ``wanted`` (?ui=, the account's
    choice), else the browser's best offered one, else English."""
    offered = {lg.code for lg in pages.languages()}
    for code in (*wanted, *accepted_languages(accept)):
        base = (code or "").replace("-", "_").split("_")[0].lower()
        if base in offered:
            return base
    return "en"
