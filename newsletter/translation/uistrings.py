"""UI strings of the templates: extraction into messages.pot and strict loading per language."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, check_and_call_extract_file
from babel.messages.mofile import write_mo
from babel.support import Translations
from markupsafe import Markup, escape

from newsletter.errors import CatalogError, LanguageError
from newsletter.translation.about import CONTEXT as ABOUT_CONTEXT
from newsletter.translation.about import extract_about, reviewed_about
from newsletter.translation.catalog import UpdateResult, new_catalog, read_catalog
from newsletter.translation.uicatalogs import (
    ui_po_path,
    ui_pot_path,
    write_domain,
    write_package_domain,
)
from newsletter.workspace.config import Workspace
from newsletter.workspace.defaults import package_locales, package_templates, source_checkout

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


def _walk_key(rel: str) -> tuple[tuple[int, str], ...]:
    """Sorts relative paths as one os.walk of a folder yields them: a folder's files
    (by name) before its subfolders (by name)."""
    *folders, name = rel.split("/")
    return (*((1, f) for f in folders), (0, name))


def extract_templates(dirs: Sequence[Path], sub: str, domain: str, contact: str,
                      method_map: list[tuple[str, str]] | None = None) -> Catalog:
    """Every translatable string of the templates under ``<dir>/<sub>`` for the first of
    ``dirs`` that has each file (a workspace's own before the package's), in a fresh
    catalog; locations read templates/<sub>/<file> whichever folder it came from."""
    cat = new_catalog(locale=None, domain=domain, source_lang="en", contact=contact)
    files: dict[str, Path] = {}
    for base in dirs:
        folder = base / sub if sub else base
        for path in folder.rglob("*") if folder.is_dir() else ():
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and not any(part.startswith(".") for part in rel.split("/")):
                files.setdefault(rel, folder)
    where = f"templates/{sub}" if sub else "templates"
    for rel in sorted(files, key=_walk_key):
        for filename, lineno, message, comments, context in check_and_call_extract_file(
            (files[rel] / rel).as_posix(), method_map or [("**.j2", _JINJA)], _OPTIONS,
            None, DEFAULT_KEYWORDS, ("Translators:",), True, dirpath=files[rel],
        ):
            # Every UI string goes through %; with the flag, msgfmt -c, Poedit and Weblate
            # check a translation's placeholders. (Babel drops it again from ids without any.)
            cat.add(message, locations=[(f"{where}/{filename}", lineno)],
                    auto_comments=comments, context=context, flags={"python-format"})
    for msg in cat:
        msg.locations.sort()  # as write_po orders them: an unchanged file compares equal
    return cat


# each UI domain: the folder below templates/ its strings come from, and Babel's method map
_SOURCES: dict[str, tuple[str, list[tuple[str, str]] | None]] = {
    DOMAIN: ("", _METHOD_MAP), WEB_DOMAIN: (WEB_FOLDER, None), ADMIN_DOMAIN: (ADMIN_FOLDER, None)}


def template_strings(ws: Workspace, domain: str) -> Catalog:
    """The strings of a UI domain in the workspace's templates (its own, then the package's)."""
    sub, method_map = _SOURCES[domain]
    return extract_templates(ws.template_dirs, sub, domain, ws.config.organization.email,
                             method_map)


def ui_template(ws: Workspace) -> Catalog:
    """Every translatable string of the mail and archive templates."""
    return template_strings(ws, DOMAIN)


def extract_ui(ws: Workspace) -> list[UpdateResult]:
    """Bring the workspace's messages catalogs up to its templates (see uicatalogs: only
    what it needs of its own is written), and the catalogs of the About-us text of
    newsletter.toml (domain 'about')."""
    return write_domain(ws, DOMAIN, ui_template(ws)) + extract_about(ws)


def extract_package_ui() -> list[UpdateResult]:
    """Rewrite the UI catalogs the package ships from its own templates, every domain and
    every language it has; only in a source checkout (a developer's), never installed."""
    if source_checkout() is None:
        raise CatalogError("the package's catalogs are rewritten only in a source checkout; "
                           f"this one is installed at {package_locales().parent.parent}")
    out: list[UpdateResult] = []
    for domain, (sub, method_map) in _SOURCES.items():
        template = extract_templates((package_templates(),), sub, domain, "", method_map)
        out += write_package_domain(domain, template)
    return out


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
    path = ui_po_path(ws, domain, lang)  # the workspace's own, else the package's
    if not path.exists():
        raise LanguageError(
            f"no UI strings for language {lang!r}: {ws.relative(path)} is missing "
            "(run 'newsletter extract --ui' and translate it)"
        )
    cat = read_catalog(path, locale=lang, prose=False)
    template = read_catalog(ui_pot_path(ws, domain), prose=False)
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
        # the workspace's own copy may predate the package's or its templates' strings
        hint = (" (after changing templates or updating the package, 'newsletter extract "
                 "--ui' brings this copy up to date)" if path.is_relative_to(ws.root) else "")
        raise LanguageError(f"{len(gaps)} UI strings not reviewed for {lang!r}: {shown}{hint}",
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
