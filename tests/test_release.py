from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.content.parser import load_release, parse_release
from newsletter.content.release import Figure, Heading, ListBlock, Paragraph, Quote
from newsletter.errors import ReleaseError
from tests.conftest import EXAMPLE_RELEASE


def _parse(ws, text: str, name: str = "test-release"):
    path = ws.root / "releases" / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return load_release(path, ws.root)


GOOD_FRONT = "---\ntitle: Titel\ndate: 2018-08-23\n---\n"


def test_example_release_parses_into_typed_blocks(ws):
    rel = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    assert rel.id == EXAMPLE_RELEASE
    assert rel.kind == "press"
    assert rel.date.isoformat() == "2018-08-23"
    assert rel.contact and rel.contact.name == "Leyla Demir"
    assert rel.image and rel.image.path.is_file() and rel.image.alt.text
    kinds = [type(b) for b in rel.blocks]
    assert kinds.count(Heading) == 4
    assert Quote in kinds and ListBlock in kinds and Paragraph in kinds
    first = rel.blocks[0]
    assert isinstance(first, Paragraph)
    assert first.line == 22  # file line numbers, front matter included
    assert "<1>KD 11/13</1>" in first.text.text
    assert first.text.tags[0].kind == "strong"
    link_par = rel.blocks[-1]
    assert link_par.text.tags[0].href == "https://verbund.example.org/"
    assert "https://" not in link_par.text.text  # link targets stay outside the msgid


def test_units_follow_document_order_and_roles(ws):
    rel = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    units = list(rel.units())
    assert [u.context for u in units[:8]] == [
        "title", "category", "summary", "location", "contact role", "alt", "caption", "kicker"]
    assert all(u.context is None for u in units[8:])
    assert {u.block_type for u in units[8:]} == {"paragraph", "heading", "quotation", "list item"}
    lines = [u.line for u in units]
    assert lines == sorted(lines)


def test_inline_markup_becomes_numbered_pseudo_tags(ws):
    rel = _parse(ws, GOOD_FRONT + "Ein *kurzer* Text mit [Link](https://example.org \"T\"),"
                 " `code` und **fett**  \nneue Zeile.\n")
    seg = rel.blocks[0].text
    assert seg.text == ("Ein <1>kurzer</1> Text mit <2>Link</2>, <3/> und <4>fett</4><5/>"
                        "neue Zeile.")
    assert [t.kind for t in seg.tags] == ["em", "link", "code", "strong", "br"]
    assert seg.tags[1].title == "T" and seg.tags[2].code == "code"


def test_lists_nested_and_ordered(ws):
    rel = _parse(ws, GOOD_FRONT + "3. eins\n4. zwei\n   - innen\n")
    block = rel.blocks[0]
    assert isinstance(block, ListBlock) and block.ordered and block.start == 3
    assert [(i.parts[0].text, i.depth) for i in block.items] == [
        ("eins", 0), ("zwei", 0), ("innen", 1)]


def test_figure_from_image_paragraph(ws):
    rel = _parse(ws, GOOD_FRONT + '![Zwei Personen](images/2018-08-23-unterzeichnung.png "Bei der'
                 ' Unterzeichnung")\n')
    fig = rel.blocks[0]
    assert isinstance(fig, Figure)
    assert fig.image.alt.text == "Zwei Personen"
    assert fig.image.caption and fig.image.caption.text == "Bei der Unterzeichnung"


def test_raw_html_stays_text(ws):
    rel = _parse(ws, "---\ntitle: <script>alert(1)</script>\ndate: 2018-08-23\n---\n"
                 "<div onclick=x>Block</div>\n\nText <img src=x onerror=alert(1)> hier.\n")
    assert rel.title.text == "<script>alert(1)</script>"
    texts = [b.text.text for b in rel.blocks]
    assert texts == ["<div onclick=x>Block</div>", "Text <img src=x onerror=alert(1)> hier."]
    assert all(not b.text.tags for b in rel.blocks)


def test_javascript_links_are_not_links(ws):
    rel = _parse(ws, GOOD_FRONT + "[klick](javascript:alert(1))\n")
    assert rel.blocks[0].text.tags == ()


def test_identical_blocks_share_text(ws):
    rel = _parse(ws, GOOD_FRONT + "Gleich.\n\nAnders.\n\nGleich.\n")
    assert [b.text.text for b in rel.blocks] == ["Gleich.", "Anders.", "Gleich."]


def test_no_break_spaces_survive(ws):
    rel = _parse(ws, GOOD_FRONT + "20\u00a0% der   Vereine\n")
    assert rel.blocks[0].text.text == "20\u00a0% der Vereine"


