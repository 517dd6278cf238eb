"""Rendering an edition to HTML (CSS inlined once) and plain text, with Jinja2 and Babel."""

from __future__ import annotations

import datetime as dt
import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from markupsafe import Markup, escape

from newsletter.content.release import Event, Table
from newsletter.content.segments import Segment, to_html, to_text
from newsletter.errors import RenderError
from newsletter.reasons import PRESS, SUBSCRIBER, Why
from newsletter.render.bidi import (
    FSI,
    LRI,
    PDI,
    balance_isolates,
    ltr_html,
    plain_filter,
    text_filter,
)
from newsletter.render.credits import with_clean_credits
from newsletter.render.css import inline_css
from newsletter.render.tables import text_table
from newsletter.translation.editions import Edition
from newsletter.translation.uistrings import ABOUT_CONTEXT, install_ui, load_ui
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language, language
from newsletter.workspace.loading import BUILTIN_LIST

HTML_TEMPLATE = "newsletter.html.j2"
TEXT_TEMPLATE = "newsletter.txt.j2"
STYLESHEET = "newsletter.css"
TEXT_WIDTH = 72

# Per-recipient values are filled in after rendering and inlining (see personalize):
# plain sentinels, because premailer mangles {{ }} inside attributes.
PLACEHOLDERS = ("greeting", "why", "view_online_url", "unsubscribe_url")
GREETING_TEMPLATE = "greeting.j2"
WHY_TEMPLATE = "why.j2"
MAILING_TEMPLATE = "mailing.j2"
NAME_SENTINEL = "%%name%%"
_PLACEHOLDER = re.compile(r"%%([a-z_]+)%%")

AssetUrl = Callable[[Path], str]


@dataclass(frozen=True)
class EventTimes:
    """When an event is, as the edition's language writes dates and times (Babel)."""

    all_day: bool
    start_date: str  # with the weekday: "Dienstag, 4. September 2018"
    start_time: str = ""
    end_date: str = ""  # only when it ends on another day
    end_time: str = ""


def event_times(event: Event, lang: str) -> EventTimes:
    start, end = event.start, event.end
    if not isinstance(start, dt.datetime):  # whole days
        last = format_date(end, format="full", locale=lang) if end and end != start else ""
        return EventTimes(True, format_date(start, format="full", locale=lang), end_date=last)
    zone = start.tzinfo

    def time(moment: dt.datetime) -> str:
        return format_time(moment, format="short", tzinfo=zone, locale=lang)

    day = format_date(start.date(), format="full", locale=lang)
    if not isinstance(end, dt.datetime):
        return EventTimes(False, day, time(start))
    other_day = end.date() != start.date()
    return EventTimes(False, day, time(start),
                      format_date(end.date(), format="full", locale=lang) if other_day else "",
                      time(end))


@dataclass(frozen=True)
class Greetings:
    """The salutation of one edition, with and without a name (``%%name%%`` marks it)."""

    named_html: str
    named_text: str
    anonymous_html: str
    anonymous_text: str

    def html(self, name: str) -> Markup:
        if not name:
            return Markup(self.anonymous_html)  # noqa: S704 - rendered by autoescaping Jinja
        return Markup(self.named_html.replace(NAME_SENTINEL, str(escape(name))))  # noqa: S704

    def text(self, name: str) -> str:
        return self.named_text.replace(NAME_SENTINEL, name) if name else self.anonymous_text


class WhyLines:
    """The line "why you receive this" of one edition, per reason (a ``Why.key``).

    Each reason is rendered the first time a recipient needs it and then reused: a
    campaign has a handful of them (member, press, web, a few combinations of lists),
    so per recipient this is a dictionary lookup, like the greeting.
    """

    def __init__(self, render: Callable[[Why, bool], str], default: Why):
        self._render = render
        self.default = default  # for a row without a reason, and for previews
        self._lines: dict[tuple[str, bool], str] = {}

    def _line(self, key: str, html: bool) -> str:
        line = self._lines.get((key, html))
        if line is None:
            line = self._lines[key, html] = self._render(Why.parse(key, self.default), html)
        return line

    def html(self, key: str = "") -> Markup:
        return Markup(self._line(key, True))  # noqa: S704 - rendered by autoescaping Jinja

    def text(self, key: str = "") -> str:
        return self._line(key, False)


@dataclass(frozen=True)
class Rendered:
    edition: Edition
    html: str  # CSS inlined; contains %%placeholders%%
    text: str  # plain text; contains %%placeholders%%
    greetings: Greetings
    whys: WhyLines


