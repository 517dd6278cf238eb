"""Importing plain-text press releases: guesses, no lost paragraph, the parser reads it back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsletter.content.importers import import_file
from newsletter.content.importers.markdown import default_id, slug
from newsletter.errors import ImportError_
from tests.conftest import DATA, REPO
from tests.importing import lost_paragraphs, read_back

FIXTURE = DATA / "imports" / "pressemitteilung.txt"
# The release this project started from; not in the repository (it is someone else's
# text), so its test runs only where the shared folder is laid out beside the checkout.
_SEED_NAME = "seeds/000_51410ec816db73fa.txt"
SEED = next((p for p in (REPO.parent / "shared" / _SEED_NAME, Path("/work/shared") / _SEED_NAME)
             if p.is_file()), Path("/nonexistent") / _SEED_NAME)


def test_text_guesses_front_matter(ws_root):
    imported = import_file(FIXTURE)
    release = read_back(imported.text, ws_root, imported.release_id)
    assert imported.release_id == "2024-03-14-nachbarschaftsbund-stadtbibliothek-eroeffnen"
    assert release.title.text == ("Nachbarschaftsbund und Stadtbibliothek eröffnen "
                                  "gemeinsames Lesecafé")
    assert release.date == dt.date(2024, 3, 14)
    assert release.kind == "press"
    assert release.category and release.category.text == "Vereinsleben"
    assert release.location and release.location.text == "Musterstadt"
    contact = release.contact
    assert contact is not None
    assert (contact.name, contact.phone, contact.email) == (
        "Mira Muster", "+49 30 1234567", "presse@nachbarschaftsbund.example.org")
    assert contact.role and contact.role.text == "Presse- und Öffentlichkeitsarbeit"
    assert release.image is None  # no photo came with the text: the caption waits in a comment
    assert "#   caption: Amira Beispiel (Vorsitzende" in imported.text


def test_text_head_lines_become_headings_and_the_place_line_stays(ws_root):
    imported = import_file(FIXTURE)
    body = imported.text.split("\n---\n", 1)[1]
    assert "## Pressemitteilung des Nachbarschaftsbundes" in body
    assert "## Anlass: Eröffnung des Lesecafés" in body
    assert "## Programm im ersten Monat" in body
    assert "\nDonnerstag, 14.03.2024 - Stadtbibliothek, Beispielweg 7, 12345 Musterstadt\n" in body
    assert "- Dienstag: Vorlesestunde für Kinder\n- Donnerstag" in body
    assert "Kategorie" not in body and "Pressekontakt" not in body
    # the hard-wrapped paragraph is one paragraph again
    assert "des Bundes betreuen das Café" in body


def test_text_never_loses_a_paragraph(ws_root):
    imported = import_file(FIXTURE)
    release = read_back(imported.text, ws_root, imported.release_id)
    source = FIXTURE.read_text(encoding="utf-8")
    assert lost_paragraphs(source, imported.text, release) == []


def test_text_lists_what_to_check():
    checks = "\n".join(import_file(FIXTURE).checks)
    assert "photo caption without a photo file" in checks
    assert "2 paragraph(s) quote people directly" in checks
    assert "no summary" in checks
    assert "contact" not in checks  # the contact block is complete


@pytest.mark.skipif(not SEED.is_file(), reason="the shared seed is not laid out here")
def test_the_seed_release_imports_without_losing_a_paragraph(ws_root):
    imported = import_file(SEED)
    release = read_back(imported.text, ws_root, imported.release_id)
    assert release.date == dt.date(2018, 8, 23) and release.kind == "press"
    assert release.location and release.location.text == "Essen"
    assert release.category and release.category.text == "Verbund-News"
    assert lost_paragraphs(SEED.read_text(encoding="utf-8"), imported.text, release) == []
    assert any("no press contact" in c for c in imported.checks)


def test_a_short_news_item_without_date_or_contact(tmp_path, ws_root):
    src = tmp_path / "notiz.txt"
    src.write_text("Sommerfest im Hof\n\nAm Samstag feiern alle Vereine gemeinsam im Hof des "
                   "Zentrums, mit Musik, Essen und Spielen für Kinder.\n", encoding="utf-8")
    imported = import_file(src, today=dt.date(2024, 6, 1))
    release = read_back(imported.text, ws_root, imported.release_id)
    assert imported.release_id == "2024-06-01-sommerfest-hof"
    assert release.kind == "news" and release.contact is None
    assert "no date found: today's date stands in" in imported.checks
    assert "no press contact" not in " ".join(imported.checks)  # news need none


def test_markdown_characters_in_text_stay_text(tmp_path, ws_root):
    src = tmp_path / "zeichen.txt"
    lines = ["Sonderzeichen *im* Titel_mit [Klammern]", "12.05.2024",
             "1. Vorsitzende wiedergewählt: die Wahl fiel mit 40 zu 2 Stimmen eindeutig aus.",
             "# Kein Titel, sondern ein Satz mit <1> und &amp; und `Backticks` darin.",
             "> Auch das ist kein Zitat, sondern ein ganz normaler Absatz im Text."]
    src.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    imported = import_file(src)
    release = read_back(imported.text, ws_root, imported.release_id)
    assert release.title.text == "Sonderzeichen *im* Titel_mit [Klammern]"
    plains = [b.text.plain for b in release.blocks]  # type: ignore[union-attr]
    assert plains == [" ".join(line.split()) for line in lines[2:]]


def test_windows_1252_text_is_read_and_flagged(tmp_path):
    src = tmp_path / "alt.txt"
    src.write_bytes("Grüße aus dem Vorstand\n\n02.02.2024\n\nÄrger über Öffnungszeiten ist "
                    "vorbei, die Räume sind nun täglich geöffnet.\n".encode("cp1252"))
    imported = import_file(src)
    assert imported.draft.title == "Grüße aus dem Vorstand"
    assert any("Windows-1252" in c for c in imported.checks)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("x.pdf", {}, "cannot import .pdf"),
        ("x.txt", {"release_id": "../etc"}, "release id '../etc'"),
        ("x.txt", {"kind": "blog"}, "kind must be one of"),
        ("leer.txt", {}, "there is no text in the file"),
    ],
)
def test_import_errors(tmp_path, name, kwargs, message):
    src = tmp_path / name
    src.write_text("   \n\n" if name == "leer.txt" else "Titel\n", encoding="utf-8")
    with pytest.raises(ImportError_, match=message.replace(".", r"\.")):
        import_file(src, **kwargs)


def test_ids_are_ascii_words_of_the_title():
    assert slug("Größere Räume für die Übungsgruppe") == "groessere-raeume-uebungsgruppe"
    assert default_id(dt.date(2024, 1, 2), "„Café“ — à la carte!") == "2024-01-02-cafe-la-carte"
    assert len(slug("Wort " * 40)) <= 48
    assert slug("!!!") == "import"


def test_one_line_contact_and_a_dateline(tmp_path, ws_root):
    src = tmp_path / "jugend.txt"
    src.write_text(
        "Neue Räume für die Jugendgruppe\n\n"
        "Musterstadt, 02.05.2024 – Die Jugendgruppe des Bundes zieht in größere Räume im "
        "Zentrum um und lädt alle Interessierten ein.\n\n"
        "Weitere Informationen\n\nDie Besichtigung beginnt um 16 Uhr, Anmeldungen sind nicht "
        "nötig.\n\n"
        "Pressekontakt: Dr. Hanna Probe, Tel. 030 98765-43, hanna.probe@bund.example.org\n",
        encoding="utf-8")
    imported = import_file(src)
    release = read_back(imported.text, ws_root, imported.release_id)
    assert release.date == dt.date(2024, 5, 2)
    assert release.location and release.location.text == "Musterstadt"
    assert release.contact and (release.contact.name, release.contact.phone) == (
        "Dr. Hanna Probe", "030 98765-43")
    assert "## Weitere Informationen" in imported.text
    assert lost_paragraphs(src.read_text(encoding="utf-8"), imported.text, release) == []


def test_a_contact_without_name_waits_commented_out(tmp_path, ws_root):
    src = tmp_path / "ohne-name.txt"
    src.write_text(
        "Pressemitteilung\n\nNeue Räume für die Jugendgruppe\n\n"
        "Die Jugendgruppe des Bundes zieht in größere Räume im Zentrum um und lädt alle ein.\n\n"
        "Ansprechpartnerin\nNachbarschaftsbund Musterstadt e.V.\nBeispielweg 7\n"
        "12345 Musterstadt\nTelefon: 030 1234567\npresse@@example\n", encoding="utf-8")
    imported = import_file(src)
    release = read_back(imported.text, ws_root, imported.release_id)
    assert release.contact is None and release.kind == "press"
    assert "# contact:\n#   name:\n#   phone: 030 1234567" in imported.text
    checks = "\n".join(imported.checks)
    assert "contact incomplete: no name, no email" in checks
    assert "'presse@@example' not understood" in checks
    assert "Beispielweg" not in imported.text.split("\n---\n", 1)[1]  # not turned into headings
    assert lost_paragraphs(src.read_text(encoding="utf-8"), imported.text, release) == []
