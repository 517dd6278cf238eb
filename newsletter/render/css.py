"""CSS inlining for email clients, behind one function (premailer underneath)."""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

_QUIET = logging.getLogger("newsletter.render.css")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

# premailer copies some CSS into HTML attributes for old mail clients: text-align to
# align, vertical-align to valign, background-color to bgcolor, width and height as they
# are. It does so on every element, giving <li align>, <a align>, <p bgcolor> and
# <img height="auto">, none of which HTML has, and overwrites the pixel width the
# templates give images for Outlook with "100%". We keep each attribute on the elements
# that have it in HTML 4.01 Transitional; width and height only as the templates set them.
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_CELLS = frozenset({"table", "tr", "td", "th"})
ATTRIBUTES_ON: dict[str, frozenset[str]] = {
    "align": _CELLS | {"p", "div", "caption"} | _HEADINGS,
    "valign": frozenset({"tr", "td", "th"}),
    "bgcolor": _CELLS | {"body"},
    "width": frozenset(),
    "height": frozenset(),
}


@cache
def _premailer() -> Any:
    """premailer, imported on first use: it caches parsed CSS in a 128-entry LRU by
    default, which one template nearly fills, so editions in nine languages would evict
    each other. The size is read when premailer is imported, so it is set just before,
    here and not when this module is imported."""
    os.environ.setdefault("PREMAILER_CACHE_MAXSIZE", "4096")
    from premailer import Premailer

    class Inliner(Premailer):
        def _style_to_basic_html_attributes(self, element, style_content, force=False):
            """premailer's mapping, then undone where HTML has no such attribute (its
            only caller is the inlining loop; 3.10 is the last release)."""
            before = {key: element.attrib.get(key) for key in ATTRIBUTES_ON}
            super()._style_to_basic_html_attributes(element, style_content, force=force)
            for key, old in before.items():
                if element.tag in ATTRIBUTES_ON[key]:
                    continue
                if old is None:
                    element.attrib.pop(key, None)
                else:
                    element.attrib[key] = old

    return Inliner


def inline_css(html: str) -> str:
    """Move the rules of the ``<style>`` blocks into ``style`` attributes.

    Rules that cannot be inlined (``@media`` for phones) stay in a ``<style>`` block.
    Call it once per edition, never per recipient: it costs 15-25 ms a document.
    Per-recipient values are plain ``%%name%%`` sentinels, which premailer leaves alone.
    """
    return _premailer()(
        html,
        remove_classes=False,
        strip_important=False,
        keep_style_tags=False,
        disable_validation=True,
        cssutils_logging_handler=logging.NullHandler(),
        cssutils_logging_level=logging.CRITICAL,
        allow_network=False,
        allow_loading_external_files=False,
    ).transform()
