"""The admin pages, rendered in the interface language the officer or reviewer chose.

Templates live in templates/admin/ (gettext domain 'admin'), the workspace's own before
the package's; like every template of the project: autoescape, StrictUndefined,
translations as text, never as markup.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial
from typing import Any

import jinja2
from babel.numbers import format_decimal
from babel.support import NullTranslations
from markupsafe import Markup

from newsletter.errors import LanguageError, RenderError
from newsletter.translation.adminstrings import SOURCE, load_admin
from newsletter.translation.uistrings import ADMIN_FOLDER, install_ui
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language, language

STYLESHEET = "admin.css"


class AdminPages:
    """Renders the admin pages of one workspace; safe to share between request threads."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.folder = ws.templates_dir / ADMIN_FOLDER  # the workspace's own, named in errors
        self._translations: dict[str, NullTranslations | None] = {}
        self._envs: dict[str, jinja2.Environment] = {}
        self._lock = threading.RLock()

    def _strings(self, lang: str) -> NullTranslations | None:
        with self._lock:
            if lang not in self._translations:
                self._translations[lang] = load_admin(self.ws, lang)
            return self._translations[lang]

    def languages(self) -> tuple[Language, ...]:
        """The interface languages on offer: English, and every language of the
        workspace whose admin catalog is complete (the source language first)."""
        codes = [c for c in self.ws.config.languages.all if self._strings(c) is not None]
        if SOURCE not in codes:
            codes.append(SOURCE)
        return tuple(language(c) for c in codes)

    def shown_in(self, wanted: str) -> Language:
        """The language a page for someone wanting ``wanted`` is in."""
        offered = {lg.code: lg for lg in self.languages()}
        return offered.get(wanted) or language(SOURCE)

    def env(self, lang: str) -> jinja2.Environment:
        with self._lock:
            if lang not in self._envs:
                env = jinja2.Environment(
                    loader=jinja2.FileSystemLoader([d / ADMIN_FOLDER
                                                    for d in self.ws.template_dirs]),
                    autoescape=True, undefined=jinja2.StrictUndefined,
                    extensions=["jinja2.ext.i18n"],
                    trim_blocks=True, lstrip_blocks=True)
                install_ui(env, self._strings(lang) or NullTranslations())
                env.globals["native"] = native
                env.globals["native_of"] = native_of
                env.globals["decimal"] = partial(format_decimal, format="0.0", locale=lang)
                self._envs[lang] = env
            return self._envs[lang]

    def render(self, template: str, lang: str, values: Mapping[str, Any]) -> str:
        """A page in the interface language ``lang`` (one of ``languages()``)."""
        shown = self.shown_in(lang)
        ctx = {"org": self.ws.config.organization, "lang": shown, "dir": shown.direction,
               "ui_languages": self.languages(), **values}
        try:
            return self.env(shown.code).get_template(template).render(ctx)
        except jinja2.TemplateNotFound as err:
            raise RenderError(f"template not found: {err.name}", path=self.folder) from err
        except jinja2.TemplateSyntaxError as err:
            raise RenderError(f"template error: {err.message}", path=err.filename,
                              line=err.lineno) from err
        except jinja2.UndefinedError as err:
            raise RenderError(f"{template} uses an undefined value: {err.message}",
                              path=self.folder) from err

    def static(self, name: str) -> bytes:
        """A file of templates/admin/ served as it is (the stylesheet, the scripts)."""
        path = self.ws.template_file(f"{ADMIN_FOLDER}/{name}")
        try:
            return path.read_bytes()
        except FileNotFoundError as err:
            raise RenderError(f"{name} not found", path=path) from err


def native(lang: Language) -> Markup:
    """A language's own name, isolated inside a sentence of another direction."""
    return Markup('<bdi lang="%s" dir="%s">%s</bdi>') % (
        lang.html_lang, lang.direction, lang.native_name)


def native_of(code: str) -> Markup:
    """``native`` of a language code, as reasons carry them; a code that is no language
    (a recipient's "xx") stays as it is."""
    try:
        return native(language(code))
    except LanguageError:
        return Markup("<bdi>%s</bdi>") % code
