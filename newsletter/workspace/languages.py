"""Language facts from Babel/CLDR: native names, writing direction, validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from newsletter.errors import LanguageError

_CODE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z]{4})?(?:[_-](?:[A-Z]{2}|[0-9]{3}))?$")


@dataclass(frozen=True)
class Language:
    """One language as the templates and tables need it."""

    code: str
    native_name: str
    english_name: str
    direction: str  # "ltr" or "rtl"

    @property
    def is_rtl(self) -> bool:
        return self.direction == "rtl"

    @property
    def html_lang(self) -> str:
        """BCP 47 form for HTML ``lang`` and ``Content-Language`` (``pt-BR``, not ``pt_BR``)."""
        return self.code.replace("_", "-")


def normalize_code(code: str) -> str:
    """Return the Babel form of a language code (``pt-BR`` becomes ``pt_BR``)."""
    return code.strip().replace("-", "_")


@lru_cache(maxsize=64)
def language(code: str) -> Language:
    """Look a language up in CLDR; unknown or malformed codes raise ``LanguageError``."""
    if not isinstance(code, str) or not _CODE.match(code.strip()):
        raise LanguageError(f"not a language code: {code!r}")
    norm = normalize_code(code)
    try:
        loc = Locale.parse(norm)
    except (UnknownLocaleError, ValueError) as err:
        raise LanguageError(f"unknown language code {code!r} (not in Babel's CLDR data)") from err
    native = loc.get_display_name(loc) or norm
    english = loc.get_display_name("en") or norm
    return Language(
        code=norm,
        native_name=native,
        english_name=english,
        direction="rtl" if loc.text_direction == "rtl" else "ltr",
    )
