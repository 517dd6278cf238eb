from __future__ import annotations

import subprocess

from babel.messages.pofile import read_po

from newsletter.content.parser import load_release
from newsletter.translation.catalog import extract_release, po_path, pot_path, read_catalog
from tests.conftest import EXAMPLE_RELEASE, require_msgfmt


def _release_file(ws, name="edit-test"):
    return ws.releases_dir / f"{name}.md"


def _write(ws, body: str, name="edit-test"):
    path = _release_file(ws, name)
    path.write_text("---\ntitle: Ein Titel\ndate: 2018-08-01\nsummary: Kurz gesagt\n---\n\n"
                    + body, encoding="utf-8")
    return load_release(path, ws.root)


def _translate_all(ws, rid, lang="tr", prefix="TR "):
    path = po_path(ws, rid, lang)
    cat = read_po(path.open("rb"))
    for msg in cat:
        if msg.id:
            msg.string = prefix + msg.id
    from newsletter.translation.catalog import write_catalog
    write_catalog(path, cat)


def _entries(ws, rid, lang="tr"):
    cat = read_catalog(po_path(ws, rid, lang))
    return {(m.context, m.id): (m.string, m.fuzzy) for m in cat if m.id}


def test_template_has_one_entry_per_block_with_roles_and_references(ws):
    rel = _write(ws, "Gleich.\n\n## Kopf\n\nAnders mit *Betonung*.\n\nGleich.\n\n"
                 "> Zitat\n\n- Punkt\n")
    extract_release(rel, ws)
    pot = read_catalog(pot_path(ws, rel.id))
    msgs = [m for m in pot if m.id]
    assert [(m.context, m.id) for m in msgs] == [
        ("title", "Ein Titel"), ("summary", "Kurz gesagt"), (None, "Gleich."), (None, "Kopf"),
        (None, "Anders mit <1>Betonung</1>."), (None, "Zitat"), (None, "Punkt")]
    same = msgs[2]
    assert same.locations == [("releases/edit-test.md", 7), ("releases/edit-test.md", 13)]
    assert same.auto_comments == ["paragraph"]
    assert msgs[3].auto_comments == ["heading"]
    assert msgs[5].auto_comments == ["quotation"] and msgs[6].auto_comments == ["list item"]
    for lang in ws.config.languages.targets:
        assert po_path(ws, rel.id, lang).exists()


def test_prose_is_not_flagged_as_format_string(ws):
    rel = _write(ws, "Rund 20 % der Vereine und {0} Klammern.\n")
    extract_release(rel, ws)
    for path in (pot_path(ws, rel.id), po_path(ws, rel.id, "tr")):
        text = path.read_text(encoding="utf-8")
        assert "python-format" not in text and "python-brace-format" not in text


def test_editing_one_paragraph_changes_only_that_entry(ws):
    rel = _write(ws, "Erster Absatz.\n\nZweiter Absatz.\n\nDritter Absatz.\n")
    extract_release(rel, ws)
    _translate_all(ws, rel.id)
    before = _entries(ws, rel.id)
    rel = _write(ws, "Erster Absatz.\n\nZweiter Absatz, geändert.\n\nDritter Absatz.\n")
    results = {r.language: r.action for r in extract_release(rel, ws)}
    assert results["tr"] == "updated"
    after = _entries(ws, rel.id)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == {(None, "Zweiter Absatz."), (None, "Zweiter Absatz, geändert.")}
    # the edited block inherits its old translation for review, with the old source shown
    assert after[(None, "Zweiter Absatz, geändert.")] == ("TR Zweiter Absatz.", True)
    msg = read_catalog(po_path(ws, rel.id, "tr")).get("Zweiter Absatz, geändert.")
    assert msg.user_comments == ["previous source: Zweiter Absatz."]
    # the old translation is not lost: it stays in the obsolete section
    cat = read_catalog(po_path(ws, rel.id, "tr"))
    assert any(m.id == "Zweiter Absatz." and m.string == "TR Zweiter Absatz."
               for m in cat.obsolete.values())


def test_inserting_a_paragraph_changes_no_other_entry(ws):
    rel = _write(ws, "Erster Absatz.\n\nDritter Absatz.\n")
    extract_release(rel, ws)
    _translate_all(ws, rel.id)
    before = _entries(ws, rel.id)
    rel = _write(ws, "Neu ganz vorn.\n\nErster Absatz.\n\nEingeschoben.\n\nDritter Absatz.\n")
    extract_release(rel, ws)
    after = _entries(ws, rel.id)
    for key, value in before.items():
        assert after[key] == value
    assert set(after) - set(before) == {(None, "Neu ganz vorn."), (None, "Eingeschoben.")}


def test_second_extract_leaves_files_untouched(ws):
    rel = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    first = extract_release(rel, ws)
    stamps = {r.path: r.path.stat().st_mtime_ns for r in first}
    contents = {r.path: r.path.read_bytes() for r in first}
    second = extract_release(rel, ws)
    assert {r.action for r in second} == {"unchanged"}
    for r in second:
        assert r.path.stat().st_mtime_ns == stamps[r.path]
        assert r.path.read_bytes() == contents[r.path]


