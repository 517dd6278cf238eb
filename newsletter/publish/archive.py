"""The web archive: a static site with every release in every language, indexes and feeds.

Pages live where the emails' "read online" links point: ``<id>/<lang>.html`` below
``[web] archive_url``. Images are copied beside them at their workspace paths, which
is where the emails' image URLs point too. A release under embargo is left out
until its time.
"""

from __future__ import annotations

import datetime as dt
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter import __version__
from newsletter.content.parser import load_release
from newsletter.content.release import Figure, Release
from newsletter.content.segments import to_html
from newsletter.errors import RenderError
from newsletter.render.bidi import text_filter
from newsletter.render.calendar import event_ics
from newsletter.render.renderer import Renderer
from newsletter.translation.editions import Edition, build_edition
from newsletter.workspace.config import Workspace
from newsletter.workspace.files import atomic_write
from newsletter.workspace.languages import Language, language

ATOM = "http://www.w3.org/2005/Atom"
STYLESHEET = "archive.css"


@dataclass(frozen=True)
class ArchiveResult:
    root: Path
    pages: tuple[Path, ...]
    feeds: tuple[Path, ...]
    embargoed: tuple[str, ...]  # release ids left out for now
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Alternate:
    code: str
    hreflang: str
    name: str
    dir: str
    href: str  # relative, for the switcher
    absolute: str  # for <link rel=alternate hreflang>


def build_archive(ws: Workspace, out: Path, now: dt.datetime | None = None) -> ArchiveResult:
    """Build the site in a fresh folder and swap it in: no half-written site is ever
    online, and pages of releases that were removed (or went back under embargo) go."""
    fresh = out.with_name(f".{out.name}.new")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        result = _build(ws, fresh, now)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)  # a failed run leaves no half-built site
        raise
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    fresh.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    moved = tuple(out / p.relative_to(fresh) for p in result.pages)
    feeds = tuple(out / p.relative_to(fresh) for p in result.feeds)
    return ArchiveResult(out, moved, feeds, result.embargoed)


def _build(ws: Workspace, out: Path, now: dt.datetime | None) -> ArchiveResult:
    moment = now or dt.datetime.now(dt.UTC)
    releases, embargoed = [], []
    for path in sorted(ws.releases_dir.glob("*.md")):
        rel = load_release(path, ws.root, timezone=ws.config.delivery.timezone)
        if rel.embargo and moment < rel.embargo:
            embargoed.append(rel.id)
        else:
            releases.append(rel)
    releases.sort(key=lambda r: (r.date, r.id), reverse=True)
    out.mkdir(parents=True, exist_ok=True)
    _copy_stylesheet(ws, out)
    langs = ws.config.languages.all
    pages: list[Path] = []
    # editions[release id][reader language] -> the edition that reader gets
    editions: dict[str, dict[str, Edition]] = {}
    for rel in releases:
        by_reader = {code: build_edition(rel, ws, code) for code in langs}
        editions[rel.id] = by_reader
        pages += _release_pages(ws, rel, by_reader, out)
        _copy_images(ws, rel, out)
    feeds = []
    for code in langs:
        pages.append(_index(ws, code, releases, editions, out))
        feeds.append(_feed(ws, code, releases, editions, out))
    pages.append(_root_index(ws, out))
    return ArchiveResult(out, tuple(pages), tuple(feeds), tuple(embargoed))


def _copy_stylesheet(ws: Workspace, out: Path) -> None:
    sheet = ws.template_file(STYLESHEET)
    try:
        shutil.copyfile(sheet, out / STYLESHEET)
    except FileNotFoundError as err:
        raise RenderError("stylesheet not found", path=sheet) from err


def _page_languages(by_reader: dict[str, Edition]) -> list[Language]:
    """Each language that has its own page: the languages editions are actually in."""
    seen: dict[str, Language] = {}
    for ed in by_reader.values():
        seen.setdefault(ed.language.code, ed.language)
    return list(seen.values())


def _release_pages(ws: Workspace, rel: Release, by_reader: dict[str, Edition], out: Path
                   ) -> list[Path]:
    folder = out / rel.id
    renderer = Renderer(ws, lambda p: "../" + ws.relative(p))
    page_langs = _page_languages(by_reader)
    alternates = [Alternate(code=lg.code, hreflang=lg.html_lang, name=lg.native_name,
                            dir=lg.direction, href=f"{lg.code}.html",
                            absolute=ws.config.web.view_online(rel.id, lg.code))
                  for lg in page_langs]
    source = ws.config.languages.source
    written = []
    for lg in page_langs:
        edition = next(e for e in by_reader.values() if e.language.code == lg.code)
        calendar = ""
        if rel.event:  # the event's .ics file beside the page: the emails link to it
            calendar = f"{lg.code}.ics"
            atomic_write(folder / calendar, event_ics(
                edition.release, domain=ws.config.sender.from_address.rpartition("@")[2],
                lang=lg.html_lang, stamp=dt.datetime.now(dt.UTC),
                url=ws.config.web.view_online(rel.id, lg.code)))
        ctx = renderer.context(edition, original_url=f"{source}.html" if edition.machine else "",
                               calendar_url=calendar)
        ctx.update(root="../", alternates=alternates,
                   x_default=ws.config.web.view_online(rel.id, source))
        html = renderer.render_template("archive/page.html.j2", lg.code, ctx)
        path = folder / f"{lg.code}.html"
        atomic_write(path, html.encode("utf-8"))
        written.append(path)
    return written


