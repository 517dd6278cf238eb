"""Right-to-left editions: left-to-right runs isolated in a way mail clients keep."""

from __future__ import annotations

import pytest

from newsletter.content.parser import load_release
from newsletter.render.bidi import (
    FSI,
    LRI,
    PDI,
    balance_isolates,
    isolate_latin,
    isolate_latin_text,
    plain_filter,
    text_filter,
)
from newsletter.render.renderer import Renderer, relative_asset_url, wrap
from newsletter.translation.editions import build_edition
from newsletter.workspace.languages import language
from tests.conftest import EXAMPLE_RELEASE

AR = ("للتسجيل حتى 23.08.2018 اتصلوا على 0 23 07 / 9 24 88-77 أو +49 201 88-0، "
      "أو اكتبوا إلى presse@verbund.example.org أو زوروا https://verbund.example.org/ "
      "(Essener Verbund e.V.)، الخصم 20 %. #StarkeMigrationsberatung")


def _runs(text: str) -> list[str]:
    out, pos = [], 0
    while (start := text.find(LRI, pos)) >= 0:
        end = text.index(PDI, start)
        out.append(text[start + 1 : end])
        pos = end + 1
    return out


def test_runs_are_isolated_with_an_element_and_unicode_isolates_not_bdi():
    html = isolate_latin(AR)
    assert "<bdi" not in html
    for run in ("23.08.2018", "0 23 07 / 9 24 88-77", "+49 201 88-0",
                "presse@verbund.example.org", "https://verbund.example.org/",
                "Essener Verbund e.V.", "20 %", "#StarkeMigrationsberatung"):
        assert f'<span dir="ltr">{LRI}{run}{PDI}</span>' in html, run
    assert f"({'<span'}" in html and f"{PDI}</span>)" in html  # brackets stay outside
    assert isolate_latin("في <b> هنا") == f'في &lt;<span dir="ltr">{LRI}b{PDI}</span>&gt; هنا'


def test_plain_text_runs_are_isolated_too():
    text = isolate_latin_text(AR)
    assert _runs(text) == ["23.08.2018", "0 23 07 / 9 24 88-77", "+49 201 88-0",
                           "presse@verbund.example.org", "https://verbund.example.org/",
                           "Essener Verbund e.V.", "20 %", "#StarkeMigrationsberatung"]
    assert text.replace(LRI, "").replace(PDI, "") == AR


def test_left_to_right_editions_are_left_alone():
    de = language("de")
    assert text_filter(de)("a < b, +49 201") == "a &lt; b, +49 201"
    assert plain_filter(de)("a < b, +49 201") == "a < b, +49 201"
    assert plain_filter(language("fa"))("تلفن +49 201") == f"تلفن {LRI}+49 201{PDI}"


def test_wrapping_never_leaves_an_isolate_open_across_lines():
    text = "ع " * 30 + isolate_latin_text("Karl-Denkhaus-Straße 11, 45329 Essen") + " نهاية"
    lines = wrap(text, width=70).split("\n")
    assert len(lines) > 1
    for line in lines:
        assert line.count(LRI) == line.count(PDI)
    assert balance_isolates(["a \u2066b", "c\u2069 d"]) == ["a \u2066b\u2069", "\u2066c\u2069 d"]


@pytest.fixture
def arabic(ws):
    release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    renderer = Renderer(ws, relative_asset_url(ws.build_dir))
    return renderer.render(build_edition(release, ws, "ar"))


def test_arabic_edition_has_no_bdi_and_isolates_in_both_parts(arabic):
    assert "<bdi" not in arabic.html
    assert f'<span dir="ltr">{LRI}Karl-Denkhaus-Straße 11, 45329 Essen{PDI}</span>' in arabic.html
    assert f'<span dir="ltr">{LRI}+49 201 1234567{PDI}</span>' in arabic.html
    assert f"{LRI}+49 201 1234567{PDI}" in arabic.text
    assert f"{LRI}presse@verbund.example.org{PDI}" in arabic.text
    assert f"{LRI}KD 11/13{PDI}" in arabic.text
    for line in arabic.text.splitlines():
        assert line.count(LRI) == line.count(PDI), line


def test_greeting_isolates_the_name_whatever_its_script(arabic):
    greet = arabic.greetings
    assert greet.html("Karim Haddad") == f'مرحبًا <span dir="auto">{FSI}Karim Haddad{PDI}</span>،'
    assert greet.text("كريم حداد") == f"مرحبًا {FSI}كريم حداد{PDI}،"
    assert greet.html("") == "مرحبًا،"


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_rtl_example_edition(ws, lang):
    from tests.rtl_example import DATE, PHONE, write_rtl_release

    release = write_rtl_release(ws)
    edition = build_edition(release, ws, lang)
    assert edition.language.code == lang
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(edition)
    for run in (PHONE, DATE, "+49 201 88-0", "anmeldung@verbund.example.org",
                "https://verbund.example.org/aktionstag/", "Leyla Demir"):
        assert f'<span dir="ltr">{LRI}{run}{PDI}</span>' in out.html, run
        assert f"{LRI}{run}{PDI}" in out.text, run
    assert '<table class="data" dir="rtl"' in out.html
    assert 'align="right"' in out.html.split('class="data"')[1]
    for line in out.text.splitlines():
        assert line.count(LRI) == line.count(PDI), line
