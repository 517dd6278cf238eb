"""The monthly digest: every news release of a month in one newsletter per language.

The frame (title, table of contents, buttons) is in the reader's language; each
item follows the reader's language and its fallback chain on its own, and an item
shown in another language says so with that language's native name.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date

from newsletter.audience.selection import Plan, Selection, WhyOf, reader_language
from newsletter.content.parser import load_release
from newsletter.content.release import Release
from newsletter.content.segments import Segment, to_html, to_text
from newsletter.delivery import audiences
from newsletter.delivery.campaigns import with_rehearsal
from newsletter.delivery.mime import Prepared, list_id
from newsletter.errors import ReleaseError
from newsletter.render.bidi import plain_filter, text_filter
from newsletter.render.renderer import Renderer
from newsletter.translation.editions import SOURCE, TRANSLATED, Edition, build_edition
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import language

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"
DIGEST = "digest"  # the kind of mailing: its own List-Id
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Digest:
    month: dt.date  # the first day
    releases: tuple[Release, ...]  # news of that month, oldest first
    embargoed: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"digest-{self.month:%Y-%m}"


def parse_month(value: str) -> dt.date:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ReleaseError(f"not a month: {value!r} (write it as YYYY-MM, e.g. 2018-08)")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def collect(ws: Workspace, month: dt.date, now: dt.datetime | None = None) -> Digest:
    moment = now or dt.datetime.now(dt.UTC)
    found, embargoed = [], []
    for path in sorted(ws.releases_dir.glob("*.md")):
        rel = load_release(path, ws.root, timezone=ws.config.delivery.timezone)
        if rel.kind != "news" or (rel.date.year, rel.date.month) != (month.year, month.month):
            continue
        if rel.embargo and moment < rel.embargo:
            embargoed.append(rel.id)
            continue
        found.append(rel)
    found.sort(key=lambda r: (r.date, r.id))
    if not found:
        raise ReleaseError(f"no news releases for {month:%Y-%m} in "
                           f"{ws.relative(ws.releases_dir)}/ (press releases are not in the "
                           "digest)")
    return Digest(month, tuple(found), tuple(embargoed))


def digest_campaign_id(digest: Digest, selection: Selection, rehearsal: str = "") -> str:
    h = hashlib.sha256()
    for rel in digest.releases:
        h.update(rel.path.read_bytes() + b"\0")
    h.update(selection.key().encode())
    return with_rehearsal(f"{digest.id}-{h.hexdigest()[:8]}", rehearsal)


@dataclass(frozen=True)
class DigestItem:
    edition: Edition  # the item as this reader gets it
    anchor: str
    url: str  # "read more" in the web archive

    @property
    def other_language(self) -> bool:
        return self.edition.language.code != self.edition.requested.code


def month_heading(month: dt.date, lang: str) -> str:
    """"Май 2018", "Sierpień 2018": CLDR's stand-alone month name (LLLL), with its first
    letter capitalised. CLDR gives names in mid-sentence case ("май") and says in its
    contextTransforms to titlecase the first word where the name stands alone, as in a
    heading; Babel does not ship those transforms, so this does it."""
    name = format_date(month, format="LLLL y", locale=lang)
    first = name[:1]
    if lang.split("_")[0] in ("tr", "az") and first == "i":
        first = "İ"  # dotted capital I in Turkish and Azerbaijani
    return first.upper() + name[1:]


def frame(digest: Digest, ws: Workspace, reader: str) -> tuple[Edition, tuple[DigestItem, ...]]:
    """The digest edition for readers of ``reader``: a frame in their language and items."""
    lang = language(reader)
    month_name = month_heading(digest.month, lang.code)
    last = dt.date(digest.month.year, digest.month.month,
                   calendar.monthrange(digest.month.year, digest.month.month)[1])
    synthetic = Release(id=digest.id, path=digest.releases[0].path,
                        title=Segment(month_name), date=last, kind="news")
    status = SOURCE if reader == ws.config.languages.source else TRANSLATED
    edition = Edition(synthetic, lang, lang, status)
    items = tuple(
        DigestItem(ed, f"item-{n}", ws.config.web.view_online(rel.id, ed.language.code))
        for n, rel in enumerate(digest.releases, start=1)
        for ed in [build_edition(rel, ws, reader)]
    )
    return edition, items


def digest_plan(digest: Digest, ws: Workspace, selection: Selection, *, skip_invalid: bool
                ) -> tuple[Plan, Any, dict[str, tuple[DigestItem, ...]]]:
    audience = audiences.load(ws, selection, skip_invalid=skip_invalid)
    only = {language(c).code for c in selection.langs}
    frames: dict[str, tuple[Edition, tuple[DigestItem, ...]]] = {}
    chosen, readers, reasons, whys = [], [], [], []
    why_of = WhyOf(ws)
    left_out = 0
    for r in audience.recipients:
        reader, reason = reader_language(r, ws)  # the frame is always in the reader's language
        if only and reader not in only:
            left_out += 1
            continue
        if reader not in frames:
            frames[reader] = frame(digest, ws, reader)
        chosen.append(r)
        readers.append(reader)
        reasons.append(reason)
        whys.append(why_of(r))
    plan = Plan(tuple(chosen), tuple(readers), tuple(readers), tuple(reasons),
                {k: v[0] for k, v in frames.items()}, left_out, tuple(whys))
    return plan, audience, {k: v[1] for k, v in frames.items()}


def prepare_digest(renderer: Renderer, ws: Workspace, edition: Edition,
                   items: tuple[DigestItem, ...]) -> Prepared:
    """Render a digest edition once: HTML (CSS inlined) and text, like a release edition."""
    lang = edition.language
    ctx = renderer.context(edition)
    links = ctx["links"]
    ctx.update(
        items=items,
        item_html=lambda item, seg: (to_html(seg, text_filter(item.edition.language))
                                     if seg else ""),
        item_txt=lambda seg: to_text(seg, links, plain_filter(lang)) if seg else "",
        item_date=lambda item: format_date(item.edition.release.date, format="long",
                                           locale=lang.code),
    )
    html = renderer.render_template(HTML_TEMPLATE, lang.code, ctx)
    text = renderer.render_template(TEXT_TEMPLATE, lang.code, ctx)
    rendered = renderer.finish(edition, html, text, mailing=DIGEST)
    return Prepared(edition=edition, rendered=rendered,
                    subject=f"{ws.config.organization.name}: {edition.release.title.plain}",
                    view_online_url=f"{ws.config.web.archive_url}{lang.code}/index.html",
                    list_id=list_id(renderer, ws, DIGEST))
