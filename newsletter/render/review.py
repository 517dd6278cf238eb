"""The review page's preview: the edition in the reviewer's language as its catalog is
now, drafts included, with the entry under review marked.

It is not what readers get (the publishing policy may still send them a fallback; the
admin preview shows that): it is the reviewer's view of their own language in context.
"""

from __future__ import annotations

import re

from newsletter.content.release import Release
from newsletter.render.preview import Preview, render_edition
from newsletter.render.renderer import Renderer
from newsletter.translation.editions import TRANSLATED, Edition
from newsletter.translation.review import MARK_END, MARK_START, draft_release
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import language

ANCHOR = "entry"  # the frame's URL ends in #entry: the browser scrolls there, no script
# inline: the frame's policy allows inline styles only
MARK = ('<mark id="{id}" style="background:#fff3bf;color:inherit;'
        'outline:3px solid #c92a2a;outline-offset:2px">')
_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.S)


def review_preview(renderer: Renderer, release: Release, ws: Workspace, lang: str,
                   entry: tuple[str | None, str] | None, *, view_online_url: str) -> Preview:
    drafted = draft_release(release, ws, lang, entry)
    code = language(lang)
    edition = Edition(drafted, code, code, TRANSLATED, machine=True)
    shown = render_edition(renderer, edition, view_online_url=view_online_url)
    text = shown.text.replace(MARK_START, "").replace(MARK_END, "")
    return Preview(shown.edition, mark_entry(shown.html), text)


def mark_entry(html: str) -> str:
    """Turn the markers into <mark> elements where they stand in text; inside a tag (an
    alt attribute) or the document's <title> they are only removed. The first mark
    carries the anchor."""
    out: list[str] = []
    pos, anchored = 0, False
    for match in _MARKED.finditer(html):
        before = html[:match.start()]
        in_tag = before.rfind("<") > before.rfind(">")
        in_title = before.lower().rfind("<title") > before.lower().rfind("</title")
        out.append(html[pos:match.start()])
        if in_tag or in_title or _crosses_blocks(match.group(1)):
            out.append(match.group(1))
        else:
            out.append(MARK.format(id=ANCHOR if not anchored else f"{ANCHOR}-more")
                       + match.group(1) + "</mark>")
            anchored = True
        pos = match.end()
    out.append(html[pos:])
    return "".join(out).replace(MARK_START, "").replace(MARK_END, "")


def _crosses_blocks(inner: str) -> bool:
    """A <mark> may wrap inline markup only; one that would cross a block's end (a table
    layout of the mail) is left out rather than breaking the document."""
    return bool(re.search(r"</?(?:p|div|td|tr|table|h\d|li|ul|ol|blockquote)\b", inner, re.I))
