"""The web pages' renderer and languages, for the web layer (which sees the
application layer only)."""

from __future__ import annotations

from newsletter.render.webpages import Alternate, MailContent, WebPages
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import normalize_code

__all__ = ["Alternate", "MailContent", "WebPages", "accepted_languages", "choose_language",
           "open_pages"]

MAX_ACCEPTED = 20  # entries of Accept-Language looked at; the rest is noise


def open_pages(ws: Workspace) -> WebPages:
    return WebPages(ws)


def choose_language(ws: Workspace, *wanted: str, accept: str = "") -> str:
    """The first offered language among ``wanted`` (a ?lang= choice, the reader's known
    language), else the browser's best offered one, else the source language."""
    offered = ws.config.languages.all
    for code in (*wanted, *accepted_languages(accept)):
        found = _offered(code, offered)
        if found:
            return found
    return ws.config.languages.source


def _offered(code: str, offered: tuple[str, ...]) -> str:
    norm = normalize_code(code or "")
    for candidate in (norm, norm.split("_")[0].lower()):  # de_AT reads de
        if candidate in offered:
            return candidate
    return ""


def accepted_languages(header: str) -> list[str]:
    """Accept-Language's tags, best first; q=0 means "not this one"."""
    weighted = []
    for n, part in enumerate(header.split(",")[:MAX_ACCEPTED]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, n, tag))
    return [tag for _, _, tag in sorted(weighted)]
