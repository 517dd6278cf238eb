"""Right-to-left editions in a real browser, as mail clients that drop <bdi> show them.

The Arabic and Farsi editions of tests/rtl_example.py are rendered, every ``<bdi>``
becomes a ``<span>`` (what Gmail, Outlook, Yahoo, GMX and WEB.DE do), and Chromium
lays the page out; JavaScript then measures where each digit group of a phone
number and of a date stands. Left-to-right runs must read left to right. A second
pass also drops ``dir`` from every span, leaving only the Unicode isolates.

With NEWSLETTER_SCREENSHOTS=<folder> the test saves a screenshot of each edition there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from newsletter.render.renderer import Renderer, personalize, relative_asset_url
from newsletter.translation.editions import build_edition
from tests.rtl_example import DATE, PHONE, write_rtl_release

# a run and its groups in reading order: each must stand to the right of the one before
RUNS = [
    (PHONE, ["0", "23", "07", "/", "9", "24", "88", "77"]),
    ("+49 201 88-0", ["+49", "201", "88", "0"]),
    (DATE, ["23", "08", "2018"]),
    ("Karl-Denkhaus-Straße 11", ["Karl", "Denkhaus", "Straße", "11"]),
    ("#StarkeMigrationsberatung", ["#", "Starke", "Migrations"]),
    ("https://verbund.example.org/aktionstag/", ["https", "verbund", "aktionstag", "/"]),
]

# For a run, the left edge of each group, from the first visible text node that contains it.
MEASURE = """([run, groups]) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(run);
    if (at < 0 || node.parentElement.getClientRects().length === 0) continue;  // hidden
    let offset = at;
    return groups.map((group) => {
      const start = node.data.indexOf(group, offset);
      offset = start + group.length;
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, offset);
      const rects = range.getClientRects();
      return rects.length === 1 ? rects[0].left : null;  // null: broken over two lines
    });
  }
  return "not found";
}"""


def _edition_html(ws, lang: str) -> str:
    release = write_rtl_release(ws)
    edition = build_edition(release, ws, lang)
    assert edition.language.code == lang
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(edition)
    html = personalize(out.html, {"greeting": out.greetings.html("Leyla Demir"),
                                  "why": out.whys.html(),
                                  "view_online_url": "https://verbund.example.org/online",
                                  "unsubscribe_url": "https://verbund.example.org/ab"},
                       html=True)
    return re.sub(r"<(/?)bdi\b", r"<\1span", html)


def _assert_left_to_right(page, where: str) -> None:
    for run, groups in RUNS:
        lefts = page.evaluate(MEASURE, [run, groups])
        assert lefts != "not found", f"{run!r} not on the page ({where})"
        assert None not in lefts, f"{run!r} broken over two lines ({where})"
        found = dict(zip(groups, lefts, strict=True))
        assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts), (
            f"{run!r} does not read left to right ({where}): {found}")


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_left_to_right_runs_stand_in_order_without_bdi(browser, ws, lang):
    html = _edition_html(ws, lang)
    assert "<bdi" not in html
    page = browser.new_page(viewport={"width": 700, "height": 900})
    page.set_content(html)
    _assert_left_to_right(page, f"{lang}, <bdi> replaced by <span>")
    shots = os.environ.get("NEWSLETTER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"bidi-{lang}.png"), full_page=True)
    # a client that also drops dir= on spans: the Unicode isolates alone keep the order
    page.set_content(re.sub(r'<span dir="(?:ltr|auto)">', "<span>", html))
    _assert_left_to_right(page, f"{lang}, spans without dir")
    page.close()


def test_the_measurement_sees_a_reversed_phone_number(browser):
    """Without isolation the groups of a phone number in Arabic text come out reversed."""
    page = browser.new_page()
    page.set_content(f'<p dir="rtl" style="width:600px">اتصلوا على {PHONE} الآن</p>')
    lefts = page.evaluate(MEASURE, [PHONE, ["0", "23", "07"]])
    assert lefts[0] > lefts[1] > lefts[2]
    page.close()


# the example news with an event and two contacts (issue 12, point 2): in the event box
# and the contacts, addresses, phone numbers and times keep their groups in order
EVENT_RUNS = [
    ("0201 123 45-68", ["0201", "123", "45", "68"]),
    ("+49 201 1234567", ["+49", "201", "1234567"]),
    ("Karl-Denkhaus-Straße 11, 45329 Essen", ["Karl", "11", "45329", "Essen"]),
    ("KD 11/13", ["KD", "11", "13"]),
    ("beratung@verbund.example.org", ["beratung", "verbund", "org"]),
    ("18:00", ["18", "00"]),
]


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_the_event_box_and_contacts_keep_left_to_right_runs_in_order(browser, ws, lang):
    from newsletter.content.parser import load_release

    release = load_release(ws.releases_dir / "2018-08-30-vereinsberatung.md", ws.root)
    edition = build_edition(release, ws, lang)
    assert edition.language.code == lang
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(
        edition, calendar_url=f"{lang}.ics")
    html = personalize(out.html, {"greeting": out.greetings.html(""), "why": out.whys.html(),
                                  "view_online_url": "https://verbund.example.org/online",
                                  "unsubscribe_url": "https://verbund.example.org/ab"},
                       html=True)
    assert "<bdi" not in html
    page = browser.new_page(viewport={"width": 700, "height": 900})
    runs = [r for r in EVENT_RUNS if r[0] != "18:00" or lang == "fa"]  # ar: "6:00 م"
    for content in (html, re.sub(r'<span dir="(?:ltr|auto)">', "<span>", html)):
        page.set_content(content)
        for run, groups in runs:
            lefts = page.evaluate(MEASURE, [run, groups])
            assert lefts != "not found" and None not in lefts, (run, lefts)
            assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts), (run, lefts)
    page.close()
