"""The web app's pages and its confirmation mail, rendered in the reader's language.

Templates live in templates/web/ (gettext domain 'web'), the workspace's own before the
package's; one Jinja environment per language the pages are actually shown in. Like
the mails: autoescape for every template, StrictUndefined, and translations treated
as text, never as markup.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from babel.support import NullTranslations
from markupsafe import Markup

from newsletter.errors import RenderError
from newsletter.render.renderer import wrap
from newsletter.translation.uistrings import WEB_FOLDER, install_ui
from newsletter.translation.webstrings import SOURCE, WebStrings, load_web
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language, language

STYLESHEET = "web.css"
CONSENT_TEMPLATE = "_consent.html.j2"
MAIL_TEXT = "confirmation.txt.j2"
MAIL_HTML = "confirmation.html.j2"


@dataclass(frozen=True)
class Alternate:
    """One entry of the language switcher."""

    code: str
    hreflang: str
    name: str  # the language's own name
    dir: str
    href: str
    current: bool


@dataclass(frozen=True)
class MailContent:
    """The confirmation mail in one language: nothing but the links and the Impressum."""

    language: str
    subject: str
    text: str
    html: str


class WebPages:
    """Renders the pages of one workspace; safe to share between request threads."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.base_path = urlsplit(ws.config.web.public_url).path or "/"
        self._strings: dict[str, WebStrings] = {}
        self._envs: dict[str | None, jinja2.Environment] = {}
        self._lock = threading.RLock()  # pages render in Starlette's thread pool

    # --- languages --------------------------------------------------------------------

    @property
    def languages(self) -> tuple[Language, ...]:
        """Every language a reader may choose: the workspace's, source first."""
        return tuple(language(code) for code in self.ws.config.languages.all)

    def strings(self, lang: str) -> WebStrings:
        with self._lock:
            if lang not in self._strings:
                self._strings[lang] = load_web(self.ws, lang)
            return self._strings[lang]

    def shown_in(self, lang: str) -> Language:
        """The language a page for a reader of ``lang`` is shown in (its catalog may
        be incomplete: then the next complete language of its chain)."""
        return language(self.strings(lang).language)

    # --- rendering ----------------------------------------------------------------------

    def env(self, strings: WebStrings | None) -> jinja2.Environment:
        """The environment for pages in the language ``strings`` are in; None: the
        source strings themselves (the consent version)."""
        lang = None if strings is None else strings.language
        with self._lock:
            if lang not in self._envs:
                env = jinja2.Environment(
                    loader=jinja2.FileSystemLoader([d / WEB_FOLDER
                                                    for d in self.ws.template_dirs]),
                    autoescape=True, undefined=jinja2.StrictUndefined,
                    extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
                    keep_trailing_newline=True)
                translations = (NullTranslations() if strings is None
                                else strings.translations)
                install_ui(env, translations)  # text, never markup (see ui_text)
                env.filters["wrap"] = wrap
                self._envs[lang] = env
            return self._envs[lang]

    def url(self, route: str, **query: str) -> str:
        """A link to a page of the app, as a path (pages link to their own host)."""
        params = {k: v for k, v in query.items() if v}
        return f"{self.base_path}{route}" + (f"?{urlencode(params)}" if params else "")

    def absolute(self, route: str, **query: str) -> str:
        """A link to a page of the app for a mail: the public URL."""
        params = {k: v for k, v in query.items() if v}
        return self.ws.config.web.page(route) + (f"?{urlencode(params)}" if params else "")

    def context(self, shown: Language) -> dict[str, Any]:
        """What every page and mail sees."""
        cfg = self.ws.config
        return {
            "org": cfg.organization,
            "source_url": cfg.web.source_url,
            "lang": shown,
            "dir": shown.direction,
            "languages": self.languages,
            "topics": [(tag, labels.get(shown.code) or labels.get(cfg.languages.source)
                        or tag) for tag, labels in cfg.web.topics.items()],
            "url": self.url,
            "stylesheet": self.url("style.css"),
        }

    def render(self, template: str, lang: str, link: Callable[[str], str],
               values: Mapping[str, Any]) -> str:
        """A page for a reader of ``lang``; ``link(code)`` is this page in another
        language (the switcher)."""
        strings = self.strings(lang)
        shown = language(strings.language)
        ctx = self.context(shown)
        ctx["alternates"] = [Alternate(lg.code, lg.html_lang, lg.native_name, lg.direction,
                                       link(lg.code), lg.code == shown.code)
                             for lg in self.languages]
        ctx.update(values)
        return self._render(self.env(strings), template, ctx)

    def _render(self, env: jinja2.Environment, template: str, ctx: dict[str, Any]) -> str:
        try:
            return env.get_template(template).render(ctx)
        except jinja2.TemplateNotFound as err:
            raise RenderError(f"template not found: {err.name}",
                              path=self.ws.templates_dir / WEB_FOLDER) from err
        except jinja2.TemplateSyntaxError as err:
            raise RenderError(f"template error: {err.message}", path=err.filename,
                              line=err.lineno) from err
        except jinja2.UndefinedError as err:
            raise RenderError(f"{template} uses an undefined value: {err.message}",
                              path=self.ws.templates_dir / WEB_FOLDER) from err

    def stylesheet(self) -> bytes:
        path = self.ws.template_file(f"{WEB_FOLDER}/{STYLESHEET}")
        try:
            return path.read_bytes()
        except FileNotFoundError as err:
            raise RenderError("stylesheet not found", path=path) from err

    # --- consent and the confirmation mail -------------------------------------------

    def consent_text(self, lang: str) -> tuple[str, str]:
        """The consent sentence exactly as the form shows it to a reader of ``lang``, as
        plain text, and the language it is in."""
        strings = self.strings(lang)
        ctx = self.context(language(strings.language))
        return _plain(self._render(self.env(strings), CONSENT_TEMPLATE, ctx)), strings.language

    def consent_version(self) -> str:
        """Names the wording of the consent (its source text): a changed text is a new
        version, recorded with every sign-up."""
        html = self._render(self.env(None), CONSENT_TEMPLATE,
                            self.context(language(SOURCE)))
        return hashlib.sha256(_plain(html).encode()).hexdigest()[:12]

    def confirmation_mail(self, lang: str, confirm_url: str, cancel_url: str) -> MailContent:
        strings = self.strings(lang)
        shown = language(strings.language)
        ctx = self.context(shown)
        ctx.update(confirm_url=confirm_url, cancel_url=cancel_url)
        env = self.env(strings)
        try:
            text_module = env.get_template(MAIL_TEXT).make_module(ctx)
        except jinja2.TemplateError as err:
            raise RenderError(f"{MAIL_TEXT}: {err}",
                              path=self.ws.templates_dir / WEB_FOLDER) from err
        subject = " ".join(str(getattr(text_module, "subject", "")).split())
        if not subject:
            raise RenderError(f"{MAIL_TEXT} must set a subject",
                              path=self.ws.templates_dir / WEB_FOLDER)
        text = str(text_module).strip() + "\n"
        html = self._render(env, MAIL_HTML, {**ctx, "subject": subject})
        return MailContent(shown.code, subject, text, html)


def _plain(html: str) -> str:
    """Markup as the text a reader sees (entities decoded, tags gone, spaces joined)."""
    return " ".join(Markup(html).striptags().split())  # noqa: S704 - read, not rendered
