from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from newsletter.content.parser import load_release
from newsletter.errors import LanguageError, RenderError
from newsletter.render.renderer import Renderer, personalize, relative_asset_url
from newsletter.translation.catalog import extract_release, po_path, write_catalog
from newsletter.translation.editions import build_edition
from tests.conftest import EXAMPLE_RELEASE, own_ui_catalog
from tests.htmlshape import elements, shape

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def release(ws):
    return load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)


@pytest.fixture
def renderer(ws):
    return Renderer(ws, relative_asset_url(ws.build_dir))


def _render(ws, renderer, release, lang):
    return renderer.render(build_edition(release, ws, lang))


def test_arabic_edition_is_right_to_left(ws, renderer, release):
    html = _render(ws, renderer, release, "ar").html
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="ar" dir="rtl">' in html
    tags = elements(html)
    container = next(a for t, a in tags if t == "table" and "container" in (a.get("class") or ""))
    assert container["dir"] == "rtl" and container["lang"] == "ar"
    content = next(a for t, a in tags if t == "td" and "content" in (a.get("class") or ""))
    assert content["align"] == "right" and "text-align:right" in content["style"]
    quote = next(a for t, a in tags if t == "blockquote")
    assert "border-right:" in quote["style"] and "border-left" not in quote["style"]
    assert "padding:2px 14px 2px 0" in quote["style"]
    # Latin-script runs are isolated inside the Arabic text
    assert '<span dir="ltr">\u2066Karl-Denkhaus-Straße 11, 45329 Essen\u2069</span>' in html
    assert '<span dir="ltr">\u2066KD 11/13\u2069</span>' in html


def test_turkish_edition_has_turkish_text_ui_and_date(ws, renderer, release):
    out = _render(ws, renderer, release, "tr")
    assert '<html lang="tr" dir="ltr">' in out.html
    for doc in (out.html, out.text):
        assert "23 Ağustos 2018" in doc
        assert "Basın bülteni" in doc and "Abonelikten çıkın" in doc
        assert "iş birliği sözleşmesi" in doc
    assert "Press release" not in out.html and "Pressemitteilung" not in out.html


def test_arabic_date_and_ui(ws, renderer, release):
    out = _render(ws, renderer, release, "ar")
    assert "\u206623\u2069 أغسطس \u20662018\u2069" in out.text  # numbers isolated
    assert "إلغاء الاشتراك" in out.html and "بيان صحفي" in out.html


def test_fallback_edition_is_entirely_in_the_fallback_language(ws, renderer, release):
    out = _render(ws, renderer, release, "ku")
    assert '<html lang="de" dir="ltr">' in out.html
    assert "Pressemitteilung" in out.html and "23. August 2018" in out.html
    fa = _render(ws, renderer, release, "fa")
    assert '<html lang="en" dir="ltr">' in fa.html and "Press release" in fa.html


def test_css_is_inlined_once_and_media_queries_kept(ws, renderer, release):
    html = _render(ws, renderer, release, "de").html
    assert 'class="header dir-text"' in html
    header = next(a for t, a in elements(html) if t == "td" and "header" in (a.get("class") or ""))
    assert "background-color:#1f4e79" in header["style"]
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and "@media" in styles[0] and ".footer {" not in styles[0]


