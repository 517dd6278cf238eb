"""Importing Word files: made here with python-docx itself, read back by our parser."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from newsletter.app.importing import import_release
from newsletter.content.importers import import_file
from newsletter.content.release import Figure, Heading, ListBlock, Paragraph
from newsletter.errors import ImportError_
from tests.importing import read_back


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG of red pixels, made with zlib."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def add_link(paragraph, text: str, url: str) -> None:
    """python-docx has no hyperlink API: a relationship plus a w:hyperlink element."""
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    text_el = OxmlElement("w:t")
    text_el.text = text
    run.append(text_el)
    link.append(run)
    paragraph._p.append(link)


def make_docx(path, *, title_style: str = "Title", alt: str = "Rotes Probebild") -> None:
    doc = docx.Document()
    doc.add_paragraph("Vereinsleben")
    doc.add_paragraph("14.03.2024")
    doc.add_paragraph("Lesecafé öffnet in der Stadtbibliothek", style=title_style)
    doc.add_heading("Worum es geht", level=1)
    par = doc.add_paragraph("Das Café ist ")
    par.add_run("jeden Dienstag").bold = True
    par.add_run(" und ")
    par.add_run("jeden Donnerstag").italic = True
    par.add_run(" geöffnet. Mehr steht auf ")
    add_link(par, "unserer Seite", "https://nachbarschaftsbund.example.org/lesecafe")
    par.add_run(".")
    doc.add_heading("Programm", level=2)
    doc.add_paragraph("Vorlesestunde für Kinder", style="List Bullet")
    doc.add_paragraph("Gesprächsgruppe *Deutsch*", style="List Bullet")
    doc.add_paragraph("Anmelden", style="List Number")
    doc.add_paragraph("Hingehen", style="List Number")
    table = doc.add_table(rows=2, cols=2)
    for cell, text in zip(table.rows[0].cells + table.rows[1].cells,
                          ["Tag", "Angebot", "Dienstag", "Vorlesen | Spielen"], strict=True):
        cell.text = text
    shape = doc.add_picture(io.BytesIO(tiny_png()))
    if alt:
        shape._inline.docPr.set("descr", alt)
    doc.add_paragraph("Das Lesecafé am Eröffnungstag", style="Caption")
    doc.add_paragraph("Der Eintritt ist frei, eine Anmeldung ist für keines der Angebote nötig.")
    doc.save(str(path))


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "lesecafe.docx"
    make_docx(path)
    return path


def test_docx_structure_becomes_markdown(sample):
    imported = import_file(sample)
    body = imported.text.split("\n---\n", 1)[1]
    assert imported.release_id == "2024-03-14-lesecafe-oeffnet-stadtbibliothek"
    assert "## Worum es geht" in body and "### Programm" in body
    assert ("Das Café ist **jeden Dienstag** und *jeden Donnerstag* geöffnet. Mehr steht auf "
            "[unserer Seite](https://nachbarschaftsbund.example.org/lesecafe).") in body
    assert "- Vorlesestunde für Kinder\n- Gesprächsgruppe \\*Deutsch\\*" in body
    assert "1. Anmelden\n2. Hingehen" in body
    assert "| Tag | Angebot |\n|---|---|\n| Dienstag | Vorlesen \\| Spielen |" in body
    rid = imported.release_id
    assert (f'![Rotes Probebild](images/{rid}-1.png "Das Lesecafé am Eröffnungstag")'
            in body)
    assert imported.images == ((f"images/{rid}-1.png", tiny_png()),)


def test_docx_front_matter_and_read_back(sample, ws_root):
    imported = import_file(sample)
    for rel, data in imported.images:  # the parser wants the image files to exist
        (ws_root / "releases" / rel).write_bytes(data)
    release = read_back(imported.text, ws_root, imported.release_id)
    assert release.title.text == "Lesecafé öffnet in der Stadtbibliothek"
    assert release.date == dt.date(2024, 3, 14)
    assert release.category and release.category.text == "Vereinsleben"
    kinds = [type(b) for b in release.blocks]
    assert kinds[:2] == [Heading, Paragraph] and ListBlock in kinds and Figure in kinds
    para = release.blocks[1]
    assert isinstance(para, Paragraph)
    assert [t.kind for t in para.text.tags] == ["strong", "em", "link"]
    figure = next(b for b in release.blocks if isinstance(b, Figure))
    assert figure.image.caption and figure.image.caption.text == "Das Lesecafé am Eröffnungstag"
    assert any("pipe tables" in c for c in imported.checks)


def test_docx_through_the_app_saves_images(sample, ws):
    done = import_release(ws, sample, release_id="lesecafe")
    assert done.images == (ws.releases_dir / "images" / "lesecafe-1.png",)
    assert done.images[0].read_bytes() == tiny_png()
    assert done.release.blocks and done.path.is_file()
    with pytest.raises(ImportError_, match="already exists"):
        import_release(ws, sample, release_id="lesecafe")


def test_docx_heading_1_is_the_title_when_there_is_no_title_style(tmp_path):
    path = tmp_path / "h1.docx"
    make_docx(path, title_style="Heading 1", alt="")
    imported = import_file(path)
    assert imported.draft.title == "Lesecafé öffnet in der Stadtbibliothek"
    assert "## Worum es geht" in imported.text
    assert f"![Bild 1: Beschreibung fehlt](images/{imported.release_id}-1.png" in imported.text
    assert any("image 1" in c and "no description" in c for c in imported.checks)


def test_a_broken_docx_is_a_one_line_error(tmp_path):
    path = tmp_path / "kaputt.docx"
    path.write_bytes(b"PK\x03\x04 this is no zip file")
    with pytest.raises(ImportError_, match=r"kaputt\.docx: not a Word file that can be read"):
        import_file(path)


def test_docx_contact_lines_as_separate_paragraphs(tmp_path):
    path = tmp_path / "kontakt.docx"
    doc = docx.Document()
    doc.add_paragraph("Sommerfest im Hof", style="Title")
    doc.add_paragraph("Alle Vereine feiern am Samstag gemeinsam im Hof, mit Musik und Essen.")
    for line in ("Pressekontakt:", "Mira Muster", "Presse- und Öffentlichkeitsarbeit",
                 "Tel.: +49 30 1234567", "E-Mail: presse@nachbarschaftsbund.example.org"):
        doc.add_paragraph(line)
    doc.save(str(path))
    imported = import_file(path)
    contact = imported.draft.contact
    assert contact is not None
    assert (contact.name, contact.role, contact.phone, contact.email) == (
        "Mira Muster", "Presse- und Öffentlichkeitsarbeit", "+49 30 1234567",
        "presse@nachbarschaftsbund.example.org")
    assert "Pressekontakt" not in imported.text.split("\n---\n", 1)[1]