CONTACTS = "---\ntitle: x\ndate: 2018-08-23\ncontacts:\n  - name: A\n"  # contacts[1] on line 6
EVENT = "---\ntitle: x\ndate: 2018-08-23\nevent:\n  start: 2018-09-04 18:00\n"  # next: line 6


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Kein Front Matter\n", 1, "starts with YAML front matter"),
        ("---\ntitle: x\ndate: 2018-08-23\n", 1, "never closed"),
        ("---\ndate: 2018-08-23\n---\nText\n", 1, "missing front-matter key 'title'"),
        ("---\ntitle: x\n---\nText\n", 1, "missing front-matter key 'date'"),
        ("---\ntitle: x\ndate: 23.08.2018\n---\n", 3, "bad date '23.08.2018'"),
        ("---\ntitle: x\ndate: 2018-02-30\n---\n", 3, "bad date"),
        ("---\ntitle: x\ndate: 2018-08-23\ntitel: y\n---\n", 4, "unknown front-matter key 'titel'"),
        ("---\ntitle: x\ndate: 2018-08-23\nkind: blog\n---\n", 4, "kind must be one of"),
        ("---\ntitle: x\ndate: 2018-08-23\nimage:\n  path: images/fehlt.png\n  alt: a\n---\n", 4,
         "image file not found: images/fehlt.png"),
        ("---\ntitle: x\ndate: 2018-08-23\nimage:\n  path: ../../../etc/passwd\n  alt: a\n---\n",
         4, "leaves the workspace"),
        ("---\ntitle: x\ndate: 2018-08-23\nimage:\n  path: images/2018-08-23-unterzeichnung.png\n"
         "---\n", 4, "image.alt is required"),
        # errors in nested fields name the field's own line
        ("---\ntitle: x\ndate: 2018-08-23\ncontact:\n  name: A\n  fax: 1\n---\n", 6,
         "unknown key contact.fax"),
        ("---\ntitle: x\ndate: 2018-08-23\ncontact:\n  name: A\n  email: 'a@b.org\" x=\"'\n---\n",
         6, "contact.email"),
        # several contacts (issue 12, point 2)
        (CONTACTS + "  - name: B\n    telefon: 1\n---\n", 7,
         "unknown key contacts[1].telefon (allowed: name, role, organization, organisation,"),
        (CONTACTS + "  - role: Presse\n---\n", 6, "missing front-matter key 'contacts[1].name'"),
        (CONTACTS + "  - name: B\n    web: ftp://x.example.org\n---\n", 7, "contacts[1].web"),
        (CONTACTS + "  - name: B\n    email: nobody\n---\n", 7, "contacts[1].email 'nobody'"),
        (CONTACTS + "  - B\n---\n", 6, "contacts[1] must be a mapping"),
        ("---\ntitle: x\ndate: 2018-08-23\ncontacts: Leyla Demir\n---\n", 4,
         "'contacts' must be a list"),
        ("---\ntitle: x\ndate: 2018-08-23\ncontact:\n  name: A\ncontacts:\n  - name: B\n---\n",
         6, "either 'contact' (one) or 'contacts' (a list)"),
        # an event
        ("---\ntitle: x\ndate: 2018-08-23\nevent:\n  title: Fest\n  end: 2018-09-04 20:00\n---\n",
         4, "event.start is missing"),
        (EVENT + "  end: 2018-09-04 17:30\n---\n", 6,
         "event.end (2018-09-04 17:30) is before event.start (2018-09-04 18:00)"),
        (EVENT + "  end: 2018-09-03\n---\n", 6, "both have a time, or both be dates"),
        (EVENT + "  end: 04.09.2018 20:00\n---\n", 6, "event.end: bad date or time"),
        ("---\ntitle: x\ndate: 2018-08-23\nevent:\n  start: morgen\n---\n", 5,
         "event.start: bad date or time 'morgen'"),
        (EVENT + "  ort: Essen\n---\n", 6, "unknown key event.ort (allowed: title, start, end,"),
        (EVENT + "  url: javascript:alert(1)\n---\n", 6, "event.url"),
        ("---\ntitle: x\ndate: 2018-08-23\nevent: 2018-09-04\n---\n", 4,
         "event must be a mapping"),
        ("---\ntitle: x\ndate: 2018-08-23\nkicker:\n  - a\n---\n", 4, "'kicker' must be text"),
        ("---\ntitle: x\ndate: 2018-08-23\nembargo: 2018-08-23 10:00\n---\n", 4,
         "embargo needs a UTC offset"),
        ("---\ntitle: [x\ndate: 2018-08-23\n---\n", 3, "not valid YAML"),
        ("---\ntitle: x\ndate: 2018-08-23\n---\n\nText\n\n![](images/fehlt.png)\n", 8,
         "image needs alt text"),
        ("---\ntitle: x\ndate: 2018-08-23\n---\n\nText\n\n![Bild](images/fehlt.png)\n", 8,
         "image file not found"),
        ("---\ntitle: x\ndate: 2018-08-23\n---\nText <1>x</1>\n", 5, "reserved for markup"),
        ("---\ntitle: Ein <2/> Titel\ndate: 2018-08-23\n---\n", 2, "reserved for markup"),
    ],
)
def test_broken_release_names_file_and_line(ws, text, line, message):
    with pytest.raises(ReleaseError) as info:
        _parse(ws, text, name="broken")
    err = info.value
    assert err.path and err.path.name == "broken.md"
    assert err.line == line, str(err)
    assert message in err.message
    assert str(err).startswith(f"{err.path}:{line}: ")


def test_embargo_is_an_aware_datetime(ws):
    rel = _parse(ws, "---\ntitle: x\ndate: 2018-08-23\nembargo: 2018-08-23T10:00:00+02:00\n---\n")
    assert rel.embargo is not None and rel.embargo.utcoffset() is not None


def test_bad_file_name_is_refused(ws):
    with pytest.raises(ReleaseError, match="file name"):
        parse_release(GOOD_FRONT, path=ws.root / "releases" / "bad name!.md",
                      workspace_root=ws.root)


def test_broken_fixture_files(ws):
    data = Path(__file__).parent / "data" / "releases"
    for src in sorted(data.glob("*.md")):
        with pytest.raises(ReleaseError) as info:
            _parse(ws, src.read_text(encoding="utf-8"), name=src.stem)
        expected = src.read_text(encoding="utf-8").splitlines()[-1].removeprefix("<!-- expect: ")
        assert expected.removesuffix(" -->") in str(info.value), src.name
