"""CSS inlining for email clients, behind one function (premailer underneath)."""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

_QUIET = logging.getLogger("newsletter.render.css")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@cache
def _premailer() -> Any:
    """premailer, imported on first use: it caches parsed CSS in a 128-entry LRU by
    default, which one template nearly fills, so editions in nine languages would evict
    each other. The size is read when premailer is imported, so it is set just before,
    here and not when this module is imported."""
    os.environ.setdefault("PREMAILER_CACHE_MAXSIZE", "4096")
    from premailer import Premailer

    return Premailer


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