def test_hostile_text_is_escaped_everywhere(ws, renderer):
    path = ws.releases_dir / "hostile.md"
    path.write_text(
        "---\n"
        "title: '<script>alert(\"t\")</script> Titel'\n"
        "date: 2018-08-01\n"
        "summary: '<b onmouseover=alert(1)>x</b>'\n"
        "image:\n"
        "  path: images/2018-08-23-unterzeichnung.png\n"
        "  alt: '\" onerror=\"alert(1)'\n"
        "  caption: <script>alert(2)</script>\n"
        "  credit: <img src=x onerror=alert(3)>\n"
        "contact:\n  name: <svg onload=alert(4)>\n  role: <b onclick=x>Rolle</b>\n"
        "---\n\n"
        "Text <img src=x onerror=alert(5)> und <script>alert(6)</script>.\n\n"
        "[Link](javascript:alert(7)) und [ok](https://example.org/?a=1&b=<2>)\n\n"
        "> <iframe src=//evil.example.com>\n",
        encoding="utf-8",
    )
    rel = load_release(path, ws.root)
    out = renderer.render(build_edition(rel, ws, "de"))
    html = personalize(out.html, {"view_online_url": "https://x.example.org/\"><script>",
                                  "unsubscribe_url": "https://x.example.org/u?a=1&b=2",
                                  "greeting": out.greetings.html("<img src=x onerror=alert(8)>"),
                                  "why": out.whys.html("lists:%3Cscript%3E")},
                       html=True)
    for tag, attrs in elements(html):
        assert tag not in ("script", "iframe", "svg"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src"):
            assert not (attrs.get(name) or "").lower().startswith("javascript"), attrs
    assert '&lt;script&gt;alert("t")&lt;/script&gt; Titel' in html
    assert "&lt;img src=x onerror=alert(5)&gt;" in html
    assert "u?a=1&amp;b=2" in html
    assert "<title>&lt;script&gt;" in html


def test_plain_text_edition(ws, renderer, release):
    text = _render(ws, renderer, release, "de").text
    assert "<" not in text.replace("<1>", "") and "&amp;" not in text and "&lt;" not in text
    for line in text.splitlines():
        assert len(line) <= 72 or "://" in line or "@" in line, line
    assert "[1] https://verbund.example.org/" in text
    assert "verbund.example.org [1]." in text
    assert "- Partner: Essener Verbund der Immigrantenvereine e.V. und Kommunales" in text
    assert "\n-- \n" in text  # signature separator keeps its space
    assert "%%unsubscribe_url%%" in text and "%%view_online_url%%" in text
    lines = text.splitlines()
    title_at = lines.index("Immigrantenverbund und Stadt Essen besiegeln ihre Partnerschaft mit")
    assert set(lines[title_at + 2]) == {"="}


def test_plain_text_keeps_rtl_in_logical_order(ws, renderer, release):
    text = _render(ws, renderer, release, "ar").text
    cat = read_po(po_path(ws, EXAMPLE_RELEASE, "ar").open("rb"))
    heading = next(m.string for m in cat if m.id == "Neuer Sitz in Altenessen")
    assert heading in text
    assert "\u202e" not in text and "\u202b" not in text  # no bidi overrides or embeddings


def test_personalize_escapes_html_only(ws):
    doc = '<a href="%%unsubscribe_url%%">x</a> %%view_online_url%%'
    values = {"unsubscribe_url": "https://e.example.org/?a=1&b=\"2\"", "view_online_url": "<v>",
              "greeting": "Hi %%unsubscribe_url%%", "why": "x"}
    assert personalize(doc, values, html=True) == (
        '<a href="https://e.example.org/?a=1&amp;b=&#34;2&#34;">x</a> &lt;v&gt;')
    assert personalize(doc, values, html=False).endswith("<v>")
    # one pass: a value that looks like a placeholder is not substituted again
    assert personalize("%%greeting%%", values, html=False) == "Hi %%unsubscribe_url%%"
    with pytest.raises(RenderError, match="no value for placeholder"):
        personalize(doc, {"unsubscribe_url": "x"}, html=True)


def test_greetings_are_translated_and_isolated(ws, renderer, release):
    ar = _render(ws, renderer, release, "ar").greetings
    assert ar.html("Karim Haddad") == 'مرحبًا <span dir="auto">\u2068Karim Haddad\u2069</span>،'
    assert ar.text("Karim Haddad") == "مرحبًا \u2068Karim Haddad\u2069،"
    assert ar.html("") == "مرحبًا،"
    de = _render(ws, renderer, release, "de").greetings
    assert de.html("A & <B>") == "Guten Tag A &amp; &lt;B&gt;,"
    assert de.text("A & <B>") == "Guten Tag A & <B>,"


def test_missing_or_incomplete_ui_catalog_is_an_error(ws, release, package_copy):
    path = own_ui_catalog(ws, "messages", "tr")  # the workspace's own replaces the package's
    cat = read_po(path.open("rb"))
    next(m for m in cat if m.id).flags.add("fuzzy")
    write_catalog(path, cat)
    with pytest.raises(LanguageError, match="UI strings not reviewed for 'tr'") as err:
        Renderer(ws, relative_asset_url(ws.build_dir)).render(build_edition(release, ws, "tr"))
    assert str(path) in str(err.value)
    path.unlink()  # the package's catalog serves again
    Renderer(ws, relative_asset_url(ws.build_dir)).render(build_edition(release, ws, "tr"))
    (package_copy / "locales" / "tr" / "LC_MESSAGES" / "messages.po").unlink()
    with pytest.raises(LanguageError, match="no UI strings for language 'tr'") as err:
        Renderer(ws, relative_asset_url(ws.build_dir)).render(build_edition(release, ws, "tr"))
    assert "locales/tr/LC_MESSAGES/messages.po is missing" in str(err.value)


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_html_structure_matches_golden(ws, renderer, release, lang):
    extract_release(release, ws)
    got = shape(_render(ws, renderer, release, lang).html)
    golden = GOLDEN / f"{EXAMPLE_RELEASE}.{lang}.shape"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8"), (
        f"structure of the {lang} edition changed; inspect and rerun with UPDATE_GOLDEN=1")


