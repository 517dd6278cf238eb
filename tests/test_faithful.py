"""German press texts as they really are: every character the author wrote reaches the reader."""

from __future__ import annotations

import pytest

from newsletter.content.parser import load_release
from newsletter.content.release import ListBlock, Paragraph
from newsletter.content.segments import to_html, to_text
from newsletter.errors import ReleaseError

FRONT = "---\ntitle: Titel\ndate: 2018-09-23\n---\n"


def _parse(ws, text: str, name: str = "faithful"):
    path = ws.root / "releases" / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return load_release(path, ws.root)


def _body(ws, body: str):
    return _parse(ws, FRONT + body).blocks


# --- gender-inclusive forms ---------------------------------------------------------------

def test_gender_star_colon_and_underscore_are_text(ws):
    body = ("Wir laden Migrant*innen, Vertreter*innen der Vereine, Lehrer:innen und "
            "Bürger_innen ein; auch Schüler*innen und Student*innen.\n")
    (par,) = _body(ws, body)
    assert par.text.text == body.strip()
    assert par.text.tags == ()
    assert to_text(par.text, []) == body.strip()
    assert "<em>" not in to_html(par.text)


def test_deliberate_emphasis_still_works(ws):
    (par,) = _body(ws, "Das ist *wichtig* und **fett** für Kolleg*innen und *alle* "
                       "Schüler*innen.\n")
    assert par.text.text == ("Das ist <1>wichtig</1> und <2>fett</2> für Kolleg*innen und "
                             "<3>alle</3> Schüler*innen.")
    assert [t.kind for t in par.text.tags] == ["em", "strong", "em"]


def test_gender_star_inside_emphasis_and_code(ws):
    (par,) = _body(ws, "**Alle Teilnehmer*innen** und `a*b*c` bleiben.\n")
    assert par.text.text == "<1>Alle Teilnehmer*innen</1> und <2/> bleiben."
    assert par.text.tags[1].code == "a*b*c"
    assert isinstance(par, Paragraph)


# --- a paragraph that opens with a date or a number --------------------------------------

def test_paragraph_opening_with_a_date_is_not_a_list(ws):
    (par,) = _body(ws, "23. September 2018 – Tag der offenen Tür im Verbundhaus.\n")
    assert isinstance(par, Paragraph)
    assert par.text.text == "23. September 2018 – Tag der offenen Tür im Verbundhaus."
    assert par.line == 5


@pytest.mark.parametrize("text", [
    "3. Okt. – Tag der Deutschen Einheit",
    "1. Mai – Kundgebung am Hauptbahnhof",
    "23. 9. 2018: Fest im Verbundhaus",
    "25. Jubiläum des Verbundes feiern wir im Herbst.",
    "2018) war ein gutes Jahr.",
])
def test_dates_and_lone_numbers_stay_paragraphs(ws, text):
    (par,) = _body(ws, text + "\n")
    assert isinstance(par, Paragraph) and par.text.text == text


def test_lines_of_dates_stay_lines(ws):
    blocks = _body(ws, "Termine:\n\n23. September – Tag der offenen Tür\n"
                       "24. September – Sprachcafé\n\n> 7. Oktober – Fest\n")
    par, quote = blocks[1], blocks[2]
    assert isinstance(par, Paragraph) and par.line == 7
    assert to_text(par.text, []) == ("23. September – Tag der offenen Tür\n"
                                     "24. September – Sprachcafé")
    assert quote.parts[0].text == "7. Oktober – Fest"


def test_real_numbered_lists_stay_lists(ws):
    one, two, three = _body(ws, "1. Anmeldung\n2. Beratung\n\nText\n\n1. Einziger Punkt\n\n"
                                "Mehr\n\n3. drei\n4. vier\n")[0::2]
    assert isinstance(one, ListBlock) and one.ordered and len(one.items) == 2
    assert isinstance(two, ListBlock) and two.items[0].parts[0].text == "Einziger Punkt"
    assert isinstance(three, ListBlock) and three.start == 3


# --- ' #' and ': ' inside front-matter values -------------------------------------------

