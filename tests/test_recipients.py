from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.audience.lists import merge, read_list
from newsletter.errors import RecipientError

DATA = Path(__file__).parent / "data" / "recipients"


def test_semicolon_list_with_every_kind_of_problem():
    lf = read_list("broken", DATA / "broken.csv")
    problems = {p.origin.line: p.reason for p in lf.problems}
    assert problems == {
        3: "invalid email address 'kein-at-zeichen.example.org': "
           "An email address must have an @-sign.",
        4: "missing email address",
        5: "language: unknown language code 'xx' (not in Babel's CLDR data)",
        6: "consent_at: '31.02.2018' is not a date (YYYY-MM-DD, or DD.MM.YYYY)",
        7: "name: contains a line break",
        9: "2 fields where the header has 7",
        10: "tags: '<b>' is not a tag (letters, digits, '-', '_')",
    }
    assert str(lf.problems[0]).startswith(f"{DATA / 'broken.csv'}:3: ")
    assert [r.email for r in lf.recipients] == ["gut@example.org", "GUT@example.org"]


def test_comma_list_with_bom_crlf_and_quoted_tags():
    lf = read_list("b", DATA / "bom-comma.csv")
    assert not lf.problems
    first, second = lf.recipients
    assert first.email == "A.Person@example.org"  # domain normalised, local part kept
    assert first.tags == {"youth", "women"} and first.language == "ar"
    assert second.language == "" and second.name == ""


def test_duplicates_across_lists_and_letter_case_are_one_person(tmp_path):
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("email,name,language,tags\nAyse@Example.org,Ayşe,tr,board\n", encoding="utf-8")
    b.write_text("email;name;language;tags\nayse@example.org;;de;youth\nx@example.org;X;;\n",
                 encoding="utf-8")
    merged = merge([read_list("a", a), read_list("b", b)])
    assert len(merged.recipients) == 2
    ayse = merged.recipients[0]
    assert ayse.lists == ("a", "b") and ayse.tags == {"board", "youth"}
    assert ayse.language == "tr" and ayse.name == "Ayşe"
    assert merged.notes and "asks for 'de'" in merged.notes[0]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"", 1, "empty file"),
        (b"name,language\nx,de\n", 1, "no 'email' column"),
        (b"email,telefon\na@example.org,0201\n", 1, "unknown column(s) 'telefon'"),
        (b"E-Mail;Email\na@example.org;b@example.org\n", 1, "appears twice"),
        (b"email,email\na@example.org,b@example.org\n", 1, "appears twice"),
        (b"email,name\na@example.org,J\xfcrgen\nb@example.org,\x81\n", 3,
         "neither UTF-8 nor Windows-1252"),
    ],
)
def test_unreadable_lists_name_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "l.csv"
    path.write_bytes(content)
    with pytest.raises(RecipientError) as info:
        read_list("l", path)
    assert info.value.line == line and message in info.value.message


def test_example_lists_are_valid_and_fictional(ws):
    files = [read_list(n, p) for n, p in ws.config.lists.items()]
    for f in files:
        assert not f.problems, f.problems
        for r in f.recipients:
            assert r.email.rsplit(".", 1)[0].endswith(("example", ".example")), r.email
            assert r.email.split("@")[1].split(".")[-2] == "example"
    members = files[0].recipients
    assert 20 <= len(members) <= 30
    assert {r.language for r in members} == {"de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku"}
    assert any("youth" in r.tags for r in members) and any("board" in r.tags for r in members)
    press = next(f for f in files if f.name == "press").recipients
    assert all(r.outlet and r.beat for r in press)


def test_broken_fixture_rows_are_not_in_the_example_lists(ws):
    examples = {r.email.casefold() for n, p in ws.config.lists.items()
                for r in read_list(n, p).recipients}
    assert "gut@example.org" not in examples and "tag@example.org" not in examples


