"""The gettext Plural-Forms of each language: our own table, not the Babel version's."""

from __future__ import annotations

from babel.core import Locale, UnknownLocaleError
from babel.messages.plurals import get_plural

# Babel's table has changed between releases (2.18 wrote Turkish and Farsi with one form
# and an Arabic rule whose forms 4 and 5 were swapped; 2.19 derives them from CLDR), so a
# new catalog's header would depend on whichever Babel pip installed. These are the rules
# GNU gettext's msginit writes (de, en, tr, ru, uk, pl) and, where msginit knows none,
# CLDR's integer categories in CLDR's order (zero, one, two, few, many, other) as a
# gettext expression; tests/test_plurals.py checks both for every count up to 10,000.
PLURAL_FORMS: dict[str, str] = {
    "de": "nplurals=2; plural=(n != 1);",
    "en": "nplurals=2; plural=(n != 1);",
    "tr": "nplurals=2; plural=(n != 1);",
    "ku": "nplurals=2; plural=(n != 1);",  # Kurmanji
    "kmr": "nplurals=2; plural=(n != 1);",
    "ckb": "nplurals=2; plural=(n != 1);",  # Sorani
    "ur": "nplurals=2; plural=(n != 1);",
    "ps": "nplurals=2; plural=(n != 1);",
    "fa": "nplurals=2; plural=(n > 1);",  # CLDR: one is 0 and 1
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 "
          ": n%100>=11 ? 4 : 5);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
          "(n%100<10 || n%100>=20) ? 1 : 2);",
    "uk": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
          "(n%100<10 || n%100>=20) ? 1 : 2);",
    "pl": "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) "
          "? 1 : 2);",
}


def plural_forms(lang: str) -> str:
    """The Plural-Forms header value for a new catalog of ``lang`` ("pt_BR", "ar").

    A language outside our table gets Babel's rule: its catalogs are written once with
    it and keep that header afterwards (``update_catalog`` keeps a file's own rule).
    """
    for key in (lang, lang.replace("-", "_").split("_")[0]):
        if key in PLURAL_FORMS:
            return PLURAL_FORMS[key]
    try:
        return str(get_plural(Locale.parse(lang.replace("-", "_"))))
    except (UnknownLocaleError, ValueError):
        return "nplurals=2; plural=(n != 1);"  # what Babel itself assumes for an unknown one