def test_hashtag_in_a_front_matter_value_is_kept(ws):
    rel = _parse(ws, "---\ntitle: Aktionstag #StarkeMigrationsberatung   # the title\n"
                     "date: 2018-09-23  # YYYY-MM-DD\n"
                     "summary: Wir laden ein\n  zum #Aktionstag und zur #Beratung\n"
                     "location: #Essen\n---\nText\n")
    assert rel.title.text == "Aktionstag #StarkeMigrationsberatung"
    assert rel.summary.text == "Wir laden ein zum #Aktionstag und zur #Beratung"
    assert rel.location.text == "#Essen"
    assert rel.date.isoformat() == "2018-09-23"
    assert rel.lines["summary"] == 4 and rel.lines["location"] == 6


def test_colon_in_a_front_matter_value_is_kept(ws):
    rel = _parse(ws, "---\ntitle: Einladung: Tag der offenen Tür # title\ndate: 2018-09-23\n"
                     "summary: Programm: Führungen, Essen\n  und Musik: ab 14 Uhr\n"
                     "contact:\n  name: Leyla Demir\n  role: Presse: \"Team\" \\ Web\n---\nText\n")
    assert rel.title.text == "Einladung: Tag der offenen Tür"
    assert rel.summary.text == "Programm: Führungen, Essen und Musik: ab 14 Uhr"
    assert rel.contact.role.text == 'Presse: "Team" \\ Web'
    assert rel.lines["contact"] == 6


def test_yaml_comments_with_a_space_stay_comments(ws):
    rel = _parse(ws, "---\ntitle: Titel # required\ndate: 2018-09-23 # YYYY-MM-DD\n---\nText\n")
    assert rel.title.text == "Titel"


def test_front_matter_that_cannot_be_repaired_names_line_and_quoting(ws):
    with pytest.raises(ReleaseError) as err:
        _parse(ws, "---\ntitle: Titel\ndate: 2018-09-23\nsummary: [Liste: offen\n---\nText\n")
    assert err.value.line == 4 and "quotes" in str(err.value)


# --- typed line breaks ----------------------------------------------------------------------

CONTACT_LIST = ("- Leyla Demir\n  Tel. 0201 1234567\n  presse@verbund.example.org\n"
                "- Pavel Nowak\\\n  Vorstand\n")


def test_lines_of_a_list_item_stay_lines(ws):
    (lst,) = _body(ws, CONTACT_LIST)
    first, second = (item.parts[0] for item in lst.items)
    assert first.text == "Leyla Demir<1/>Tel. 0201 1234567<2/>presse@verbund.example.org"
    assert [t.kind for t in first.tags] == ["br", "br"]
    assert to_text(first, []) == "Leyla Demir\nTel. 0201 1234567\npresse@verbund.example.org"
    assert to_html(first) == "Leyla Demir<br>Tel. 0201 1234567<br>presse@verbund.example.org"
    assert second.text == "Pavel Nowak<1/>Vorstand"


def test_hard_breaks_in_paragraphs_and_soft_wrapping(ws):
    hard, soft = _body(ws, "Erste Zeile\\\nzweite Zeile  \ndritte Zeile\n\nein langer\nSatz\n")
    assert to_text(hard.text, []) == "Erste Zeile\nzweite Zeile\ndritte Zeile"
    assert soft.text.text == "ein langer Satz"  # a single newline in a paragraph is a space


def test_a_translation_must_keep_the_line_breaks(ws):
    from newsletter.translation.checks import check_translation

    (lst,) = _body(ws, CONTACT_LIST)
    seg = lst.items[0].parts[0]
    assert check_translation(seg, "Leyla Demir<1/>Tel. 0201 1234567<2/>presse@verbund.example.org"
                             ) == []
    problems = check_translation(seg, "Leyla Demir, Tel. 0201 1234567<2/>"
                                      "presse@verbund.example.org")
    assert problems == ["missing <1/>"]


