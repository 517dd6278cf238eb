"""Richer releases (issue 12, point 2): kicker and subtitle, several contacts, an event
with its .ics file, "About us" from newsletter.toml and the publisher line."""

from __future__ import annotations

import datetime as dt
import subprocess
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import icalendar
import pytest
from babel.messages.pofile import read_po

from newsletter.audience.selection import Selection
from newsletter.content.parser import load_release, parse_release
from newsletter.delivery.sending import SendRequest, plan_send, send
from newsletter.errors import LanguageError
from newsletter.publish.archive import build_archive
from newsletter.render.calendar import escape_text, event_ics, fold
from newsletter.render.renderer import Renderer, relative_asset_url
from newsletter.translation.about import CONTEXT as ABOUT_CONTEXT
from newsletter.translation.about import DOMAIN as ABOUT_DOMAIN
from newsletter.translation.about import about_template
from newsletter.translation.catalog import po_path, pot_path, read_catalog, write_catalog
from newsletter.translation.editions import build_edition
from newsletter.translation.uistrings import extract_ui, load_ui
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE, require_msgfmt

NEWS = "2018-08-30-vereinsberatung"
TARGETS = ("en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")
BERLIN = ZoneInfo("Europe/Berlin")
LRI, PDI = "\u2066", "\u2069"


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "rich-secret-" + "r" * 32)


def _release(ws, rid=NEWS):
    return load_release(ws.releases_dir / f"{rid}.md", ws.root,
                        timezone=ws.config.delivery.timezone)


def _render(ws, lang, rid=NEWS, calendar_url="x.ics"):
    edition = build_edition(_release(ws, rid), ws, lang)
    assert edition.language.code == lang
    return Renderer(ws, relative_asset_url(ws.build_dir)).render(edition,
                                                                 calendar_url=calendar_url)


def _parse(ws, front: str, timezone: str = "Europe/Berlin"):
    text = f"---\ntitle: Fest\ndate: 2018-08-23\n{front}---\n\nText.\n"
    return parse_release(text, path=ws.releases_dir / "fest.md", workspace_root=ws.root,
                         timezone=timezone)


# --- the release file ----------------------------------------------------------------------

def test_the_example_news_has_an_event_and_two_contacts(ws):
    rel = _release(ws)
    assert rel.subtitle and rel.subtitle.text.startswith("Jeden ersten Dienstag")
    first, second = rel.contacts
    assert rel.contact == first and first.name == "Leyla Demir"
    assert first.organization == "Essener Verbund der Immigrantenvereine e.V."
    assert (second.name, second.phone, second.web) == (
        "Tomasz Wiśniewski", "0201 123 45-68", "https://verbund.example.org/beratung")
    assert second.address == "Karl-Denkhaus-Straße 11, 45329 Essen"
    assert second.role and second.role.text == "Vereinsberatung"
    ev = rel.event
    assert ev.start == dt.datetime(2018, 9, 4, 18, 0, tzinfo=BERLIN)
    assert ev.end == dt.datetime(2018, 9, 4, 20, 0, tzinfo=BERLIN)
    assert ev.start.utcoffset() == dt.timedelta(hours=2)  # summer time in Essen
    assert ev.title.text == "Erste Sprechstunde für Vereinsvorstände"
    assert ev.venue.text == "KD 11/13 – Zentrum für Kooperation und Inklusion"
    assert ev.url == "https://verbund.example.org/sprechstunde" and not ev.all_day
    kicker = _release(ws, EXAMPLE_RELEASE).kicker
    assert kicker and kicker.text == "Partnerschaft mit der Stadt Essen"


def test_event_times_follow_the_workspace_time_zone(ws):
    rel = _parse(ws, "event:\n  start: 2018-09-04 18:00\n  end: 2018-09-04T23:30+00:00\n",
                 timezone="America/New_York")
    assert rel.event.start.utcoffset() == dt.timedelta(hours=-4)
    assert rel.event.end == dt.datetime(2018, 9, 4, 19, 30, tzinfo=ZoneInfo("America/New_York"))
    days = _parse(ws, "event:\n  start: 2018-09-22\n  end: 2018-09-23\n").event
    assert days.all_day and days.end == dt.date(2018, 9, 23)


