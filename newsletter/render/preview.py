"""Preview: every edition of a release written to build/preview/<id>/<lang>.html|.txt,
or rendered in memory for the admin pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from newsletter.content.release import Release
from newsletter.errors import LanguageError
from newsletter.render.calendar import event_ics
from newsletter.render.renderer import Renderer, personalize, relative_asset_url
from newsletter.translation.editions import Edition, build_edition
from newsletter.workspace.config import Workspace
from newsletter.workspace.files import atomic_write


@dataclass(frozen=True)
class PreviewFile:
    edition: Edition
    html_path: Path
    text_path: Path


def write_previews(release: Release, ws: Workspace, langs: tuple[str, ...], out_root: Path
                   ) -> list[PreviewFile]:
    """Render one HTML and one text file per reader language into ``out_root/<id>/``."""
    out_dir = out_root / release.id
    renderer = Renderer(ws, relative_asset_url(out_dir))
    known = ws.config.languages.all
    for lang in langs:  # every reader language needs complete UI strings, fallback or not
        if lang not in known:
            raise LanguageError(f"{lang!r} is not a language of this workspace "
                                f"({', '.join(known)})")
        renderer.env(lang)
    results = []
    for lang in langs:
        edition = build_edition(release, ws, lang)
        calendar = ""
        if release.event:  # the .ics file beside the page, as the archive has it
            calendar = f"{lang}.ics"
            atomic_write(out_dir / calendar, event_ics(
                edition.release, domain=ws.config.sender.from_address.rpartition("@")[2],
                lang=edition.language.html_lang, stamp=dt.datetime.now(dt.UTC),
                url=ws.config.web.view_online(release.id, edition.language.code)))
        html_path = out_dir / f"{lang}.html"
        text_path = out_dir / f"{lang}.txt"
        shown = render_edition(renderer, edition, view_online_url=html_path.name,
                               original_url=f"{ws.config.languages.source}.html",
                               calendar_url=calendar)
        atomic_write(html_path, shown.html.encode())
        atomic_write(text_path, shown.text.encode())
        results.append(PreviewFile(edition, html_path, text_path))
    return results


@dataclass(frozen=True)
class Preview:
    """One edition as a reader of its language gets it, without a recipient."""

    edition: Edition
    html: str
    text: str


def render_preview(renderer: Renderer, release: Release, ws: Workspace, lang: str, *,
                   view_online_url: str, original_url: str = "") -> Preview:
    """The edition a reader of ``lang`` gets, rendered. Previews have no recipient: no
    name in the greeting, and the unsubscribe link points at a harmless anchor."""
    return render_edition(renderer, build_edition(release, ws, lang),
                          view_online_url=view_online_url, original_url=original_url)


def render_edition(renderer: Renderer, edition: Edition, *, view_online_url: str,
                   original_url: str = "", calendar_url: str = "") -> Preview:
    """One edition rendered as a preview (no recipient), whichever way it was chosen;
    the reason line is the mailing's usual one (press list, subscribers)."""
    rendered = renderer.render(edition, original_url=original_url, calendar_url=calendar_url)
    values = {"view_online_url": view_online_url, "unsubscribe_url": "#unsubscribe"}
    html = personalize(rendered.html, {**values, "greeting": rendered.greetings.html(""),
                                       "why": rendered.whys.html()}, html=True)
    text = personalize(rendered.text, {**values, "greeting": rendered.greetings.text(""),
                                       "why": rendered.whys.text()}, html=False)
    return Preview(edition, html, text)