def test_catalog_says_which_tags_are_line_breaks(ws):
    from newsletter.translation.catalog import extract_release, pot_path, read_catalog

    rel = _parse(ws, FRONT + CONTACT_LIST)
    extract_release(rel, ws)
    pot = read_catalog(pot_path(ws, rel.id))
    entry = next(m for m in pot if m.id and m.id.startswith("Leyla"))
    assert entry.auto_comments == ["list item", "<1/> <2/>: line breaks"]
    assert next(m for m in pot if m.id == "Pavel Nowak<1/>Vorstand").auto_comments == [
        "list item", "<1/>: line break"]


def _render(ws, rel, lang="de"):
    from newsletter.render.renderer import Renderer, relative_asset_url
    from newsletter.translation.editions import build_edition

    return Renderer(ws, relative_asset_url(ws.build_dir)).render(build_edition(rel, ws, lang))


def test_line_breaks_in_the_rendered_edition(ws):
    out = _render(ws, _parse(ws, FRONT + CONTACT_LIST))
    assert ("- Leyla Demir\n  Tel. 0201 1234567\n  presse@verbund.example.org\n"
            "- Pavel Nowak\n  Vorstand\n") in out.text
    assert "Leyla Demir<br>Tel. 0201 1234567<br>presse@verbund.example.org" in out.html


# --- tables -----------------------------------------------------------------------------------

TABLE = ("Programm:\n\n| Uhrzeit | Programm | Eintritt |\n|:--|---|--:|\n"
         "| 10:00 | Begrüßung durch *Muhammet Balaban* | frei |\n| 14:00 | Beratung | 5 € |\n"
         "| 16:00 | | |\n")


def test_table_cells_are_translation_units(ws):
    from newsletter.content.release import Table

    rel = _parse(ws, FRONT + TABLE)
    table = rel.blocks[1]
    assert isinstance(table, Table) and table.line == 7
    assert [c.text for c in table.header] == ["Uhrzeit", "Programm", "Eintritt"]
    assert table.aligns == ("left", "", "right")
    assert table.rows[0][1].text == "Begrüßung durch <1>Muhammet Balaban</1>"
    assert table.row_lines == (9, 10, 11)
    units = [(u.context, u.segment.text, u.block_type, u.line) for u in rel.units()][2:]
    assert units[:4] == [("table header", "Uhrzeit", "table header", 7),
                         ("table header", "Programm", "table header", 7),
                         ("table header", "Eintritt", "table header", 7),
                         ("table cell", "10:00", "table cell", 9)]
    assert ("table cell", "", "table cell", 11) not in units  # empty cells are not units
    assert len(units) == 3 + 6 + 1


def test_table_in_html_and_plain_text(ws):
    out = _render(ws, _parse(ws, FRONT + TABLE))
    assert '<table class="data" dir="ltr"' in out.html
    assert "<th" in out.html and 'scope="col"' in out.html
    assert "Begrüßung durch <em>Muhammet Balaban</em>" in out.html
    table = out.html.split('class="data"')[1].split("</table>")[0]
    assert 'role="presentation"' not in table and 'align="right"' in table
    assert ("Uhrzeit | Programm                         | Eintritt\n"
            "--------+----------------------------------+---------\n"
            "10:00   | Begrüßung durch Muhammet Balaban |     frei\n"
            "14:00   | Beratung                         |      5 €\n"
            "16:00   |                                  |\n") in out.text


def test_a_wide_table_becomes_records_in_plain_text():
    from newsletter.render.tables import text_table

    text = text_table(["Ort", "Beschreibung"], [["Verbundhaus", "lang " * 20], ["Raum 2", ""]],
                      ["", ""])
    assert text.startswith("Ort: Verbundhaus\nBeschreibung: lang lang")
    assert text.endswith("\n\nOrt: Raum 2")
    assert max(len(line) for line in text.splitlines()) <= 72


def test_catalogs_with_tables_and_line_breaks_pass_msgfmt(ws):
    import subprocess

    from newsletter.translation.catalog import extract_release
    from tests.conftest import require_msgfmt

    rel = _parse(ws, FRONT + TABLE + "\n" + CONTACT_LIST)
    for result in extract_release(rel, ws):
        run = subprocess.run([require_msgfmt(), "-c", "-o", "/dev/null", str(result.path)],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
