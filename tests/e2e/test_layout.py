"""The sign-up, unsubscribe and preferences pages as Chromium lays them out in Arabic,
Farsi and Kurmanji, on a desktop and on a phone: form controls start where the
reading direction starts (mirrored in Arabic and Farsi), a checkbox stands before
its label, nothing is wider than the screen, and the Latin name of the organisation
in the consent sentence keeps the period of its "e.V." after the "V" (and so does the
confirmation mail, in a mail client that drops dir).

With NEWSLETTER_SCREENSHOTS=<folder> each page is saved there as a PNG as well, for
a person to look at (glyphs, wrapping), e.g. NEWSLETTER_SCREENSHOTS=/tmp/e2e-shots.
"""

from __future__ import annotations

import re

import pytest

from newsletter.app.pages import open_pages
from tests.e2e.browsing import follow, html_lang_dir, screenshot, unsubscribe_url, workspace

LISTED = "layla.mansour@example.org"  # members.csv: ar, youth among her tags
WIDTHS = {"desktop": 1000, "phone": 360}
# the controls a reader fills in or presses: each alone on its line
CONTROLS = ("main input[type=email], main input[type=text]:not(#website), main select,"
            " main input[type=checkbox], main p > button:only-child")

# Controls whose start edge (right in a right-to-left block) is not at the start of
# their line box, as "selector: offset in px"; empty when all are in place.
MISPLACED = """(selector) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.parentElement.getBoundingClientRect();
    const style = getComputedStyle(el.parentElement);
    const rect = el.getBoundingClientRect();
    const rtl = style.direction === "rtl";
    const start = rtl ? box.right - parseFloat(style.paddingRight)
                      : box.left + parseFloat(style.paddingLeft);
    const margin = parseFloat(getComputedStyle(el)[rtl ? "marginRight" : "marginLeft"]);
    const offset = rtl ? start - (rect.right + margin) : (rect.left - margin) - start;
    if (Math.abs(offset) > 1) out.push(`${el.id || el.tagName}: ${offset}`);
  }
  return out;
}"""

# Whether the consent's label text begins on the far side of its checkbox (after it
# in reading order).
BOX_FIRST = """() => {
  const box = document.querySelector("#consent").getBoundingClientRect();
  const label = document.querySelector("label[for=consent]");
  const first = label.getClientRects()[0];
  return getComputedStyle(label).direction === "rtl" ? first.right <= box.left + 1
                                                      : first.left >= box.right - 1;
}"""

# Where the "V" and the "." of the first "e.V." inside ``root`` stand; null if none.
E_V = """(root) => {
  const walker = document.createTreeWalker(document.querySelector(root),
                                           NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf("e.V.");
    if (at < 0) continue;
    const rect = (start) => {
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, start + 1);
      const r = range.getClientRects()[0];
      return {left: r.left, right: r.right, top: r.top};
    };
    return {v: rect(at + 2), dot: rect(at + 3)};
  }
  return null;
}"""


def _assert_period_after_v(page, root: str, where: str) -> None:
    """A Latin "e.V." in right-to-left text: without isolation its period is taken
    for Arabic punctuation and stands at the far (left) end of the Latin run."""
    found = page.evaluate(E_V, root)
    assert found is not None, f"{where}: no 'e.V.' in {root}"
    v, dot = found["v"], found["dot"]
    assert dot["top"] == v["top"] and abs(dot["left"] - v["right"]) <= 1, (
        f"{where}: the period of 'e.V.' is not after the 'V': {found}")


def _check_layout(page, name: str, lang: str) -> None:
    """At each width: the page's direction, its controls, its width; and a screenshot."""
    rtl = lang in ("ar", "fa")
    assert html_lang_dir(page) == (lang, "rtl" if rtl else "ltr"), name
    for size, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        where = f"{name}, {lang}, {size}"
        assert page.locator(CONTROLS).count() >= 1, where
        assert page.evaluate(MISPLACED, CONTROLS) == [], where
        overflow = page.evaluate("() => document.documentElement.scrollWidth"
                                 " - document.documentElement.clientWidth")
        assert overflow <= 0, f"{where}: {overflow}px wider than the screen"
        if name == "subscribe":
            assert page.evaluate(BOX_FIRST), f"{where}: the consent box is not before its text"
            _assert_period_after_v(page, "label[for=consent]", where)
        screenshot(page, f"{name}-{lang}-{size}")


@pytest.mark.parametrize("lang", ["ar", "fa", "ku"])
def test_reader_pages_follow_the_reading_direction_on_desktop_and_phone(browser, live, lang):
    base, root = live
    ws = workspace(root)
    page = browser.new_page()
    page.goto(f"{base}subscribe?lang={lang}")
    _check_layout(page, "subscribe", lang)
    page.goto(f"{unsubscribe_url(base, ws, LISTED)}&lang={lang}")
    _check_layout(page, "unsubscribe", lang)
    page.goto(f"{follow(page, page.locator('main a'))}&lang={lang}")
    assert page.locator("#topic-youth").is_checked()  # the right reader's page
    _check_layout(page, "preferences", lang)
    page.close()


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_the_confirmation_mail_keeps_the_organisations_name_whole(browser, ws, lang):
    mail = open_pages(ws).confirmation_mail(lang, "https://verbund.example.org/c?t=1",
                                            "https://verbund.example.org/u?t=2")
    name = ws.config.organization.full_name
    assert "\u2068" + name.split()[0] in mail.text  # the text part: isolates alone
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    # as sent; then as Gmail and others show it, dir dropped from every span
    for html in (mail.html, re.sub(r'<span dir="(?:ltr|auto)">', "<span>", mail.html)):
        page.set_content(html)
        _assert_period_after_v(page, "body > p", f"confirmation mail, {lang}")
    page.close()


def test_the_layout_check_sees_a_control_on_the_wrong_side(browser):
    """The check can fail: a right-to-left page with a stylesheet that aligns left."""
    page = browser.new_page()
    page.set_content('<html lang="ar" dir="rtl"><body style="width:600px"><main><form>'
                     '<p style="direction:ltr"><select id="x"><option>العربية</option>'
                     '</select></p><p style="text-align:left"><input type="email" id="y">'
                     "</p></form></main></body></html>")
    found = page.evaluate(MISPLACED, CONTROLS)  # x: left to right on purpose, in place
    assert len(found) == 1 and found[0].startswith("y: "), found
    page.close()
