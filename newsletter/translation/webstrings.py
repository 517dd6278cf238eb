"""The web app's strings: domain 'web', extracted from templates/web (the workspace's
own, else the package's), loaded per page language along the language's fallback chain.

Mails refuse an incomplete UI catalog (load_ui); a public page cannot refuse a reader,
so it follows the chain instead. It does so for the whole page, not string by string:
the page's lang and dir then describe every word on it (a Farsi page with German
buttons would be laid out right-to-left and read out with the wrong voice). When no
language of the chain is complete, the page is in the English of the source strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.messages.catalog import Catalog
from babel.support import NullTranslations

from newsletter.errors import LanguageError
from newsletter.translation.catalog import UpdateResult
from newsletter.translation.uicatalogs import write_domain
from newsletter.translation.uistrings import (
    WEB_DOMAIN,
    reviewed_translations,
    template_strings,
)
from newsletter.workspace.config import Workspace

DOMAIN = WEB_DOMAIN
SOURCE = "en"  # the language of the msgids


@dataclass(frozen=True)
class WebStrings:
    requested: str  # the reader's language
    language: str  # the language the strings are in: requested, or a fallback
    translations: NullTranslations
    passed_over: tuple[str, ...] = ()  # "fa: 3 UI strings not reviewed ...", for logs


def web_template(ws: Workspace) -> Catalog:
    return template_strings(ws, DOMAIN)


def extract_web(ws: Workspace) -> list[UpdateResult]:
    """Bring the web catalogs up to the templates (the workspace's own where it needs them)."""
    return write_domain(ws, DOMAIN, web_template(ws))


def load_web(ws: Workspace, lang: str) -> WebStrings:
    """The strings for a reader of ``lang``: the first complete, reviewed catalog of the
    chain (the language, its fallbacks, the source), else the source strings."""
    passed = []
    for code in ws.config.languages.chain(lang):
        try:
            return WebStrings(lang, code, reviewed_translations(ws, DOMAIN, code),
                              tuple(passed))
        except LanguageError as err:
            passed.append(f"{code}: {err}")
    return WebStrings(lang, SOURCE, NullTranslations(), tuple(passed))
