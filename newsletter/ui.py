"""UI strings of the templates: extraction into messages.pot and strict loading per language."""

from __future__ import annotations

import io

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.support import Translations

from newsletter.catalog import (
    UpdateResult,
    new_catalog,
    po_path,
    pot_path,
    read_catalog,
    update_catalog,
    write_catalog,
)
from newsletter.config import Workspace
from newsletter.errors import LanguageError

DOMAIN = "messages"
# Jinja2 ships a Babel extractor; new-style gettext lets templates write _("x %(n)s", n=1).
_METHOD_MAP = [("**.j2", "jinja2.ext:babel_extract")]
_OPTIONS = {"**.j2": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                      "trimmed": "true"}}


def ui_template(ws: Workspace) -> Catalog:
    """Extract every translatable string of the templates into a fresh catalog."""
    cat = new_catalog(locale=None, domain=DOMAIN, source_lang="en",
                      contact=ws.config.organization.email)
    for filename, lineno, message, comments, context in extract_from_dir(
        ws.templates_dir, method_map=_METHOD_MAP, options_map=_OPTIONS,
        comment_tags=("Translators:",), strip_comment_tags=True,
    ):
        cat.add(message, locations=[(f"templates/{filename}", lineno)],
                auto_comments=comments, context=context)
    return cat


def extract_ui(ws: Workspace) -> list[UpdateResult]:
    """Write locales/messages.pot and update locales/<lang>/LC_MESSAGES/messages.po."""
    template = ui_template(ws)
    out = [UpdateResult(pot_path(ws, DOMAIN), None, write_catalog(pot_path(ws, DOMAIN), template),
                        sum(1 for m in template if m.id), 0, 0)]
    for lang in ws.config.languages.all:
        path = po_path(ws, DOMAIN, lang)
        old = read_catalog(path, locale=lang, prose=False) if path.exists() else None
        cat = update_catalog(template, old, lang=lang, domain=DOMAIN, source_lang="en",
                             contact=ws.config.organization.email, prose=False)
        done = sum(1 for m in cat if m.id and m.string and not m.fuzzy)
        out.append(UpdateResult(path, lang, write_catalog(path, cat),
                                sum(1 for m in cat if m.id), done, len(cat.obsolete)))
    return out


def load_ui(ws: Workspace, lang: str) -> Translations:
    """The UI translations of ``lang``; incomplete or missing catalogs are an error.

    Babel's ``Translations.load`` quietly returns ``NullTranslations`` when nothing is
    found, which would send a Farsi reader English buttons. We read the PO ourselves
    and insist that every string of messages.pot has a reviewed translation.
    """
    path = po_path(ws, DOMAIN, lang)
    if not path.exists():
        raise LanguageError(
            f"no UI strings for language {lang!r}: {ws.relative(path)} is missing "
            "(run 'newsletter extract --ui' and translate it)"
        )
    cat = read_catalog(path, locale=lang, prose=False)
    template = read_catalog(pot_path(ws, DOMAIN), prose=False)
    have = {(m.context, m.id): m for m in cat if m.id}
    gaps = []
    for tmsg in template:
        if not tmsg.id:
            continue
        msg = have.get((tmsg.context, tmsg.id))
        strings = msg.string if msg and isinstance(msg.string, tuple | list) else (
            [msg.string] if msg else [""])
        if msg is None or msg.fuzzy or not all(strings):
            gaps.append(tmsg.id if isinstance(tmsg.id, str) else tmsg.id[0])
    if gaps:
        shown = ", ".join(repr(g) for g in gaps[:3]) + (" ..." if len(gaps) > 3 else "")
        raise LanguageError(f"{len(gaps)} UI strings not reviewed for {lang!r}: {shown}",
                            path=path)
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)