def test_organisation_in_either_spelling_and_www_addresses(ws):
    rel = _parse(ws, "contacts:\n  - name: A\n    organisation: Elternverein (Beispiel)\n"
                     "    web: www.elternverein.example.org\n")
    (c,) = rel.contacts
    assert c.organization == "Elternverein (Beispiel)"
    assert c.web_url == "https://www.elternverein.example.org"


def test_new_fields_are_catalog_entries_with_their_role(ws):
    pot = read_po(pot_path(ws, NEWS).open("rb"))
    roles = {(m.context, m.id) for m in pot if m.id}
    assert ("subtitle", "Jeden ersten Dienstag im Monat im KD 11/13, für Mitgliedsvereine "
            "kostenlos") in roles
    assert ("event title", "Erste Sprechstunde für Vereinsvorstände") in roles
    assert ("venue", "KD 11/13 – Zentrum für Kooperation und Inklusion") in roles
    assert ("contact role", "Vereinsberatung") in roles
    assert ("kicker", "Partnerschaft mit der Stadt Essen") in {
        (m.context, m.id) for m in read_po(pot_path(ws, EXAMPLE_RELEASE).open("rb"))}
    for lang in TARGETS:  # reviewed in every language of the shipped catalogs
        cat = read_po(po_path(ws, NEWS, lang).open("rb"))
        for m in cat:
            if m.id:
                assert m.string and not m.fuzzy, (lang, m.id)
        kicker = read_po(po_path(ws, EXAMPLE_RELEASE, lang).open("rb")).get(
            "Partnerschaft mit der Stadt Essen", context="kicker")
        assert kicker.string and not kicker.fuzzy, lang


# --- the .ics file ------------------------------------------------------------------------

def _ics(ws, lang="de"):
    edition = build_edition(_release(ws), ws, lang)
    return event_ics(edition.release, domain="verbund.example.org", lang=lang,
                     stamp=dt.datetime(2018, 8, 30, 9, 15, tzinfo=dt.UTC),
                     url="https://verbund.example.org/newsletter/x/de.html")


def test_the_ics_file_parses_back(ws):
    data = _ics(ws)
    cal = icalendar.Calendar.from_ical(data)
    (event,) = cal.walk("VEVENT")
    assert cal["VERSION"] == "2.0" and cal["METHOD"] == "PUBLISH"
    assert str(event["UID"]) == f"{NEWS}@verbund.example.org"  # stable per release
    assert event["DTSTART"].dt == dt.datetime(2018, 9, 4, 16, 0, tzinfo=dt.UTC)
    assert event["DTEND"].dt == dt.datetime(2018, 9, 4, 18, 0, tzinfo=dt.UTC)
    assert event["DTSTAMP"].dt == dt.datetime(2018, 8, 30, 9, 15, tzinfo=dt.UTC)
    assert str(event["SUMMARY"]) == "Erste Sprechstunde für Vereinsvorstände"
    assert str(event["LOCATION"]) == ("KD 11/13 – Zentrum für Kooperation und Inklusion, "
                                      "Karl-Denkhaus-Straße 11, 45329 Essen")
    assert str(event["URL"]) == "https://verbund.example.org/sprechstunde"
    assert str(event["DESCRIPTION"]).startswith("Beispielmeldung: Der Verbund berät")
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never cuts a character in two


def test_the_arabic_ics_is_arabic_and_folds_between_characters(ws):
    data = _ics(ws, "ar")
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "الجلسة الاستشارية الأولى لمجالس إدارة الجمعيات"
    assert str(event["UID"]) == f"{NEWS}@verbund.example.org"  # the same event in every language
    assert b"SUMMARY;LANGUAGE=ar:" in data
    lines = data.split(b"\r\n")
    assert any(line.startswith(b" ") for line in lines)  # long Arabic text was folded
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")


