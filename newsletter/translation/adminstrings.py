"""The admin pages' strings: domain 'admin', extracted from templates/admin (the
workspace's own, else the package's).

The officer and the reviewers choose the pages' language (German and English ship
complete). Unlike a reader's page, an admin page may fall back string by string: its
users know the tool, and a half-translated page is better than none. A language whose
catalog is complete and reviewed is offered in the language menu; any other falls
back to the English of the source strings.
"""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.support import NullTranslations

from newsletter.errors import LanguageError
from newsletter.translation.catalog import UpdateResult
from newsletter.translation.uicatalogs import ui_po_path, write_domain
from newsletter.translation.uistrings import (
    ADMIN_DOMAIN,
    reviewed_translations,
    template_strings,
)
from newsletter.workspace.config import Workspace

DOMAIN = ADMIN_DOMAIN
SOURCE = "en"  # the language of the msgids


def admin_template(ws: Workspace) -> Catalog:
    return template_strings(ws, DOMAIN)


def extract_admin(ws: Workspace) -> list[UpdateResult]:
    """Bring the admin catalogs up to the templates (the workspace's own where it needs them)."""
    return write_domain(ws, DOMAIN, admin_template(ws))


def load_admin(ws: Workspace, lang: str) -> NullTranslations | None:
    """The reviewed strings of ``lang``; None when its catalog is missing or incomplete
    (the pages are then in English). English needs no catalog."""
    if lang == SOURCE:
        return NullTranslations()
    if not ui_po_path(ws, DOMAIN, lang).exists():
        return None
    try:
        return reviewed_translations(ws, DOMAIN, lang)
    except LanguageError:
        return None