def test_machine_edition_carries_a_notice_with_a_link_to_the_original(ws_root, release):
    from newsletter.workspace.loading import load_workspace
    path = ws_root / "newsletter.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '[languages.policy]\nku = "reviewed"', '[languages.policy]\nku = "machine"'),
        encoding="utf-8")
    ws = load_workspace(ws_root)
    po = po_path(ws, EXAMPLE_RELEASE, "ku")
    cat = read_po(po.open("rb"))
    src = read_po(po_path(ws, EXAMPLE_RELEASE, "tr").open("rb"))
    for msg in cat:
        if msg.id:
            msg.string = src.get(msg.id, context=msg.context).string  # any draft will do
            msg.flags.add("fuzzy")
    write_catalog(po, cat)
    edition = build_edition(release, ws, "ku")
    assert edition.machine and edition.language.code == "ku"
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(
        edition, original_url="https://verbund.example.org/newsletter/x/de.html")
    assert "Ev nivîs bi makîneyê hatiye wergerandin" in out.html
    assert 'href="https://verbund.example.org/newsletter/x/de.html"' in out.html
    assert "Orîjînalê bixwînin (Deutsch)" in out.text
    plain = Renderer(ws, relative_asset_url(ws.build_dir)).render(build_edition(release, ws, "tr"))
    assert "makine tarafından çevrilmiştir" not in plain.html


def test_press_edition_shows_embargo_contact_and_print_photo(ws, renderer, release):
    path = release.path
    path.write_text(path.read_text(encoding="utf-8").replace(
        "kind: press\n", "kind: press\nembargo: 2018-08-23T10:00:00+02:00\n"), encoding="utf-8")
    rel = load_release(path, ws.root)
    de = renderer.render(build_edition(rel, ws, "de"))
    assert "Pressemitteilung" in de.html and "Sperrfrist: 23. August 2018" in de.html
    assert "Pressekontakt" in de.html and "Leyla Demir" in de.html
    assert "Foto in Druckqualität" in de.html and "Essen, 23. August 2018" in de.html
    en = renderer.render(build_edition(rel, ws, "en"))
    assert "Press release" in en.html and "Embargoed until" in en.html
    assert "Photo in print quality" in en.text