def test_excel_export_in_windows_1252_with_german_headers_is_read_and_says_so():
    lf = read_list("verein", DATA / "excel-1252.csv")
    assert not lf.problems, lf.problems
    mueller, haddad, silva, korkmaz, redaktion = lf.recipients
    assert mueller.name == "Jürgen Müller" and mueller.language == "de"
    assert mueller.organization == "Förderverein Straße (Beispiel)"
    assert mueller.consent_source == "Mitgliedsantrag, Beitrag 12 €"
    assert mueller.consent_at == "2018-03-14" and mueller.tags == {"vorstand"}
    assert haddad.language == "ar" and silva.language == "pt_BR"
    assert korkmaz.organization == "Türk Veliler Derne?i (Beispiel)"
    assert redaktion.outlet == "Ruhrblick (Beispiel)" and redaktion.beat == "Lokales"
    assert redaktion.language == "de" and redaktion.name == "Grüße Redaktion"
    path = DATA / "excel-1252.csv"
    assert lf.notes[0] == f"{path}: read as Windows-1252, not UTF-8 (an Excel export)"
    # Excel writes '?' for letters Windows-1252 lacks: say where, so someone can fix them
    assert lf.notes[1].startswith(f"{path}:5: 'Ay?e Korkmaz' has '?'")
    assert len(lf.notes) == 2
    assert merge([lf]).notes == lf.notes


@pytest.mark.parametrize("header", ["E-Mail", "Email", "E-Mail-Adresse", " e-mail-adresse ",
                                    "EMAIL", "E-Mail Adresse", "email"])
def test_email_column_in_the_ways_offices_name_it(tmp_path, header):
    path = tmp_path / "l.csv"
    path.write_text(f"{header};Sprache\na@example.org;TR\n", encoding="utf-8")
    lf = read_list("l", path)
    assert [(r.email, r.language) for r in lf.recipients] == [("a@example.org", "tr")]
    assert not lf.notes


def test_german_headers_map_to_our_columns(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("E-Mail,Name,Sprache,Tags,Organisation,Medium,Ressort,Einwilligung,"
                    "Einwilligungsdatum\nj@example.org,Jana,de,print,Org,Blatt,Kultur,Karte,"
                    "2018-01-02\nk@example.org,Kai,de,,,,,Karte,14.3.2018\n", encoding="utf-8")
    jana, kai = read_list("l", path).recipients
    assert (jana.name, jana.tags, jana.organization, jana.outlet, jana.beat,
            jana.consent_source, jana.consent_at) == (
        "Jana", {"print"}, "Org", "Blatt", "Kultur", "Karte", "2018-01-02")
    assert kai.consent_at == "2018-03-14"  # German Excel writes dates day first


@pytest.mark.parametrize(("code", "expected"), [("AR", "ar"), ("De", "de"), ("pt_br", "pt_BR"),
                                                ("PT-BR", "pt_BR"), ("de-at", "de_AT"),
                                                ("sr_latn", "sr_Latn"), ("ckb", "ckb")])
def test_language_codes_in_any_letter_case(tmp_path, code, expected):
    path = tmp_path / "l.csv"
    path.write_text(f"email,language\na@example.org,{code}\n", encoding="utf-8")
    assert read_list("l", path).recipients[0].language == expected


def test_recipients_check_warns_about_languages_the_workspace_does_not_offer(ws_root):
    from click.testing import CliRunner

    from newsletter.cli import cli
    (ws_root / "recipients" / "press.csv").write_text(
        "E-Mail;Sprache\na@example.org;ES\nb@example.org;de_AT\nc@example.org;es\n"
        "d@example.org;pt_BR\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "recipients", "check"])
    assert result.exit_code == 0, result.output
    press = ws_root / "recipients" / "press.csv"
    assert (f"warning: {press}:2: language 'es' is not a workspace language: 2 people "
            "(lines 2, 4) get the source language, de") in result.output
    assert f"warning: {press}:5: language 'pt_BR' is not a workspace language" in result.output
    assert "'de_AT' is not" not in result.output  # reads the German edition, as de
    assert "All lists are valid." in result.output


def test_recipients_check_says_how_a_list_was_read(ws_root):
    from newsletter.app.people import list_summary
    from newsletter.workspace.loading import load_workspace
    (ws_root / "recipients" / "press.csv").write_bytes(
        (DATA / "excel-1252.csv").read_bytes())
    summary = list_summary(load_workspace(ws_root))
    assert any("read as Windows-1252, not UTF-8" in n for n in summary.notes)
    assert any("'pt_BR' is not a workspace language" in w for w in summary.warnings)
