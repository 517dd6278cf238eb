from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import html5lib
import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.publish.archive import build_archive
from tests.conftest import EXAMPLE_RELEASE
from tests.htmlshape import elements

ATOM = "{http://www.w3.org/2005/Atom}"
LANGS = ("de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")


@pytest.fixture
def site(ws):
    return build_archive(ws, ws.root / "site", now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))


def _check_html(path):
    parser = html5lib.HTMLParser(strict=True)  # raises on any parse error
    parser.parse(path.read_bytes())


def test_pages_for_every_language_with_lang_dir_and_alternates(ws, site):
    root = site.root
    for code in ("de", "en", "tr", "ar", "ru", "uk", "pl"):
        page = root / EXAMPLE_RELEASE / f"{code}.html"
        html = page.read_text(encoding="utf-8")
        direction = "rtl" if code == "ar" else "ltr"
        assert f'<html lang="{code}" dir="{direction}">' in html
        alternates = [a for t, a in elements(html) if t == "link" and a.get("hreflang")]
        assert {a["hreflang"] for a in alternates} == {"de", "en", "tr", "ar", "ru", "uk", "pl",
                                                       "x-default"}
        assert all(a["href"].startswith("https://verbund.example.org/newsletter/") for a in
                   alternates)
        assert "العربية" in html and "Türkçe" in html  # switcher with native names
        _check_html(page)
    # fa and ku have no page of their own: their readers are sent to en and de
    assert not (root / EXAMPLE_RELEASE / "fa.html").exists()
    assert (root / "releases" / "images" / "2018-08-23-unterzeichnung.png").exists()


def test_x_default_alternate_is_the_source_language_page(ws, site):
    base = "https://verbund.example.org/newsletter/"
    for page, target in ((f"{EXAMPLE_RELEASE}/ar.html", f"{EXAMPLE_RELEASE}/de.html"),
                         (f"{EXAMPLE_RELEASE}/de.html", f"{EXAMPLE_RELEASE}/de.html"),
                         ("tr/index.html", "de/index.html"), ("fa/index.html", "de/index.html")):
        html = (site.root / page).read_text(encoding="utf-8")
        defaults = [a for t, a in elements(html)
                    if t == "link" and a.get("hreflang") == "x-default"]
        assert [(a["rel"], a["href"]) for a in defaults] == [("alternate", base + target)], page


def test_index_and_feed_per_language(ws, site):
    for code in LANGS:
        index = site.root / code / "index.html"
        _check_html(index)
        feed = ET.parse(site.root / code / "feed.xml").getroot()  # noqa: S314 - ours
        assert feed.tag == f"{ATOM}feed"
        entries = feed.findall(f"{ATOM}entry")
        assert len(entries) == 3
        assert entries[0].find(f"{ATOM}updated").text.startswith("2018-08-30")
    fa = (site.root / "fa" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fa" dir="rtl">' in fa and "به زبان English" in fa
    feed = ET.parse(site.root / "ar" / "feed.xml").getroot()  # noqa: S314
    link = feed.find(f"{ATOM}entry/{ATOM}link").get("href")
    assert link.startswith("https://verbund.example.org/newsletter/")


def test_embargoed_release_waits_for_its_time(ws):
    path = ws.releases_dir / f"{EXAMPLE_RELEASE}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "kind: press\n", "kind: press\nembargo: 2018-08-23T10:00:00+02:00\n"), encoding="utf-8")
    early = build_archive(ws, ws.root / "site", now=dt.datetime(2018, 8, 23, 7, tzinfo=dt.UTC))
    assert early.embargoed == (EXAMPLE_RELEASE,)
    assert not (ws.root / "site" / EXAMPLE_RELEASE).exists()
    assert EXAMPLE_RELEASE not in (ws.root / "site" / "de" / "feed.xml").read_text()
    later = build_archive(ws, ws.root / "site", now=dt.datetime(2018, 8, 23, 9, tzinfo=dt.UTC))
    assert later.embargoed == () and (ws.root / "site" / EXAMPLE_RELEASE / "de.html").exists()
    # a removed release leaves the site with the next build
    (ws.releases_dir / "2018-08-09-sprachcafe.md").unlink()
    build_archive(ws, ws.root / "site", now=dt.datetime(2018, 8, 23, 9, tzinfo=dt.UTC))
    assert not (ws.root / "site" / "2018-08-09-sprachcafe").exists()
    assert [p.name for p in ws.root.iterdir() if p.name.startswith(".site")] == []


def test_archive_escapes_everything(ws):
    (ws.releases_dir / "evil.md").write_text(
        "---\ntitle: '<script>alert(1)</script>'\ndate: 2018-08-02\n"
        "summary: '<img src=x onerror=alert(2)>'\n---\n\n<iframe src=x></iframe> Text\n",
        encoding="utf-8")
    result = build_archive(ws, ws.root / "site", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    for path in [*result.pages]:
        for tag, attrs in elements(path.read_text(encoding="utf-8")):
            assert tag not in ("script", "iframe"), (path, tag)
            assert not [a for a in attrs if a.startswith("on")], (path, attrs)
    feed = (ws.root / "site" / "de" / "feed.xml").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in feed
    _check_html(ws.root / "site" / "evil" / "de.html")


def test_cli_archive(ws_root, tmp_path):
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "archive"])
    assert result.exit_code == 0, result.output
    assert "page(s) and 9 feed(s) written to site/" in result.output
    # --out is the operator's choice: anywhere they can write
    elsewhere = tmp_path / "published"
    outside = CliRunner().invoke(cli, ["--workspace", str(ws_root), "archive", "--out",
                                       str(elsewhere)])
    assert outside.exit_code == 0, outside.output
    assert (elsewhere / "de" / "feed.xml").is_file()
