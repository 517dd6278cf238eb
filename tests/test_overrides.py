"""The package ships the templates and the UI catalogs; a workspace's own templates/ and
locales/ replace them file by file, and 'extract --ui' writes only what it needs of its own."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.content.parser import load_release
from newsletter.errors import CatalogError, LanguageError
from newsletter.render.adminpages import AdminPages
from newsletter.render.renderer import Renderer, relative_asset_url
from newsletter.render.webpages import WebPages
from newsletter.translation.about import CONTEXT as ABOUT_CONTEXT
from newsletter.translation.about import DOMAIN as ABOUT_DOMAIN
from newsletter.translation.catalog import po_path, pot_path, read_catalog, write_catalog
from newsletter.translation.editions import build_edition
from newsletter.translation.uicatalogs import package_po, ui_po_path, ui_pot_path
from newsletter.translation.uistrings import DOMAIN, extract_package_ui, extract_ui, load_ui
from newsletter.workspace.defaults import package_locales, package_templates
from tests.conftest import EXAMPLE_RELEASE, REPO, own_ui_catalog

UI_FILES = ("messages", "web", "admin")


def _render(ws, lang="de"):
    release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    return Renderer(ws, relative_asset_url(ws.build_dir)).render(build_edition(release, ws, lang))


def _own_template(ws, name, change):
    """The workspace's own copy of a template of the package, changed by ``change``."""
    own = ws.templates_dir / name
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text(change((package_templates() / name).read_text(encoding="utf-8")),
                   encoding="utf-8")
    return own


def test_the_example_workspace_keeps_only_what_is_its_own():
    assert not (REPO / "templates").exists()  # the package's serve it
    kept = {p.stem for p in (REPO / "locales").rglob("*.po*")}
    assert not kept & set(UI_FILES)
    assert ABOUT_DOMAIN in kept and EXAMPLE_RELEASE in kept
    assert (package_templates() / "newsletter.html.j2").is_file()
    assert (package_locales() / "de" / "LC_MESSAGES" / "messages.po").is_file()


def test_a_workspace_template_replaces_the_package_s_file_by_file(ws):
    _own_template(ws, "newsletter.css", lambda css: css.replace("#1f4e79", "#7a1f4e"))
    _own_template(ws, "greeting.j2", lambda text: text.replace(
        '{% else %}\n{% if name %}', '{% else %}\nMoin! {% if name %}'))
    out = _render(ws)
    assert "#7a1f4e" in out.html and "#1f4e79" not in out.html
    assert out.greetings.html("").startswith("Moin! ")
    assert not out.greetings.text("").startswith("Moin")  # the plain branch is unchanged
    # every other template is still the package's
    assert "Kooperationsvertrag" in out.text
    _own_template(ws, "web/web.css", lambda css: "/* ours */\n" + css)
    _own_template(ws, "admin/admin.css", lambda css: "/* ours too */\n" + css)
    assert WebPages(ws).stylesheet().startswith(b"/* ours */")
    assert AdminPages(ws).static("admin.css").startswith(b"/* ours too */")
    assert AdminPages(ws).static("review.js") == (package_templates() / "admin" / "review.js"
                                                  ).read_bytes()


def test_a_broken_own_template_is_one_error_line_naming_it(ws_root, ws):
    own = _own_template(ws, "newsletter.txt.j2", lambda text: text + "{% if %}\n")
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "preview", EXAMPLE_RELEASE,
                                      "--lang", "de"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {own}:"), lines


def test_own_templates_with_new_strings_get_own_catalogs_started_from_the_package_s(ws):
    _own_template(ws, "newsletter.txt.j2", lambda text: text.replace(
        "{% endautoescape %}", '{{ _("Our own line") }}\n{% endautoescape %}', 1))
    results = extract_ui(ws)
    written = {ws.relative(r.path) for r in results if r.action == "created"}
    assert "locales/messages.pot" in written
    assert {f"locales/{lang}/LC_MESSAGES/messages.po"
            for lang in ws.config.languages.all} <= written
    assert not any("web" in p or "admin" in p for p in written)  # the package's serve those
    de = read_catalog(po_path(ws, DOMAIN, "de"), prose=False)
    assert de.get("Unsubscribe").string == "Abmelden"  # the package's translation
    assert not de.get("Our own line").string
    with pytest.raises(LanguageError, match="1 UI strings not reviewed for 'de': 'Our own line'"
                       ) as err:
        load_ui(ws, "de")
    assert str(po_path(ws, DOMAIN, "de")) in str(err.value)
    de.get("Our own line").string = "Unsere eigene Zeile"
    write_catalog(po_path(ws, DOMAIN, "de"), de)
    assert "Unsere eigene Zeile" in _render(ws).text


