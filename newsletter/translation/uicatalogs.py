"""Where the UI catalogs are, and how ``extract --ui`` keeps them: the workspace's own, else
the package's, file by file.

The package ships messages, web and admin catalogs for its templates. A workspace
needs its own only where it differs: a language the package has no catalog for, a
translation it words its own way (its own ``<lang>/LC_MESSAGES/<domain>.po``), or
templates of its own with other strings (then its own ``<domain>.pot`` and a catalog
for every language, started from the package's translations).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog, Message

from newsletter.translation.catalog import (
    UpdateResult,
    po_path,
    pot_path,
    read_catalog,
    update_catalog,
    write_catalog,
)
from newsletter.workspace.config import Workspace
from newsletter.workspace.defaults import package_locales

SOURCE = "en"  # the language of the templates' msgids
PACKAGE = "package"  # UpdateResult.action of a catalog the package provides as it is


def package_pot(domain: str) -> Path:
    return package_locales() / f"{domain}.pot"


def package_po(domain: str, lang: str) -> Path:
    return package_locales() / lang / "LC_MESSAGES" / f"{domain}.po"


def package_languages(domain: str) -> tuple[str, ...]:
    """The languages the package has a catalog of ``domain`` for."""
    folder = package_locales()
    return tuple(sorted(p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{domain}.po")))


def ui_pot_path(ws: Workspace, domain: str) -> Path:
    """The template of a UI domain: the workspace's own if it has one, else the package's."""
    own = pot_path(ws, domain)
    return own if own.exists() or not package_pot(domain).exists() else package_pot(domain)


def ui_po_path(ws: Workspace, domain: str, lang: str) -> Path:
    """The catalog of a UI domain in ``lang``: the workspace's own, else the package's;
    where neither exists, the workspace's (the file 'extract --ui' would write)."""
    own = po_path(ws, domain, lang)
    shipped = package_po(domain, lang)
    return own if own.exists() or not shipped.exists() else shipped


def _keys(cat: Catalog) -> set[tuple[str | None, object]]:
    return {(m.context, m.id) for m in cat if m.id}


def _read(path: Path, lang: str | None = None) -> Catalog | None:
    return read_catalog(path, locale=lang, prose=False) if path.exists() else None


def _seeded(own: Catalog | None, shipped: Catalog | None) -> Catalog | None:
    """The workspace's catalog, its gaps filled with the package's reviewed translations
    (a string new in the package comes translated); without one, the package's."""
    if own is None or shipped is None:
        return own or shipped
    for msg in shipped:
        if not msg.id or not msg.string or msg.fuzzy:
            continue
        have = own.get(msg.id, context=msg.context)
        if have is None or not have.string:
            if have is not None:
                own.delete(msg.id, context=msg.context)
            own[msg.id] = Message(msg.id, msg.string, flags=msg.flags, context=msg.context)
    return own


def _result(path: Path, lang: str | None, cat: Catalog, action: str) -> UpdateResult:
    done = 0 if lang is None else sum(1 for m in cat if m.id and m.string and not m.fuzzy)
    return UpdateResult(path, lang, action, sum(1 for m in cat if m.id), done,
                        len(cat.obsolete))


def _update(template: Catalog, old: Catalog | None, path: Path, lang: str, domain: str,
            contact: str) -> UpdateResult:
    cat = update_catalog(template, old, lang=lang, domain=domain, source_lang=SOURCE,
                         contact=contact, prose=False)
    return _result(path, lang, cat, write_catalog(path, cat))


def write_domain(ws: Workspace, domain: str, template: Catalog) -> list[UpdateResult]:
    """Bring the workspace's UI catalogs of ``domain`` up to ``template`` (the strings of
    its templates, its own before the package's), writing only what it needs of its own."""
    contact = ws.config.organization.email
    own_pot, shipped_pot = pot_path(ws, domain), package_pot(domain)
    shipped_template = _read(shipped_pot)
    # its own template when its templates have other strings than the package's (or it
    # already keeps one: then that one stays up to date)
    owns = own_pot.exists() or shipped_template is None or (
        _keys(shipped_template) != _keys(template))
    if owns:
        out = [_result(own_pot, None, template, write_catalog(own_pot, template))]
    else:
        out = [_result(shipped_pot, None, shipped_template, PACKAGE)]
    for lang in ws.config.languages.all:
        own, shipped = po_path(ws, domain, lang), package_po(domain, lang)
        if not (owns or own.exists() or not shipped.exists()):
            continue  # the package's catalog serves this language as it is
        old = _seeded(_read(own, lang), _read(shipped, lang))
        out.append(_update(template, old, own, lang, domain, contact))
    return out


def write_package_domain(domain: str, template: Catalog) -> list[UpdateResult]:
    """Bring the catalogs the package ships up to ``template`` (its own templates' strings),
    in every language it has; for developers of the package, in a source checkout."""
    pot = package_pot(domain)
    old_template = _read(pot)
    contact = old_template.msgid_bugs_address if old_template is not None else ""
    template.msgid_bugs_address = contact
    out = [_result(pot, None, template, write_catalog(pot, template))]
    for lang in package_languages(domain):
        path = package_po(domain, lang)
        out.append(_update(template, _read(path, lang), path, lang, domain, contact))
    return out
