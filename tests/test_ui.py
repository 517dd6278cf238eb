from __future__ import annotations

import datetime as dt
import os
import re
import subprocess

import html5lib
import jinja2
import pytest
from click.testing import CliRunner
from markupsafe import Markup

from newsletter.cli import cli
from newsletter.content.parser import load_release
from newsletter.errors import CatalogError
from newsletter.publish.archive import build_archive
from newsletter.render.renderer import Renderer, personalize, relative_asset_url
from newsletter.translation.catalog import read_catalog
from newsletter.translation.editions import build_edition
from newsletter.translation.uicatalogs import package_pot, ui_po_path, ui_pot_path
from newsletter.translation.uistrings import DOMAIN, install_ui, load_ui, ui_template, ui_text
from tests.conftest import EXAMPLE_RELEASE, own_ui_catalog, require_msgfmt


def test_messages_pot_is_up_to_date_with_the_templates(ws):
    # the example workspace has no templates or UI catalogs of its own: the package's
    assert ui_pot_path(ws, DOMAIN) == package_pot(DOMAIN)
    fresh = {(m.context, m.id) for m in ui_template(ws) if m.id}
    committed = {(m.context, m.id) for m in read_catalog(ui_pot_path(ws, DOMAIN), prose=False)
                 if m.id}
    assert fresh == committed, "run 'newsletter extract --ui' and translate the new strings"
    assert ("", "Unsubscribe") in {(c or "", i) for c, i in fresh}


def test_every_language_has_complete_reviewed_ui_strings(ws):
    expected = {"de": "Abmelden", "en": "Unsubscribe", "tr": "Abonelikten çıkın",
                "ar": "إلغاء الاشتراك"}
    for lang in ws.config.languages.all:
        tr = load_ui(ws, lang)
        assert tr.gettext("Unsubscribe")
        if lang in expected:
            assert tr.gettext("Unsubscribe") == expected[lang]
        if lang != "en":
            assert tr.gettext("Press contact") != "Press contact", lang


def test_ui_placeholders_survive_translation(ws):
    for lang in ws.config.languages.all:
        tr = load_ui(ws, lang)
        out = tr.gettext("%(place)s, %(date)s") % {"place": "P", "date": "D"}
        assert "P" in out and "D" in out


# --- A reviewer's UI catalog is text, never markup -----------------------------------

EVIL = {
    "Privacy policy": "<script>alert(1)</script>",
    "Imprint": '<a href="https://phish.example">Impressum</a>',
    "Email": '<a href="javascript:alert(2)">E-Mail</a>',
    "Board: %(names)s": '<b onmouseover="alert(3)">Vorstand</b>: %(names)s',
    "Hello %(name)s,": "<i>Hallo</i> %(name)s,",
}


def _set_translations(ws, lang, changes):
    """Replace the msgstr of single-line entries in the workspace's own copy of a UI
    catalog (the reviewer's edit)."""
    path = own_ui_catalog(ws, DOMAIN, lang)
    text = path.read_text(encoding="utf-8")
    for msgid, msgstr in changes.items():
        quoted = msgstr.replace("\\", "\\\\").replace('"', '\\"')
        text, n = re.subn(rf'(msgid "{re.escape(msgid)}"\nmsgstr )".*"',
                          lambda m, q=quoted: f'{m.group(1)}"{q}"', text)
        assert n == 1, msgid
    path.write_text(text, encoding="utf-8")
    return path


def _no_injected_markup(html):
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    assert not [s for s in doc.iter("script")]
    assert not [e for e in doc.iter("b") if e.get("onmouseover")]
    assert not [e for e in doc.iter("i")]
    for a in doc.iter("a"):
        href = a.get("href") or ""
        assert "phish.example" not in href and not href.startswith("javascript:"), href
    for e in doc.iter():
        assert not any(k.startswith("on") for k in e.attrib), (e.tag, e.attrib)
    text = "".join(doc.itertext())
    return text