def _copy_images(ws: Workspace, rel: Release, out: Path) -> None:
    images = [rel.image.path] if rel.image else []
    if rel.image and rel.image.print_path:
        images.append(rel.image.print_path)
    images += [b.image.path for b in rel.blocks if isinstance(b, Figure)]
    for image in images:
        target = out / ws.relative(image)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target)


@dataclass(frozen=True)
class _Item:
    release: Release
    lang: Language
    href: str
    date_long: str
    fallback: bool
    html: Any


def _items(code: str, releases: list[Release],
           editions: dict[str, dict[str, Edition]]) -> list[_Item]:
    from babel.dates import format_date

    items = []
    for rel in releases:
        ed = editions[rel.id][code]
        lg = ed.language
        flt = text_filter(lg)
        items.append(_Item(
            release=ed.release, lang=lg, href=f"../{rel.id}/{lg.code}.html",
            date_long=format_date(rel.date, format="long", locale=code),
            fallback=lg.code != code,
            html=lambda seg, flt=flt: to_html(seg, flt),
        ))
    return items


def _index(ws: Workspace, code: str, releases: list[Release],
           editions: dict[str, dict[str, Edition]], out: Path) -> Path:
    renderer = Renderer(ws, lambda p: "../" + ws.relative(p))
    lg = language(code)
    alternates = [Alternate(code=c, hreflang=language(c).html_lang,
                            name=language(c).native_name, dir=language(c).direction,
                            href=f"../{c}/index.html",
                            absolute=f"{ws.config.web.archive_url}{c}/index.html")
                  for c in ws.config.languages.all]
    ctx = {
        "org": ws.config.organization, "lang": lg, "dir": lg.direction, "root": "../",
        "alternates": alternates, "items": _items(code, releases, editions),
        # for readers whose language has no page: the source language's
        "x_default": f"{ws.config.web.archive_url}{ws.config.languages.source}/index.html",
        "iso": lambda s: text_filter(lg)(str(s)),
    }
    html = renderer.render_template("archive/index.html.j2", code, ctx)
    path = out / code / "index.html"
    atomic_write(path, html.encode("utf-8"))
    return path


def _root_index(ws: Workspace, out: Path) -> Path:
    """The site's front door: the source language's index, with the other languages."""
    source = ws.config.languages.source
    ctx = {"org": ws.config.organization, "lang": language(source),
           "languages": [language(c) for c in ws.config.languages.all]}
    html = Renderer(ws, lambda p: ws.relative(p)).render_template("archive/root.html.j2",
                                                                  source, ctx)
    path = out / "index.html"
    atomic_write(path, html.encode("utf-8"))
    return path


def _feed(ws: Workspace, code: str, releases: list[Release],
          editions: dict[str, dict[str, Edition]], out: Path) -> Path:
    """An Atom 1.0 feed of the releases as readers of ``code`` get them."""
    from newsletter.translation.uistrings import load_ui, ui_text

    ET.register_namespace("", ATOM)
    web = ws.config.web
    ui = load_ui(ws, code)
    title = "News and press releases"
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang":
                                          language(code).html_lang})
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{web.archive_url}{code}/"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = (
        # formatted like the same string on the index page ("%%" is one "%")
        f"{ws.config.organization.full_name}: {ui_text(title, ui.gettext(title), {}, html=False)}")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{web.archive_url}{code}/feed.xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html",
                  href=f"{web.archive_url}{code}/index.html")
    ET.SubElement(feed, f"{{{ATOM}}}generator", version=__version__).text = "newsletter"
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = ws.config.organization.full_name
    latest = max((_published(r) for r in releases), default=dt.datetime(2000, 1, 1,
                                                                         tzinfo=dt.UTC))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = latest.isoformat()
    for rel in releases:
        ed = editions[rel.id][code]
        url = web.view_online(rel.id, ed.language.code)
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry", {
            "{http://www.w3.org/XML/1998/namespace}lang": ed.language.html_lang})
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        ET.SubElement(entry, f"{{{ATOM}}}title").text = ed.release.title.plain
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=url,
                      hreflang=ed.language.html_lang)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _published(rel).isoformat()
        if ed.release.summary:
            ET.SubElement(entry, f"{{{ATOM}}}summary").text = ed.release.summary.plain
    ET.indent(feed)
    path = out / code / "feed.xml"
    atomic_write(path, b'<?xml version="1.0" encoding="utf-8"?>\n'
                 + ET.tostring(feed, encoding="utf-8") + b"\n")
    return path


def _published(rel: Release) -> dt.datetime:
    """When a release became public: its embargo, else its date at midnight UTC."""
    if rel.embargo:
        return rel.embargo.astimezone(dt.UTC)
    return dt.datetime.combine(rel.date, dt.time(0, 0), tzinfo=dt.UTC)