def test_an_own_translation_keeps_its_words_and_gets_the_package_s_new_strings(ws):
    path = own_ui_catalog(ws, DOMAIN, "de")
    text = path.read_text(encoding="utf-8")
    text = text.replace('msgstr "Abmelden"', 'msgstr "Newsletter abbestellen"')
    # an older copy: a string the package has since added is missing
    text, n = re.subn(r'\n#[^\n]*\nmsgid "Read online"\nmsgstr "Online lesen"\n', "\n", text)
    assert n == 1
    path.write_text(text, encoding="utf-8")
    assert ui_po_path(ws, DOMAIN, "de") == path
    with pytest.raises(LanguageError, match="'Read online'"):
        load_ui(ws, "de")
    results = extract_ui(ws)
    assert [(ws.relative(r.path), r.action) for r in results if r.action != "package"
            and r.path.name != f"{ABOUT_DOMAIN}.po" and r.path.name != f"{ABOUT_DOMAIN}.pot"
            ] == [("locales/de/LC_MESSAGES/messages.po", "updated")]
    assert not pot_path(ws, DOMAIN).exists()  # its templates are the package's
    tr = load_ui(ws, "de")
    assert tr.gettext("Unsubscribe") == "Newsletter abbestellen"
    assert tr.gettext("Read online") == "Online lesen"


def test_a_language_the_package_has_no_catalogs_for_gets_its_own(ws, package_copy):
    shutil.rmtree(package_copy / "locales" / "ku")
    with pytest.raises(LanguageError, match="no UI strings for language 'ku'"):
        load_ui(ws, "ku")
    results = CliRunner().invoke(cli, ["--workspace", str(ws.root), "extract", "--ui"])
    assert results.exit_code == 0, results.output
    for name in UI_FILES:
        assert po_path(ws, name, "ku").is_file()
        assert not pot_path(ws, name).exists()
        assert not po_path(ws, name, "tr").exists()
    assert "package" in results.output  # the templates are the package's
    ku = read_catalog(po_path(ws, DOMAIN, "ku"), prose=False)
    assert not any(m.string for m in ku if m.id)  # for a translator to fill in


def test_an_older_workspace_keeps_its_about_text_in_its_own_messages_po(ws):
    about = ws.config.organization.about
    shipped = package_po(DOMAIN, "tr").read_text(encoding="utf-8")
    own_about = po_path(ws, ABOUT_DOMAIN, "tr").read_text(encoding="utf-8")
    entry = own_about[own_about.index("#. [organization] about"):]
    for path in ws.locales_dir.rglob(f"{ABOUT_DOMAIN}.po*"):
        path.unlink()
    legacy = po_path(ws, DOMAIN, "tr")
    legacy.write_text(shipped.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
    turkish = load_ui(ws, "tr").pgettext(ABOUT_CONTEXT, about)
    assert turkish.startswith("Essener Verbund der Immigrantenvereine e.V., Essen'deki")
    assert turkish in " ".join(_render(ws, "tr").text.split())
    extract_ui(ws)  # carries it over into the new catalog, still reviewed
    msg = read_catalog(po_path(ws, ABOUT_DOMAIN, "tr")).get(about, context=ABOUT_CONTEXT)
    assert msg.string == turkish and not msg.fuzzy


def test_the_shipped_catalogs_are_rewritten_only_in_a_source_checkout(package_copy):
    with pytest.raises(CatalogError, match="only in a source checkout"):
        extract_package_ui()
    (package_copy.parent.parent / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    before = {p: read_catalog(p, prose=False) for p in package_copy.rglob("*.po*")}
    results = extract_package_ui()
    assert {r.path for r in results} == set(before)
    assert all(r.action == "unchanged" for r in results if r.language is None)
    for path, old in before.items():  # the templates did not change: nor did a translation
        assert _translations(read_catalog(path, prose=False)) == _translations(old), path


def _translations(cat):
    """Every entry's non-empty translations (a plural's slots may differ with Babel's
    plural rules, which is not about what the reviewers wrote)."""
    def strings(m):
        return tuple(s for s in (m.string if isinstance(m.string, tuple) else (m.string,)) if s)
    return [(m.context, m.id, strings(m), m.fuzzy) for m in cat if m.id]


def test_the_example_workspace_uses_the_package_s_ui_catalogs(ws):
    for name in UI_FILES:
        assert ui_pot_path(ws, name) == package_locales() / f"{name}.pot"
        for lang in ws.config.languages.all:
            assert ui_po_path(ws, name, lang) == package_po(name, lang)
