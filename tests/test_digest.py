from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.content.parser import load_release
from newsletter.errors import ReleaseError
from newsletter.publish import digest as digests
from newsletter.render.renderer import Renderer
from newsletter.translation.catalog import extract_release, po_path, write_catalog

NEWS = "2018-08-09-sprachcafe"
TR = {
    "Sprachcafé im Verbundhaus startet nach den Sommerferien":
        "Birlik evindeki dil kafesi yaz tatilinden sonra başlıyor",
    "Beispielmeldung: Ab September lädt ein Sprachcafé jeden Mittwoch zum Deutschüben in "
    "entspannter Runde ein.":
        "Örnek haber: Eylül'den itibaren bir dil kafesi her çarşamba rahat bir ortamda Almanca "
        "pratik yapmaya davet ediyor.",
}


def _translate_news_to_turkish(ws):
    rel = load_release(ws.releases_dir / f"{NEWS}.md", ws.root)
    extract_release(rel, ws)
    path = po_path(ws, NEWS, "tr")
    cat = read_po(path.open("rb"))
    for msg in cat:
        if msg.id:  # example translations: real for title and summary, marked for the rest
            msg.string = TR.get(msg.id, "TR: " + msg.id)
    write_catalog(path, cat)


def test_items_follow_the_readers_language_one_by_one(ws):
    _translate_news_to_turkish(ws)
    po_path(ws, "2018-08-30-vereinsberatung", "tr").unlink()  # not translated yet: German
    found = digests.collect(ws, digests.parse_month("2018-08"))
    assert [r.id for r in found.releases] == [NEWS, "2018-08-30-vereinsberatung"]
    edition, items = digests.frame(found, ws, "tr")
    assert edition.release.title.text == "Ağustos 2018"
    assert items[0].edition.language.code == "tr" and not items[0].other_language
    assert items[1].edition.language.code == "de" and items[1].other_language
    assert items[1].url.endswith("2018-08-30-vereinsberatung/de.html")
    prepared = digests.prepare_digest(Renderer(ws, lambda p: p.name), ws, edition, items)
    html, text = prepared.rendered.html, prepared.rendered.text
    assert '<html lang="tr" dir="ltr">' in html and "İçindekiler" in html
    assert "Birlik evindeki dil kafesi" in html and "Neue Sprechstunde" in html
    assert "Deutsch dilinde" in html and "Devamını okuyun" in html
    assert "1. Birlik evindeki dil kafesi yaz tatilinden sonra başlıyor" in text
    assert prepared.view_online_url.endswith("/tr/index.html")


def test_arabic_frame_with_german_items(ws):
    found = digests.collect(ws, digests.parse_month("2018-08"))
    edition, items = digests.frame(found, ws, "ar")
    prepared = digests.prepare_digest(Renderer(ws, lambda p: p.name), ws, edition, items)
    html = prepared.rendered.html
    assert '<html lang="ar" dir="rtl">' in html and "المحتويات" in html
    assert 'class="item item-ltr" lang="de" dir="ltr"' in html
    assert "باللغة: Deutsch" in html


def test_embargoed_news_and_empty_months(ws):
    path = ws.releases_dir / f"{NEWS}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "kind: news\n", "kind: news\nembargo: 2018-09-01T00:00:00+02:00\n"), encoding="utf-8")
    found = digests.collect(ws, dt.date(2018, 8, 1), now=dt.datetime(2018, 8, 31, tzinfo=dt.UTC))
    assert found.embargoed == (NEWS,) and len(found.releases) == 1
    with pytest.raises(ReleaseError, match="no news releases for 2018-07"):
        digests.collect(ws, dt.date(2018, 7, 1))
    with pytest.raises(ReleaseError, match="YYYY-MM"):
        digests.parse_month("August")


def test_cli_digest_sends_one_newsletter_per_language(ws_root, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "digest-secret-" + "d" * 30)
    runner = CliRunner()
    dry = runner.invoke(cli, ["--workspace", str(ws_root), "digest", "2018-08", "--list",
                              "members", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Plan (dry run, nothing written)" in dry.output
    result = runner.invoke(cli, ["--workspace", str(ws_root), "digest", "2018-08", "--list",
                                 "members"])
    assert result.exit_code == 0, result.output
    campaign = next(line.split()[1].rstrip(":") for line in result.output.splitlines()
                    if line.startswith("Campaign "))
    files = list((ws_root / "outbox" / campaign).glob("*.eml"))
    assert len(files) == 25
    langs = {message_from_bytes(f.read_bytes(), policy=policy.default)["Content-Language"]
             for f in files}
    assert langs == {"de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku"}
    assert campaign.startswith("digest-2018-08-")


@pytest.mark.parametrize(("lang", "month", "heading"), [
    ("ru", "2018-05", "Май 2018"), ("ru", "2018-08", "Август 2018"),
    ("uk", "2018-08", "Серпень 2018"), ("pl", "2018-08", "Sierpień 2018"),
    ("ku", "2018-09", "Îlon 2018"), ("tr", "2018-08", "Ağustos 2018"),
    ("de", "2018-08", "August 2018"), ("ar", "2018-08", "أغسطس 2018"),
])
def test_month_heading_is_the_stand_alone_form_capitalised(lang, month, heading):
    # CLDR's stand-alone month is mid-sentence case ("май"); its contextTransforms say
    # titlecase-firstword where it stands alone, as in a heading. Babel lacks that data.
    assert digests.month_heading(digests.parse_month(month), lang) == heading


def test_the_digest_frame_uses_the_heading(ws):
    found = digests.collect(ws, digests.parse_month("2018-08"))
    edition, _ = digests.frame(found, ws, "ru")
    assert edition.release.title.text == "Август 2018"
