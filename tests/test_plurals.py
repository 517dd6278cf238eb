"""Plural-Forms: our table against CLDR and GNU gettext, and the repository's catalogs."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from newsletter.translation.plurals import PLURAL_FORMS, plural_forms
from tests.conftest import REPO, require_msgfmt

CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
COUNTS = range(10_001)


def _split(forms: str) -> tuple[int, str]:
    nplurals, plural = (part.strip() for part in forms.rstrip(";").split(";", 1))
    assert nplurals.startswith("nplurals=") and plural.startswith("plural=")
    return int(nplurals.removeprefix("nplurals=")), plural.removeprefix("plural=")


@pytest.mark.parametrize("lang", sorted(PLURAL_FORMS))
def test_rule_gives_the_cldr_category_of_every_count(lang):
    """gettext numbers a language's forms in CLDR's order of the categories whole
    numbers reach (Russian: one, few, many; its "other" is for fractions only)."""
    locale = Locale.parse(lang)
    categories = [locale.plural_form(n) for n in COUNTS]
    used = [c for c in CLDR_ORDER if c in set(categories)]
    nplurals, expr = _split(PLURAL_FORMS[lang])
    assert nplurals == len(used)
    rule = gettext.c2py(expr)
    wrong = [(n, rule(n), c) for n, c in zip(COUNTS, categories, strict=True)
             if rule(n) != used.index(c)]
    assert not wrong[:5], f"{lang}: (count, form, CLDR category) {wrong[:5]}"


def _msginit_rule(lang: str, tmp_path: Path) -> str | None:
    msginit = shutil.which("msginit", path=str(Path(require_msgfmt()).parent))
    if msginit is None:
        pytest.fail("GNU msginit not found beside msgfmt: install the 'gettext' package")
    pot = tmp_path / "t.pot"
    pot.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n',
                   encoding="utf-8")
    out = tmp_path / f"{lang}.po"
    subprocess.run([msginit, "--no-translator", "-l", lang, "-i", str(pot), "-o", str(out)],
                   check=True, capture_output=True)
    with out.open("rb") as fh:
        headers = dict(read_po(fh).mime_headers)
    text = out.read_text(encoding="utf-8")
    return headers["Plural-Forms"] if "Plural-Forms:" in text else None


@pytest.mark.parametrize("lang", sorted(PLURAL_FORMS))
def test_rule_is_what_gnu_msginit_writes_where_it_knows_the_language(lang, tmp_path):
    rule = _msginit_rule(lang, tmp_path)
    if rule is None:  # msginit has no rule for ar, fa, ku, ...: CLDR alone decides (above)
        return
    assert _split(PLURAL_FORMS[lang]) == _split(rule)


def test_languages_outside_the_table_get_a_rule_too():
    assert plural_forms("tr_TR") == PLURAL_FORMS["tr"]
    assert plural_forms("ja") == "nplurals=1; plural=0;"
    assert plural_forms("xx").startswith("nplurals=2;")


def test_the_repository_catalogs_use_the_table():
    files = sorted([*(REPO / "locales").glob("*/LC_MESSAGES/*.po"),  # the example's own
                    *(REPO / "newsletter/defaults/locales").glob("*/LC_MESSAGES/*.po")])
    assert len(files) > 50
    for path in files:
        lang = path.parent.parent.name
        with path.open("rb") as fh:
            headers = dict(read_po(fh).mime_headers)
        assert _split(headers["Plural-Forms"]) == _split(PLURAL_FORMS[lang]), path
