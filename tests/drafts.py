"""Machine drafts for tests, made by the real drafting code with an engine that needs no
network: it puts a Farsi word in front of the (masked) source text."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from newsletter.app.workspace import find_release
from newsletter.translation.drafting import translate_release
from newsletter.translation.engines import Engine
from newsletter.workspace.config import Workspace

PREFIX = "پیش‌نویس "  # "draft" in Farsi


class PrefixEngine(Engine):
    name = "fake"
    codes: ClassVar[dict[str, str]] = {
        c: c for c in ("de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")}

    def _call(self, text: str, source: str, target: str) -> str:
        return PREFIX + text


def draft(ws: Workspace, release: str, lang: str) -> None:
    translate_release(find_release(ws, release), ws, PrefixEngine(), (lang,),
                      today=dt.date(2026, 11, 20))