def test_markup_in_a_ui_translation_is_escaped_in_emails_and_archive(ws):
    _set_translations(ws, "de", EVIL)
    release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    renderer = Renderer(ws, relative_asset_url(ws.build_dir))
    out = renderer.render(build_edition(release, ws, "de"))
    html = personalize(out.html, {"greeting": out.greetings.html("Ayşe <Ö>"),
                                  "why": out.whys.html("lists:members,press"),
                                  "view_online_url": "https://x.example/v",
                                  "unsubscribe_url": "https://x.example/u"}, html=True)
    text = _no_injected_markup(html)
    for shown in ("<script>alert(1)</script>", '<a href="https://phish.example">Impressum</a>',
                  '<a href="javascript:alert(2)">E-Mail</a>', "<i>Hallo</i> Ayşe <Ö>,"):
        assert shown in text, shown  # the reviewer's characters, shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<b onmouseover="alert(3)">Vorstand</b>: ' in text  # placeholder still filled
    # the plain-text part shows the characters as they are, never HTML entities
    plain = personalize(out.text, {"greeting": out.greetings.text("Ayşe <Ö>"),
                                   "why": out.whys.text("lists:members,press"),
                                   "view_online_url": "https://x.example/v",
                                   "unsubscribe_url": "https://x.example/u"}, html=False)
    assert "<script>alert(1)</script>: " in plain
    assert '<a href="https://phish.example">Impressum</a>' in plain
    assert "<i>Hallo</i> Ayşe <Ö>," in plain
    assert "&lt;" not in plain and "&amp;" not in plain and "&#" not in plain

    site = build_archive(ws, ws.root / "site", now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    page = (site.root / EXAMPLE_RELEASE / "de.html").read_text(encoding="utf-8")
    text = _no_injected_markup(page)
    assert "<script>alert(1)</script>" in text and "phish.example" in text
    index = (site.root / "de" / "index.html").read_text(encoding="utf-8")
    _no_injected_markup(index)


def test_ui_text_escapes_translation_and_plain_values_but_keeps_markup_values():
    html = ui_text("Board: %(names)s", "<b>Vorstand</b>: %(names)s",
                   {"names": "A & <B>"}, html=True)
    assert html == "&lt;b&gt;Vorstand&lt;/b&gt;: A &amp; &lt;B&gt;"
    assert isinstance(html, Markup)
    kept = ui_text("Photo: %(credit)s", "Foto: %(credit)s", {"credit": Markup("<bdi>X</bdi>")},
                   html=True)
    assert kept == "Foto: <bdi>X</bdi>"
    assert ui_text("Hello %(name)s,", "<Hallo> %(name)s,", {"name": "<Ö>"}, html=False) == (
        "<Hallo> <Ö>,")
    # a tag the template author wrote in the source may come back; nothing else does
    out = ui_text("Read <strong>now</strong>", '<strong>Jetzt</strong> <em>lesen</em>'
                  '<strong onclick="x">', {}, html=True)
    assert out == ("<strong>Jetzt</strong> &lt;em&gt;lesen&lt;/em&gt;"
                   "&lt;strong onclick=&#34;x&#34;&gt;")


# --- Placeholders of a translation must be those of the source ------------------------

@pytest.mark.parametrize("msgid,msgstr,problem", [
    ("Board: %(names)s", "Vorstand", "missing %(names)s"),
    ("Board: %(names)s", "Vorstand: %(namen)s", "unexpected %(namen)s"),
    ("Board: %(names)s", "Vorstand: %(names)s %(court)s", "unexpected %(court)s"),
    ("Board: %(names)s", "Vorstand: %(names)d", "unexpected %(names)d"),
    ("Board: %(names)s", "Vorstand: %(names", "malformed placeholder"),
    ("Board: %(names)s", "100 % Vorstand: %(names)s", "malformed placeholder"),
    ("Imprint", "Impressum 100%", "malformed placeholder"),
    ("Imprint", "Impressum %s", "unexpected %s"),
])
def test_a_translation_with_other_placeholders_is_refused_naming_file_and_line(
        ws, msgid, msgstr, problem):
    path = _set_translations(ws, "de", {msgid: msgstr})
    line = path.read_text(encoding="utf-8").splitlines().index(f'msgid "{msgid}"') + 1
    with pytest.raises(CatalogError) as err:
        load_ui(ws, "de")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: ")
    assert repr(msgid) in message and problem in message


def test_a_literal_percent_and_reordered_placeholders_are_fine(ws):
    _set_translations(ws, "de", {"Imprint": "Impressum (100 %%)",
                                 "Register: %(court)s, %(number)s": "%(number)s (%(court)s)"})
    tr = load_ui(ws, "de")
    assert tr.gettext("Imprint") == "Impressum (100 %%)"


def test_a_bad_placeholder_is_one_error_line_through_the_cli_not_a_traceback(ws_root, ws):
    # (not "Hello %(name)s,": at line 100 the CLI's rich output turns ":100:" into an emoji)
    path = _set_translations(ws, "de", {"Board: %(names)s": "Vorstand: %(namen)s"})
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "preview", EXAMPLE_RELEASE])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "messages.po:" in lines[0] and "'Board: %(names)s'" in lines[0]
    assert path.name in lines[0] and not isinstance(result.exception, KeyError)