def test_shipped_translations_survive_extract(ws):
    rel = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    results = {r.language: r for r in extract_release(rel, ws)}
    total = results[None].entries
    for lang in ("en", "tr", "ar", "ru", "uk", "pl"):
        assert results[lang].translated == total, lang
    for lang in ("fa", "ku"):  # only the kicker is translated there so far
        assert results[lang].translated == 1


def test_fuzzy_and_comments_are_kept_on_update(ws):
    rel = _write(ws, "Absatz.\n")
    extract_release(rel, ws)
    path = po_path(ws, rel.id, "ar")
    text = path.read_text(encoding="utf-8").replace(
        'msgid "Absatz."\nmsgstr ""', 'msgid "Absatz."\nmsgstr "فقرة."')
    text = text.replace("#. paragraph\n", "# reviewer: check this\n#. paragraph\n#, fuzzy\n")
    path.write_text(text, encoding="utf-8")
    rel = _write(ws, "Absatz.\n\nNoch einer.\n")
    extract_release(rel, ws)
    msg = read_catalog(path).get("Absatz.")
    assert msg.string == "فقرة." and msg.fuzzy and msg.user_comments == ["reviewer: check this"]


def test_every_written_catalog_passes_msgfmt_check(ws):
    msgfmt = require_msgfmt()
    rel = _write(ws, 'Zitat „so“ mit "Anführung", 20 % und \\ Backslash.\n\n- Punkt\n')
    extract_release(rel, ws)
    _translate_all(ws, rel.id, "ar", prefix="ع ")
    example = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    extract_release(example, ws)
    files = sorted(ws.locales_dir.rglob("*.po")) + sorted(ws.locales_dir.glob("*.pot"))
    assert len(files) > 20
    for path in files:
        proc = subprocess.run([msgfmt, "-c", "-o", "/dev/null", str(path)],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{path}: {proc.stderr}"


def test_broken_po_file_is_reported_with_its_name(ws):
    import pytest

    from newsletter.errors import CatalogError
    rel = _write(ws, "Absatz.\n")
    extract_release(rel, ws)
    path = po_path(ws, rel.id, "tr")
    path.write_text('msgid "x"\nmsgstr "y\n', encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        extract_release(rel, ws)
    assert f"{path}:2: malformed PO line" in str(info.value)
    assert path.read_text(encoding="utf-8") == 'msgid "x"\nmsgstr "y\n'  # nothing overwritten


def test_reviewers_line_wrapping_is_not_rewritten(ws):
    from babel.messages.pofile import write_po
    rel = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    path = po_path(ws, EXAMPLE_RELEASE, "ar")
    cat = read_po(path.open("rb"))
    with path.open("wb") as fh:  # a tool with other wrapping habits saved the file
        write_po(fh, cat, width=200)
    before = path.read_bytes()
    results = {r.language: r.action for r in extract_release(rel, ws)}
    assert results["ar"] == "unchanged"
    assert path.read_bytes() == before


def test_extract_leaves_every_example_catalog_byte_for_byte(ws):
    """What `make demo` runs, for every release and the UI: a fresh clone stays clean,
    whichever Babel pip installed (its version is in no header we write)."""
    from newsletter.app.translation import extract
    from newsletter.workspace.defaults import package_locales
    files = sorted(ws.locales_dir.rglob("*.po*"))
    shipped = sorted(package_locales().rglob("*.po*"))
    before = {p: p.read_bytes() for p in files + shipped}
    refs = tuple(p.stem for p in sorted(ws.releases_dir.glob("*.md")))
    results = extract(ws, refs, ui=True)
    own = [r for r in results if r.path.is_relative_to(ws.root)]
    assert {r.path for r in own} == set(files)
    assert {r.action for r in own} == {"unchanged"}
    # the UI catalogs come from the package as they are: reported, never written
    assert {r.action for r in results if r not in own} == {"package"}
    assert {p: p.read_bytes() for p in files + shipped} == before


OLD_HEADER = (  # a catalog written by Babel 2.18 with its Arabic rule, forms 4 and 5 swapped
    '"Plural-Forms: nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "\n'
    '"n%100>=3 && n%100<=10 ? 3 : n%100>=0 && n%100<=2 ? 4 : 5);\\n"\n')


def _header(path):
    return path.read_text(encoding="utf-8").split("\n\n", 1)[0]


def test_a_catalogs_own_header_is_kept_and_no_babel_version_written(ws):
    rel = _write(ws, "Absatz eins.\n")
    extract_release(rel, ws)
    path = po_path(ws, rel.id, "ar")
    text = path.read_text(encoding="utf-8")
    start = text.index('"Plural-Forms:')
    end = text.index('"MIME-Version')
    text = (text[:start] + OLD_HEADER + text[end:]).replace(
        '"Generated-By: newsletter\\n"', '"Generated-By: Babel 2.18.0\\n"')
    path.write_text(text, encoding="utf-8")
    assert {r.language: r.action for r in extract_release(rel, ws)}["ar"] == "unchanged"
    assert path.read_text(encoding="utf-8") == text
    rel = _write(ws, "Absatz eins.\n\nAbsatz zwei.\n")  # a real change: the file is written
    assert {r.language: r.action for r in extract_release(rel, ws)}["ar"] == "updated"
    header = _header(path)
    assert OLD_HEADER in header + "\n"  # its msgstr[N] are numbered by its own rule
    assert '"Generated-By: newsletter\\n"' in header and "Babel" not in header
    assert "Babel" not in _header(pot_path(ws, rel.id))


def test_new_catalogs_get_the_plural_rule_of_our_table(ws):
    from newsletter.translation.plurals import PLURAL_FORMS
    rel = _write(ws, "Absatz.\n")
    extract_release(rel, ws)
    for lang in ws.config.languages.targets:
        cat = read_catalog(po_path(ws, rel.id, lang))
        assert cat.plural_forms == PLURAL_FORMS[lang], lang
    assert "Plural-Forms" not in _header(pot_path(ws, rel.id))


def test_insert_edit_and_delete_in_one_go(ws):
    rel = _write(ws, "Alpha eins zwei drei.\n\nBeta vier fünf sechs.\n\nGamma sieben acht.\n\n"
                 "Delta neun zehn elf.\n")
    extract_release(rel, ws)
    _translate_all(ws, rel.id)
    before = _entries(ws, rel.id)
    rel = _write(ws, "Neu eingefügt am Anfang.\n\nAlpha eins zwei drei.\n\n"
                 "Beta vier fünf sechs, ergänzt.\n\nDelta neun zehn elf.\n")
    extract_release(rel, ws)
    after = _entries(ws, rel.id)
    for key in [(None, "Alpha eins zwei drei."), (None, "Delta neun zehn elf."),
                ("title", "Ein Titel"), ("summary", "Kurz gesagt")]:
        assert after[key] == before[key]
    assert after[(None, "Beta vier fünf sechs, ergänzt.")] == ("TR Beta vier fünf sechs.", True)
    assert after[(None, "Neu eingefügt am Anfang.")] == ("", False)  # nothing close: empty
    assert (None, "Gamma sieben acht.") not in after
    cat = read_catalog(po_path(ws, rel.id, "tr"))
    assert cat.obsolete  # the deleted block's reviewed translation is kept as #~


def test_one_old_translation_seeds_at_most_one_new_entry(ws):
    rel = _write(ws, "Der Verein lädt zum Sommerfest ein.\n")
    extract_release(rel, ws)
    _translate_all(ws, rel.id)
    rel = _write(ws, "Der Verein lädt zum Sommerfest ein!\n\nDer Verein lädt zum Herbstfest ein.\n")
    extract_release(rel, ws)
    after = _entries(ws, rel.id)
    seeded = [k for k, (s, fuzzy) in after.items() if s == "TR Der Verein lädt zum Sommerfest ein."]
    assert seeded == [(None, "Der Verein lädt zum Sommerfest ein!")]


def test_distant_edits_and_other_roles_are_not_paired(ws):
    path = _release_file(ws)
    path.write_text("---\ntitle: Kontakt\ndate: 2018-08-01\n---\n\nPressekontakt\n",
                    encoding="utf-8")
    rel = load_release(path, ws.root)
    extract_release(rel, ws)
    _translate_all(ws, rel.id)
    path.write_text("---\ntitle: Kontakte\ndate: 2018-08-01\n---\n\nEtwas ganz anderes.\n",
                    encoding="utf-8")
    extract_release(load_release(path, ws.root), ws)
    after = _entries(ws, rel.id)
    assert after[(None, "Etwas ganz anderes.")] == ("", False)
    assert after[("title", "Kontakte")] == ("TR Kontakt", True)  # same role, close enough


def test_review_clears_the_previous_source_comment(ws):
    rel = _write(ws, "Ein Absatz über das Fest.\n")
    extract_release(rel, ws)
    _translate_all(ws, rel.id)
    rel = _write(ws, "Ein Absatz über das Sommerfest.\n")
    extract_release(rel, ws)
    path = po_path(ws, rel.id, "tr")
    cat = read_po(path.open("rb"))
    msg = cat.get("Ein Absatz über das Sommerfest.")
    assert msg.fuzzy and msg.user_comments
    msg.flags.discard("fuzzy")  # the reviewer approves
    from newsletter.translation.catalog import write_catalog
    write_catalog(path, cat)
    extract_release(rel, ws)
    msg = read_catalog(path).get("Ein Absatz über das Sommerfest.")
    assert not msg.fuzzy and msg.user_comments == []
    msgfmt = require_msgfmt()
    proc = subprocess.run([msgfmt, "-c", "-o", "/dev/null", str(path)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
