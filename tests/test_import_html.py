"""Importing HTML pages: structure kept, active content dropped, images never fetched."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from newsletter.app.importing import import_release
from newsletter.content.importers import import_file
from newsletter.content.release import Figure, ListBlock, Paragraph, Preformatted, Quote
from newsletter.errors import ImportError_
from tests.importing import read_back
from tests.test_import_docx import tiny_png

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Lesecafé – Nachbarschaftsbund</title>
<style>p {{ color: red }}</style><script>document.write("Skript");</script></head>
<body>
<nav><a href="/">Startseite</a></nav>
<p>Vereinsleben</p>
<p>14.03.2024</p>
<h1>Lesecafé öffnet in der Stadtbibliothek</h1>
<figure><img src="bilder/foto.png" alt="Das Café von innen">
<figcaption>Blick ins Lesecafé</figcaption></figure>
<p>Das Café ist <strong>jeden Dienstag</strong> und <em>jeden Donnerstag</em>
   geöffnet. Mehr auf <a href="https://nachbarschaftsbund.example.org/lesecafe">unserer
   Seite</a>.</p>
<h2>Programm</h2>
<ul><li>Vorlesestunde<ul><li>für Kinder</li></ul></li><li>Gesprächsgruppe</li></ul>
<ol><li>Anmelden</li><li>Hingehen</li></ol>
<table><tr><th>Tag</th><th>Angebot</th></tr><tr><td>Dienstag</td><td><p>Vorlesen</p></td></tr>
</table>
<p><img src="https://cdn.example.net/bild.jpg" alt="Ein Foto im Netz"></p>
<p><img src="../geheim.png" alt="Nicht kopiert"></p>
<p><img src="data:image/png;base64,{data}" alt="Eingebettet"></p>
<blockquote><p>Die Bibliothek gehört allen.</p></blockquote>
<pre>Öffnungszeiten:
  Di 15-18 Uhr</pre>
<p onclick="steal()">Kontakt über <a href="javascript:steal()">diesen Link</a><br>und
<a href="mailto:presse@nachbarschaftsbund.example.org">per Mail</a>.</p>
</body></html>
"""


@pytest.fixture
def page(tmp_path):
    folder = tmp_path / "seite"
    (folder / "bilder").mkdir(parents=True)
    (folder / "bilder" / "foto.png").write_bytes(tiny_png())
    (tmp_path / "geheim.png").write_bytes(tiny_png(1, 1))  # outside the page's folder
    path = folder / "lesecafe.html"
    data = base64.b64encode(tiny_png(2, 2)).decode()
    path.write_text(PAGE.format(data=data), encoding="utf-8")
    return path


def test_html_structure_becomes_markdown(page):
    imported = import_file(page)
    body = imported.text.split("\n---\n", 1)[1]
    assert ("Das Café ist **jeden Dienstag** und *jeden Donnerstag* geöffnet. Mehr auf "
            "[unserer Seite](https://nachbarschaftsbund.example.org/lesecafe).") in body
    assert "## Programm" in body
    assert "- Vorlesestunde\n  - für Kinder\n- Gesprächsgruppe\n\n1. Anmelden\n2. Hingehen" in body
    assert "| Tag | Angebot |\n|---|---|\n| Dienstag | Vorlesen |" in body
    assert "[Ein Foto im Netz](https://cdn.example.net/bild.jpg)" in body
    assert "> Die Bibliothek gehört allen." in body
    assert "```\nÖffnungszeiten:\n  Di 15-18 Uhr\n```" in body
    for gone in ("Skript", "color: red", "Startseite", "steal", "javascript"):
        assert gone not in imported.text, gone
    assert "Kontakt über diesen Link\\\nund [per Mail](mailto:" in body


def test_html_images_local_inside_only_remote_never_fetched(page, ws):
    done = import_release(ws, page, release_id="lesecafe")
    assert [p.name for p in done.images] == ["lesecafe-1.png", "lesecafe-2.png"]
    assert done.images[0].read_bytes() == tiny_png()
    assert done.images[1].read_bytes() == tiny_png(2, 2)  # the data: URI
    figures = [b for b in done.release.blocks if isinstance(b, Figure)]
    assert figures[0].image.alt.text == "Das Café von innen"
    assert figures[0].image.caption and figures[0].image.caption.text == "Blick ins Lesecafé"
    checks = "\n".join(done.imported.checks)
    assert "remote image https://cdn.example.net/bild.jpg (line 19) kept as a link" in checks
    assert "'../geheim.png' (line 20) lies outside the folder of the page" in checks


def test_html_front_matter_and_read_back(page, ws_root):
    imported = import_file(page)
    for rel, data in imported.images:
        (ws_root / "releases" / rel).write_bytes(data)
    release = read_back(imported.text, ws_root, imported.release_id)
    assert release.title.text == "Lesecafé öffnet in der Stadtbibliothek"
    assert release.date == dt.date(2024, 3, 14)
    assert release.category and release.category.text == "Vereinsleben"
    kinds = {type(b) for b in release.blocks}
    assert {Figure, Paragraph, ListBlock, Quote, Preformatted} <= kinds


def test_html_without_h1_takes_the_title_element(tmp_path):
    path = tmp_path / "notiz.htm"
    path.write_text("<html><head><title>Sommerfest im Hof</title></head><body><p>Alle Vereine "
                    "feiern am Samstag gemeinsam im Hof, mit Musik und Essen.</p></body></html>",
                    encoding="utf-8")
    imported = import_file(path)
    assert imported.draft.title == "Sommerfest im Hof"
    assert any("file's properties" in c for c in imported.checks)


def test_html_in_windows_1252_as_declared(tmp_path):
    path = tmp_path / "alt.html"
    path.write_bytes('<meta charset="windows-1252"><h1>Grüße</h1><p>Schöne Tage.</p>'
                     .encode("cp1252"))
    assert import_file(path).draft.title == "Grüße"


def test_an_empty_page_is_an_error(tmp_path):
    path = tmp_path / "leer.html"
    path.write_text("<html><script>x()</script></html>", encoding="utf-8")
    with pytest.raises(ImportError_, match=r"leer\.html: there is no text in the page"):
        import_file(path)
