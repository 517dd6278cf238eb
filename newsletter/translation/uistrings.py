"""UI strings of the templates: extraction into messages.pot and strict loading per language."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.support import Translations
from markupsafe import Markup, escape

from newsletter.errors import CatalogError, LanguageError
from newsletter.translation.about import CONTEXT as ABOUT_CONTEXT
from newsletter.translation.about import extract_about, reviewed_about
from newsletter.translation.catalog import (
    UpdateResult,
    new_catalog,
    po_path,
    pot_path,
    read_catalog,
    update_catalog,
    write_catalog,
)
from newsletter.workspace.config import Workspace

DOMAIN = "messages"
WEB_DOMAIN = "web"  # the web app's pages (webstrings.py), from templates/web
WEB_FOLDER = "web"
ADMIN_DOMAIN = "admin"  # the admin pages (adminstrings.py), from templates/admin
ADMIN_FOLDER = "admin"
# catalogs of English UI strings, not of releases
UI_DOMAINS = (DOMAIN, WEB_DOMAIN, ADMIN_DOMAIN)
# Jinja2 ships a Babel extractor; new-style gettext lets templates write _("x %(n)s", n=1).
_JINJA = "jinja2.ext:babel_extract"
_METHOD_MAP = [(f"{WEB_FOLDER}/**", "ignore"), (f"{ADMIN_FOLDER}/**", "ignore"),
               ("**.j2", _JINJA)]
_OPTIONS = {"**.j2": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                      "trimmed": "true"}}
# One %-directive as Python's % operator reads it. The renderer applies % to every UI
# string (newstyle gettext), so a "%" that does not start one of these breaks rendering.
_DIRECTIVE = re.compile(r"%(?:\((?P<name>[^()]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                        r"[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])")
_TAG = re.compile(r"<[^<>]*>")
def template_strings(ws: Workspace, domain: str, folder: Path,
                     method_map: list[tuple[str, str]] | None = None) -> Catalog:
    """Every translatable string of the templates under ``folder``, in a fresh catalog."""
    cat = new_catalog(locale=None, domain=domain, source_lang="en",
                      contact=ws.config.organization.email)
    where = ws.relative(folder)
    for filename, lineno, message, comments, context in extract_from_dir(
        folder, method_map=method_map or [("**.j2", _JINJA)], options_map=_OPTIONS,
        comment_tags=("Translators:",), strip_comment_tags=True,
    ):
        # Every UI string goes through %; with the flag, msgfmt -c, Poedit and Weblate
        # check a translation's placeholders. (Babel drops it again from ids without any.)
        cat.add(message, locations=[(f"{where}/{filename}", lineno)],
                auto_comments=comments, context=context, flags={"python-format"})
    return cat


def ui_template(ws: Workspace) -> Catalog:
    """Every translatable string of the mail and archive templates."""
    return template_strings(ws, DOMAIN, ws.templates_dir, _METHOD_MAP)


def write_domain(ws: Workspace, domain: str, template: Catalog) -> list[UpdateResult]:
    """Write locales/<domain>.pot and update locales/<lang>/LC_MESSAGES/<domain>.po."""
    out = [UpdateResult(pot_path(ws, domain), None, write_catalog(pot_path(ws, domain), template),
                        sum(1 for m in template if m.id), 0, 0)]
    for lang in ws.config.languages.all:
        path = po_path(ws, domain, lang)
        old = read_catalog(path, locale=lang, prose=False) if path.exists() else None
        cat = update_catalog(template, old, lang=lang, domain=domain, source_lang="en",
                             contact=ws.config.organization.email, prose=False)
        done = sum(1 for m in cat if m.id and m.string and not m.fuzzy)
        out.append(UpdateResult(path, lang, write_catalog(path, cat),
                                sum(1 for m in cat if m.id), done, len(cat.obsolete)))
    return out


def extract_ui(ws: Workspace) -> list[UpdateResult]:
    """Write locales/messages.pot and update locales/<lang>/LC_MESSAGES/messages.po, and
    the catalogs of the About-us text of newsletter.toml (domain 'about')."""
    return write_domain(ws, DOMAIN, ui_template(ws)) + extract_about(ws)


def load_ui(ws: Workspace, lang: str) -> Translations:
    """The UI translations of ``lang``; incomplete or missing catalogs are an error.

    Babel's ``Translations.load`` quietly returns ``NullTranslations`` when nothing is
    found, which would send a Farsi reader English buttons. We read the PO ourselves
    and insist that every string of messages.pot has a reviewed translation, and so
    has the "About us" text as newsletter.toml has it now (domain 'about': edited
    there, it needs 'extract --ui' and its translations again before any mail goes out).
    """
    cat = reviewed_catalog(ws, DOMAIN, lang)
    for msg in reviewed_about(ws, lang):
        cat[msg.id] = Message(msg.id, msg.string, context=msg.context)
    return _translations(cat, DOMAIN)


def reviewed_translations(ws: Workspace, domain: str, lang: str) -> Translations:
    """The translations of ``domain`` in ``lang`` (see ``reviewed_catalog``)."""
    return _translations(reviewed_catalog(ws, domain, lang), domain)


def reviewed_catalog(ws: Workspace, domain: str, lang: str) -> Catalog:
    """The catalog of ``domain`` in ``lang`` when every string of its template has a
    reviewed translation with the right placeholders; else a LanguageError (missing
    or incomplete) or a CatalogError (broken placeholders)."""
    path = po_path(ws, domain, lang)
    if not path.exists():
        raise LanguageError(
            f"no UI strings for language {lang!r}: {ws.relative(path)} is missing "
            "(run 'newsletter extract --ui' and translate it)"
        )
    cat = read_catalog(path, locale=lang, prose=False)
    template = read_catalog(pot_path(ws, domain), prose=False)
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
    for msg in cat:
        # the About-us text is prose, no format (older workspaces keep it in messages.po)
        if msg.id and not msg.fuzzy and msg.context != ABOUT_CONTEXT:
            _check_placeholders(msg, path)
    return cat


def _translations(cat: Catalog, domain: str) -> Translations:
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=domain)


def format_directives(text: str) -> set[str]:
    """The placeholders of a UI string ("%(name)s"); ``ValueError`` for a malformed one."""
    found = set()
    pos = text.find("%")
    while pos != -1:
        match = _DIRECTIVE.match(text, pos)
        if match is None or (match.group("conv") == "%" and match.group(0) != "%%"):
            raise ValueError(f"malformed placeholder {text[pos:pos + 12]!r} (write %% for %)")
        if match.group(0) != "%%":
            found.add(match.group(0))
        pos = text.find("%", match.end())
    return found


def _check_placeholders(msg: Message, path: Path) -> None:
    """Refuse a translation whose placeholders differ from its source's.

    At render time a renamed placeholder is a KeyError and a stray "%" a ValueError,
    deep in a Jinja traceback; here it is one line naming the PO entry.
    """
    ids = list(msg.id) if isinstance(msg.id, tuple | list) else [msg.id]
    strings = list(msg.string) if isinstance(msg.string, tuple | list) else [msg.string]
    shown = repr(ids[0])
    try:
        source = [format_directives(i) for i in ids]
    except ValueError as err:
        raise CatalogError(f"source {shown}: {err}", path=path, line=msg.lineno) from err
    allowed = set().union(*source)
    for string in strings:
        if not string:
            continue
        try:
            have = format_directives(string)
        except ValueError as err:
            raise CatalogError(f"translation of {shown}: {err}", path=path,
                               line=msg.lineno) from err
        # a plural form may leave out the number ("one file"); a singular keeps them all
        missing = set() if len(ids) > 1 else allowed - have
        extra = have - allowed
        if missing or extra:
            problems = [f"missing {' '.join(sorted(missing))}" if missing else "",
                        f"unexpected {' '.join(sorted(extra))}" if extra else ""]
            raise CatalogError(
                f"translation of {shown} has other placeholders than the source: "
                + "; ".join(p for p in problems if p), path=path, line=msg.lineno)


def ui_text(source: str | tuple[str, ...], translation: str, variables: Mapping[str, Any],
            *, html: bool) -> str:
    """A translated UI string with its placeholders filled in: text, escaped for HTML.

    Jinja's own newstyle gettext marks every translation safe in an autoescaping
    template, so a reviewer's "<script>" in a UI catalog would reach every reader
    and the web archive. Here the translation is escaped like any other text; only
    tags the template author wrote in the source string itself come back (no msgid
    has any today). Values that already are markup (``html(...)``, ``iso(...)``)
    stay markup, plain ones are escaped by Markup's %. Plain-text templates
    (``{% autoescape false %}``) get the raw text: "&lt;" there would reach readers.
    """
    if not html:
        return translation % variables
    text = str(escape(translation))
    sources = (source,) if isinstance(source, str) else source
    for tag in {tag for s in sources for tag in _TAG.findall(s)}:
        text = text.replace(str(escape(tag)), tag)
    return Markup(text) % variables  # noqa: S704 - escaped above; only the source's tags


def install_ui(env: jinja2.Environment, translations: Translations) -> None:
    """Give ``env`` the UI strings of one language, as text (see ``ui_text``).

    Used instead of ``install_gettext_translations``: same newstyle semantics
    (placeholders as keyword arguments, always formatted), without trusting the
    translation as markup.
    """

    @jinja2.pass_context
    def gettext(ctx: jinja2.runtime.Context, msgid: str, /, **variables: Any) -> str:
        return ui_text(msgid, translations.gettext(msgid), variables,
                       html=ctx.eval_ctx.autoescape)

    @jinja2.pass_context
    def ngettext(ctx: jinja2.runtime.Context, singular: str, plural: str, num: int, /,
                 **variables: Any) -> str:
        variables.setdefault("num", num)
        return ui_text((singular, plural), translations.ngettext(singular, plural, num),
                       variables, html=ctx.eval_ctx.autoescape)

    @jinja2.pass_context
    def pgettext(ctx: jinja2.runtime.Context, context: str, msgid: str, /,
                 **variables: Any) -> str:
        variables.setdefault("context", context)
        return ui_text(msgid, translations.pgettext(context, msgid), variables,
                       html=ctx.eval_ctx.autoescape)

    @jinja2.pass_context
    def npgettext(ctx: jinja2.runtime.Context, context: str, singular: str, plural: str,
                  num: int, /, **variables: Any) -> str:
        variables.setdefault("context", context)
        variables.setdefault("num", num)
        return ui_text((singular, plural),
                       translations.npgettext(context, singular, plural, num), variables,
                       html=ctx.eval_ctx.autoescape)

    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    # {% trans %} blocks then pass their variables as keywords, as our callables expect
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(gettext=gettext, ngettext=ngettext, pgettext=pgettext,
                       npgettext=npgettext)
