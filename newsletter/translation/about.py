"""The association's own "About us" text of newsletter.toml: domain 'about', in the workspace.

The UI strings of the templates are English and ship with the package; the About-us
text is the association's, written in the source language, and is translated like a
release: ``locales/about.pot`` and ``locales/<target>/LC_MESSAGES/about.po`` in the
workspace. The source language needs no catalog: its text is the text itself.
Workspaces from before this domain kept the text in their own messages.po; it is
still read from there, and ``extract --ui`` carries its translations over.
"""

from __future__ import annotations

import re

from babel.messages.catalog import Catalog, Message

from newsletter.errors import LanguageError
from newsletter.translation.catalog import (
    UpdateResult,
    catalog_lock,
    is_reviewed,
    new_catalog,
    po_path,
    pot_path,
    read_catalog,
    strip_guessed_flags,
    update_catalog,
    write_catalog,
)
from newsletter.workspace.config import CONFIG_NAME, Workspace

DOMAIN = "about"
CONTEXT = "about us"
LEGACY_DOMAIN = "messages"  # where workspaces kept the text before this domain


def _config_line(ws: Workspace, key: str) -> int:
    """The line of ``key = ...`` in newsletter.toml, for the catalog's #: reference."""
    try:
        lines = (ws.root / CONFIG_NAME).read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), 0)


def about_template(ws: Workspace) -> Catalog:
    """The POT of the About-us text: one entry, or none when newsletter.toml has no text."""
    cat = new_catalog(locale=None, domain=DOMAIN, source_lang=ws.config.languages.source,
                      contact=ws.config.organization.email)
    about = ws.config.organization.about
    if about:
        cat.add(about, locations=[(CONFIG_NAME, _config_line(ws, "about"))],
                auto_comments=["[organization] about: who we are, shown at the end of every "
                               "release (Über uns)"], context=CONTEXT)
    # prose, not a format string: "20 % der Vereine" is no placeholder
    return strip_guessed_flags(cat)


def _legacy(ws: Workspace, lang: str) -> Catalog | None:
    """The About-us entries of the workspace's own messages.po, if it has one."""
    path = po_path(ws, LEGACY_DOMAIN, lang)
    if not path.exists():
        return None
    old = read_catalog(path, locale=lang, prose=False)
    cat = new_catalog(locale=lang, domain=DOMAIN, source_lang=ws.config.languages.source,
                      contact=ws.config.organization.email)
    cat.last_translator, cat.language_team = old.last_translator, old.language_team
    for msg in [*old, *old.obsolete.values()]:
        if msg.id and msg.context == CONTEXT:
            cat.add(msg.id, string=msg.string, flags=msg.flags - {"python-format"},
                    user_comments=msg.user_comments, context=CONTEXT)
    return cat


def extract_about(ws: Workspace) -> list[UpdateResult]:
    """Write locales/about.pot and update locales/<target>/LC_MESSAGES/about.po; nothing
    when newsletter.toml has no About-us text (catalogs written before stay as they are)."""
    template = about_template(ws)
    if not any(m.id for m in template):
        return []
    pot = pot_path(ws, DOMAIN)
    out = [UpdateResult(pot, None, write_catalog(pot, template), 1, 0, 0)]
    langs = ws.config.languages
    for lang in langs.targets:
        path = po_path(ws, DOMAIN, lang)
        with catalog_lock(ws, DOMAIN, lang):
            old = read_catalog(path, locale=lang) if path.exists() else _legacy(ws, lang)
            cat = update_catalog(template, old, lang=lang, domain=DOMAIN,
                                 source_lang=langs.source,
                                 contact=ws.config.organization.email)
            done = sum(1 for m in cat if m.id and is_reviewed(m))
            out.append(UpdateResult(path, lang, write_catalog(path, cat),
                                    sum(1 for m in cat if m.id), done, len(cat.obsolete)))
    return out


def reviewed_about(ws: Workspace, lang: str) -> list[Message]:
    """The reviewed translation of the About-us text into ``lang`` (none needed for the
    source language or without a text); a LanguageError when it is missing or fuzzy:
    edited in newsletter.toml, it needs its translations again before any mail goes out."""
    about = ws.config.organization.about
    if not about or lang == ws.config.languages.source:
        return []
    path = po_path(ws, DOMAIN, lang)
    for candidate, prose in ((path, True), (po_path(ws, LEGACY_DOMAIN, lang), False)):
        if candidate.exists():
            msg = read_catalog(candidate, locale=lang, prose=prose).get(about, context=CONTEXT)
            if is_reviewed(msg):
                return [msg]
    raise LanguageError(
        f"the {CONTEXT!r} text of {CONFIG_NAME} has no reviewed translation for {lang!r} "
        f"(after editing it, run 'newsletter extract --ui' and translate it in "
        f"{ws.relative(path)})")