def test_text_values_are_escaped_and_folded():
    assert escape_text('a,b;c\\d\ne') == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "ü" * 60
    folded = fold(line).split("\r\n")
    assert [len(part.encode()) <= 75 for part in folded] == [True] * len(folded)
    assert all(part.startswith(" ") for part in folded[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(folded)) == line


def test_whole_days_end_the_day_after(ws):
    rel = _parse(ws, "event:\n  title: Tag der offenen Tür; Fest, Musik\n  start: 2018-09-22\n"
                     "  end: 2018-09-23\n")
    data = event_ics(rel, domain="verbund.example.org", lang="de",
                     stamp=dt.datetime(2018, 9, 1, tzinfo=dt.UTC))
    assert b"DTSTART;VALUE=DATE:20180922\r\n" in data and b"DTEND;VALUE=DATE:20180924\r\n" in data
    assert b"SUMMARY;LANGUAGE=de:Tag der offenen T\xc3\xbcr\\; Fest\\, Musik\r\n" in data
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Tag der offenen Tür; Fest, Musik"
    assert event["DTEND"].dt == dt.date(2018, 9, 24)


# --- what readers see ------------------------------------------------------------------------

def test_the_german_edition_shows_every_new_part(ws):
    out = _render(ws, "de")
    html, text = out.html, out.text
    for shown in ("Jeden ersten Dienstag im Monat im KD 11/13", "Termin",
                  "Erste Sprechstunde für Vereinsvorstände",
                  "Dienstag, 4. September 2018, 18:00–20:00 Uhr", "Weitere Informationen",
                  "In den Kalender eintragen", "Kontakte", "Tomasz Wiśniewski",
                  "Vereinsberatung", "0201 123 45-68", "beratung@verbund.example.org",
                  "Über uns", "ist der Dachverband von mehr als"):
        assert shown in html, shown
        assert shown in " ".join(text.split()), shown
    assert 'href="x.ics"' in html and 'href="https://verbund.example.org/sprechstunde"' in html
    assert 'href="https://verbund.example.org/beratung"' in html
    publisher = ("Herausgegeben von Essener Verbund der Immigrantenvereine e.V., KD 11/13 – "
                 "Zentrum für Kooperation und Inklusion, Karl-Denkhaus-Straße 11, 45329 Essen")
    assert publisher in html and publisher in " ".join(text.split())
    press = _render(ws, "de", EXAMPLE_RELEASE).html
    assert press.index("Partnerschaft mit der Stadt Essen") < press.index("<h1")
    assert "Pressekontakt<" in press and "Termin" not in press  # one contact, no event


def test_right_to_left_editions_keep_addresses_phones_and_times_left_to_right(ws):
    for lang, when in (("ar", "من الساعة"), ("fa", "از ساعت")):
        out = _render(ws, lang)
        address = "Karl-Denkhaus-Straße 11, 45329 Essen"
        assert f'<span dir="ltr">{LRI}{address}{PDI}</span>' in out.html
        assert f'<span dir="ltr">{LRI}0201 123 45-68{PDI}</span>' in out.html
        assert f'<span dir="ltr">{LRI}+49 201 1234567{PDI}</span>' in out.html
        assert when in out.html and f"{LRI}2018{PDI}" in out.html  # digits isolated
        assert f"{LRI}{address}{PDI}" in out.text
        assert f"{LRI}0201 123 45-68{PDI}" in out.text
        assert "<bdi" not in out.html
    assert "اتحاد جمعيات المهاجرين في إيسن" in _render(ws, "ar").html  # About us, translated


def test_a_message_carries_the_ics_in_the_readers_language(ws_root, ws):
    rel = _release(ws)
    request = SendRequest(Selection(lists=("members",)), "outbox")
    planned = plan_send(ws, rel, request)
    send(ws, rel, request, planned)
    by_lang = {}
    for path in (ws_root / "outbox" / planned.campaign).glob("*.eml"):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        by_lang[msg["Content-Language"]] = msg
    msg = by_lang["ar"]
    assert msg.get_content_type() == "multipart/mixed"
    (ics,) = [p for p in msg.iter_attachments()]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "PUBLISH"
    assert ics.get_filename() == f"{NEWS}.ics"
    (event,) = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "الجلسة الاستشارية الأولى لمجالس إدارة الجمعيات"
    html = msg.get_body(("html",)).get_content()
    assert f"https://verbund.example.org/newsletter/{NEWS}/ar.ics" in html
    press = plan_send(ws, _release(ws, EXAMPLE_RELEASE), request)
    assert all(not e.release.event for e in press.plan.editions.values())


def test_the_archive_publishes_the_ics_beside_the_page(ws):
    out = ws.root / "site"
    build_archive(ws, out)
    cal = icalendar.Calendar.from_ical((out / NEWS / "tr.ics").read_bytes())
    (event,) = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Dernek yönetimleri için ilk danışma saati"
    page = (out / NEWS / "tr.html").read_text(encoding="utf-8")
    assert 'href="tr.ics"' in page and "Hakkımızda" in page
    assert not (out / EXAMPLE_RELEASE / "de.ics").exists()


# --- "About us": the association's own catalogs (domain 'about') ---------------------------

def test_about_us_is_reviewed_in_every_target_language_and_apart_from_the_ui_strings(ws):
    about = ws.config.organization.about
    assert about.startswith("Der Essener Verbund der Immigrantenvereine e.V. ist")
    committed = read_catalog(pot_path(ws, ABOUT_DOMAIN))
    assert [(m.context, m.id) for m in committed if m.id] == [(ABOUT_CONTEXT, about)]
    assert [(m.context, m.id) for m in about_template(ws) if m.id] == [(ABOUT_CONTEXT, about)]
    for lang in ws.config.languages.targets:
        msg = read_po(po_path(ws, ABOUT_DOMAIN, lang).open("rb")).get(about, context=ABOUT_CONTEXT)
        assert msg is not None and msg.string and not msg.fuzzy, lang
    # the source language needs no catalog: its text is the text itself
    assert not po_path(ws, ABOUT_DOMAIN, "de").exists()
    assert load_ui(ws, "de").pgettext(ABOUT_CONTEXT, about) == about
    assert load_ui(ws, "tr").pgettext(ABOUT_CONTEXT, about).startswith("Essener Verbund")


def test_an_edited_about_text_needs_its_translations_first(ws_root):
    path = ws_root / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("(Beispieltext)", "Über 20 % der Vereine sind Jugendvereine."),
                    encoding="utf-8")
    ws = load_workspace(ws_root)
    with pytest.raises(LanguageError, match="'about us' text of newsletter.toml has no reviewed"):
        load_ui(ws, "ar")
    # extract --ui carries the old translation over as a draft; a "%" in prose is no format
    # string (msgfmt -c accepts it)
    extract_ui(ws)
    about = ws.config.organization.about
    with pytest.raises(LanguageError, match="'about us' text"):
        load_ui(ws, "ar")  # a draft is not reviewed
    for lang in ws.config.languages.targets:
        po = po_path(ws, ABOUT_DOMAIN, lang)
        text = po.read_text(encoding="utf-8")
        entry = text[text.index('msgctxt "about us"') - 40:text.index('msgctxt "about us"')]
        assert "python-format" not in entry
        cat = read_catalog(po, locale=lang)
        msg = cat.get(about, context=ABOUT_CONTEXT)
        assert msg is not None and msg.fuzzy and msg.string, lang
        msg.string = about  # the reviewer's work, here a copy
        msg.flags.discard("fuzzy")
        write_catalog(po, cat)
        proc = subprocess.run([require_msgfmt(), "-c", "-o", "/dev/null", str(po)],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(
        build_edition(_release(ws), ws, "ar"))
    shown = " ".join(out.text.replace(LRI, "").replace(PDI, "").split())
    assert "Über 20 % der Vereine sind Jugendvereine." in shown