class Renderer:
    """Renders editions of one workspace; one Jinja environment per UI language."""

    def __init__(self, ws: Workspace, asset_url: AssetUrl):
        self.ws = ws
        self.asset_url = asset_url
        self._envs: dict[str, jinja2.Environment] = {}
        self._mailing_names: dict[str, str] = {}
        self._ui: dict[str, Any] = {}  # the UI translations of each language
        css_path = ws.template_file(STYLESHEET)
        try:
            self.css = css_path.read_text(encoding="utf-8")
        except FileNotFoundError as err:
            raise RenderError("stylesheet not found", path=css_path) from err

    def env(self, lang: str) -> jinja2.Environment:
        if lang not in self._envs:
            env = jinja2.Environment(
                # the workspace's own templates first, then the package's, file by file
                loader=jinja2.FileSystemLoader(self.ws.template_dirs),
                # every template, .j2 included: select_autoescape() would skip *.html.j2
                autoescape=True,
                undefined=jinja2.StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
            # not install_gettext_translations: that would trust translations as markup
            self._ui[lang] = load_ui(self.ws, lang)
            install_ui(env, self._ui[lang])
            env.filters["wrap"] = wrap
            self._envs[lang] = env
        return self._envs[lang]

    def about(self, lang: str) -> str:
        """The "About us" text of newsletter.toml in ``lang`` (reviewed in about.po)."""
        about = self.ws.config.organization.about
        if not about:
            return ""
        self.env(lang)
        return str(self._ui[lang].pgettext(ABOUT_CONTEXT, about))

    def context(self, edition: Edition, original_url: str = "",
                links: list[str] | None = None, calendar_url: str = "") -> dict[str, Any]:
        """What every template of an edition sees; ``calendar_url`` links the .ics file of
        the release's event."""
        edition = with_clean_credits(edition)  # the template writes the "Photo:" label
        lang = edition.language
        links = [] if links is None else links
        rtl = lang.is_rtl
        flt = text_filter(lang)
        plain = plain_filter(lang)
        release = edition.release

        def txt(seg: Segment | None) -> str:
            return to_text(seg, links, plain) if seg else ""

        def table_text(table: Table) -> str:
            return text_table([txt(c) for c in table.header],
                              [[txt(c) for c in row] for row in table.rows], table.aligns)

        return {
            "org": self.ws.config.organization,
            "sender": self.ws.config.sender,
            "release": release,
            "edition": edition,
            "lang": lang,
            "dir": lang.direction,
            "start": "right" if rtl else "left",
            "end": "left" if rtl else "right",
            "date_long": format_date(release.date, format="long", locale=lang.code),
            "embargo_long": (
                format_datetime(release.embargo, format="long", locale=lang.code)
                if release.embargo else ""
            ),
            "css": Markup(self.css),  # noqa: S704 - the workspace's own stylesheet file
            "html": lambda seg: to_html(seg, flt) if seg else Markup(""),
            "iso": lambda s: flt(str(s)),  # HTML: escaped, Latin runs isolated when RTL
            "itx": lambda s: plain(str(s)),  # the same for the plain-text part
            # one left-to-right item (phone number, address, URL) as a whole
            "ltr": lambda s: ltr_html(str(s)) if rtl else Markup('<span dir="ltr">%s</span>') % s,
            "lri": LRI if rtl else "",
            "comma": "، " if lang.code in ("ar", "fa", "ckb", "ur", "ps") else ", ",
            "pdi": PDI if rtl else "",
            "txt": txt,
            "table_text": table_text,
            "links": links,
            "asset": lambda p: self.asset_url(Path(p)),
            "placeholder": lambda name: _placeholder(name),
            "machine": edition.machine,
            "original_url": original_url,
            "source_name": language(self.ws.config.languages.source).native_name,
            "source_dir": language(self.ws.config.languages.source).direction,
            "event_times": event_times(release.event, lang.code) if release.event else None,
            "calendar_url": calendar_url if release.event else "",
            "about": self.about(lang.code),
        }

    def render_template(self, name: str, lang: str, ctx: dict[str, Any]) -> str:
        """Render one template in the UI language ``lang``; errors name the template."""
        try:
            return self.env(lang).get_template(name).render(ctx)
        except jinja2.TemplateNotFound as err:
            raise RenderError(f"template not found: {err.name}",
                              path=self.ws.templates_dir) from err
        except jinja2.TemplateSyntaxError as err:
            raise RenderError(f"template error: {err.message}", path=err.filename,
                              line=err.lineno) from err
        except jinja2.UndefinedError as err:
            raise RenderError(f"{name} uses an undefined value: {err.message}",
                              path=self.ws.templates_dir) from err

    def render(self, edition: Edition, original_url: str = "", calendar_url: str = ""
               ) -> Rendered:
        """Render an edition; ``original_url`` is linked from a machine-translation notice,
        ``calendar_url`` from the event box."""
        lang = edition.language
        ctx = self.context(edition, original_url, calendar_url=calendar_url)
        html = self.render_template(HTML_TEMPLATE, lang.code, ctx)
        text = self.render_template(TEXT_TEMPLATE, lang.code, ctx)
        return Rendered(edition, inline_css(html), _tidy_text(text), self.greetings(lang),
                        self.whys(lang, edition.release.kind))

    def greetings(self, lang: Language) -> Greetings:
        """The salutation of one language, with and without a name."""
        # the name is isolated: a Latin name inside an Arabic salutation keeps its place,
        # and so does an Arabic one; FSI takes the direction of the name's first letter
        named = (Markup(f'<span dir="auto">{FSI}{NAME_SENTINEL}{PDI}</span>')  # noqa: S704
                 if lang.is_rtl else Markup(NAME_SENTINEL))  # noqa: S704
        named_text = f"{FSI}{NAME_SENTINEL}{PDI}" if lang.is_rtl else NAME_SENTINEL

        def greet(name: Any, plain: bool) -> str:
            return self.render_template(GREETING_TEMPLATE, lang.code,
                                        {"plain": plain, "name": name}).strip()

        return Greetings(named_html=greet(named, False), named_text=greet(named_text, True),
                         anonymous_html=greet("", False), anonymous_text=greet("", True))

    def whys(self, lang: Language, mailing: str) -> WhyLines:
        """The "why you receive this" lines of one language; ``mailing`` ("press", "news",
        "digest") gives the reason of a reader whose lists are not known (a preview)."""
        default = Why(PRESS if mailing == "press" else SUBSCRIBER)
        flt, plain = text_filter(lang), plain_filter(lang)

        def render(why: Why, html: bool) -> str:
            def list_names(lists: tuple[str, ...], web_label: str) -> str:
                names = [web_label if name == BUILTIN_LIST else
                         (flt if html else plain)(self.ws.config.list_of(name).name(
                             name, lang.code)) for name in lists]
                return join_names(names, lang.code, html=html)

            return self.render_template(WHY_TEMPLATE, lang.code, {
                "plain": not html, "why": why, "list_names": list_names}).strip()

        return WhyLines(render, default)

    def mailing_name(self, mailing: str) -> str:
        """What a kind of mailing ("press", "news", "digest") is called in the source
        language: the List-Id's phrase, which never changes with the reader."""
        if mailing not in self._mailing_names:
            source = self.ws.config.languages.source
            self._mailing_names[mailing] = self.render_template(
                MAILING_TEMPLATE, source, {"mailing": mailing}).strip()
        return self._mailing_names[mailing]

    def finish(self, edition: Edition, html: str, text: str, mailing: str = "digest"
               ) -> Rendered:
        """Inline the CSS of an edition rendered from other templates (the digest)."""
        return Rendered(edition, inline_css(html), _tidy_text(text),
                        self.greetings(edition.language), self.whys(edition.language, mailing))


def join_names(names: list[Any], lang: str, *, html: bool) -> Any:
    """"A, B and C" in the language's own way (CLDR list patterns). For HTML the names
    are markup already (escaped, Latin runs isolated) and the pattern's words are escaped."""
    marks = [f"\x00{i}\x00" for i in range(len(names))]
    joined = format_list(marks, locale=lang)
    if html:
        joined = str(escape(joined))
    for mark, name in zip(marks, names, strict=True):
        joined = joined.replace(mark, str(name))
    return Markup(joined) if html else joined  # noqa: S704 - escaped above


def _placeholder(name: str) -> Markup:
    if name not in PLACEHOLDERS:
        raise RenderError(f"unknown placeholder {name!r} (known: {', '.join(PLACEHOLDERS)})")
    return Markup(f"%%{name}%%")  # noqa: S704 - name is one of PLACEHOLDERS


def personalize(document: str, values: dict[str, str], *, html: bool) -> str:
    """Fill the %%placeholders%% of a rendered edition; values are escaped for HTML.

    Autoescaping ended with rendering: what is substituted here must be escaped here.
    """
    missing = [name for name in PLACEHOLDERS if name not in values]
    if missing:
        raise RenderError(f"no value for placeholder(s) {', '.join(missing)}")

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        return str(escape(value)) if html else value

    return _PLACEHOLDER.sub(fill, document)


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap plain text at ``width`` columns, paragraph by paragraph; URLs are never broken."""
    lead = indent if first is None else first
    out = []
    for i, para in enumerate(str(text).split("\n")):
        out.append(textwrap.fill(
            para, width=width, initial_indent=lead if i == 0 else indent,
            subsequent_indent=indent, break_long_words=False, break_on_hyphens=False,
        ) or lead.rstrip())
    # a run isolated for right-to-left text and wrapped over two lines stays isolated
    return "\n".join(balance_isolates("\n".join(out).split("\n")))


def _tidy_text(text: str) -> str:
    # "-- " with its space is the signature separator mail clients recognise
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def relative_asset_url(out_dir: Path) -> AssetUrl:
    """Image links for previews on disk: relative to the folder the HTML is written to."""

    def url(path: Path) -> str:
        return Path(os.path.relpath(path, out_dir)).as_posix()

    return url