def test_committed_ui_catalogs_flag_placeholders_so_msgfmt_checks_them(ws):
    msgfmt = require_msgfmt()
    files = [ui_pot_path(ws, DOMAIN)] + [ui_po_path(ws, DOMAIN, lg)
                                          for lg in ws.config.languages.all]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for entry in text.split("\n\n"):
            if re.search(r'^msgid ".*%\(', entry, re.M):
                assert "#, python-format" in entry or "python-format" in entry, (path, entry)
        done = subprocess.run([msgfmt, "-c", "-o", os.devnull, str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_msgfmt_rejects_a_ui_catalog_with_other_placeholders(ws):
    msgfmt = require_msgfmt()
    path = _set_translations(ws, "de", {"Board: %(names)s": "Vorstand: %(namen)s"})
    done = subprocess.run([msgfmt, "-c", "-o", os.devnull, str(path)],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "namen" in done.stderr


def test_extracted_entries_with_placeholders_carry_the_python_format_flag(ws):
    for msg in ui_template(ws):
        if msg.id and "%(" in str(msg.id):
            assert "python-format" in msg.flags, msg.id


# --- Missing stylesheets are one error line --------------------------------------------

@pytest.mark.parametrize("command,sheet", [
    (["archive"], "archive.css"),
    (["archive"], "newsletter.css"),
    (["preview", EXAMPLE_RELEASE], "newsletter.css"),
])
def test_a_missing_stylesheet_is_one_error_line(ws_root, package_copy, command, sheet):
    (package_copy / "templates" / sheet).unlink()  # a broken installation
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), *command])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and sheet in lines[0], lines
    assert not (ws_root / "site").exists() and not (ws_root / ".site.new").exists()


class _Reviewer:
    """Translations a reviewer wrote, markup and all."""

    def gettext(self, msgid):
        return {"Hi %(n)s": "<b>Hallo</b> %(n)s", "a %(x)s": "<b> %(x)s",
                "100%% %(x)s": "100%% %(x)s"}[msgid]

    def ngettext(self, singular, plural, num):
        return "%(num)d <i>Dateien</i>"


def test_install_ui_keeps_newstyle_semantics_for_trans_blocks_and_plurals():
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    install_ui(env, _Reviewer())
    tpl = env.from_string(
        '{% trans n=name %}Hi {{ n }}{% endtrans %}|'
        '{{ ngettext("%(num)d file", "%(num)d files", 2) }}|'
        '{% autoescape false %}{{ _("a %(x)s", x="&") }}{% endautoescape %}|'
        '{{ _("100%% %(x)s", x=html) }}')
    out = tpl.render(name="<Ö>", html=Markup("<em>x</em>"))
    assert out == ("&lt;b&gt;Hallo&lt;/b&gt; &lt;Ö&gt;|2 &lt;i&gt;Dateien&lt;/i&gt;|<b> &|"
                   "100% <em>x</em>")
