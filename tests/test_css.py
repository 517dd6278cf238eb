"""The CSS inliner: style attributes, and presentational attributes only where HTML has them."""

from __future__ import annotations

import pytest

from newsletter.content.parser import load_release
from newsletter.publish import digest as digests
from newsletter.render.css import inline_css
from newsletter.render.renderer import Renderer, relative_asset_url
from newsletter.translation.editions import build_edition
from tests.conftest import EXAMPLE_RELEASE
from tests.htmlshape import elements

PAGE = """<!DOCTYPE html><html><head><style>
body { background-color: #eef1f4; }
td, p, li, ul, a, blockquote, h2 { text-align: right; vertical-align: top; }
.box { background-color: #f4f6f8; }
img.photo { width: 100%; height: auto; }
</style></head><body><table class="box" width="600"><tr><td class="box">
<h2>T</h2><p class="box">x <a href="https://example.org/">y</a></p>
<ul><li>z</li></ul><blockquote>q</blockquote>
<img class="photo" src="p.png" width="536" alt="">
</td></tr></table></body></html>"""


def _attrs(html: str) -> dict[str, dict[str, str | None]]:
    return {tag: a for tag, a in reversed(elements(html))}  # the first of each tag


def test_presentational_attributes_only_where_html_defines_them():
    got = _attrs(inline_css(PAGE))
    assert got["td"]["align"] == "right" and got["td"]["valign"] == "top"
    assert got["td"]["bgcolor"] == "#f4f6f8" and got["table"]["bgcolor"] == "#f4f6f8"
    assert got["body"]["bgcolor"] == "#eef1f4"
    assert got["p"]["align"] == "right" and got["h2"]["align"] == "right"
    for tag in ("li", "ul", "a", "blockquote", "img"):
        assert "align" not in got[tag] and "valign" not in got[tag], (tag, got[tag])
    assert "bgcolor" not in got["p"]  # no such attribute on a paragraph
    # the template's pixel width stays for Outlook; no height="auto", no width="100%"
    assert got["img"]["width"] == "536" and "height" not in got["img"]
    assert "width:100%" in got["img"]["style"] and "height:auto" in got["img"]["style"]
    assert got["table"]["width"] == "600"


@pytest.fixture
def release(ws):
    return load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_rendered_example_release(ws, release, lang):
    html = Renderer(ws, relative_asset_url(ws.build_dir)).render(
        build_edition(release, ws, lang)).html
    assert 'height="auto"' not in html
    for tag, a in elements(html):
        if tag in ("li", "ul", "ol", "a", "blockquote", "img", "span"):
            assert "align" not in a, (tag, a)
        if tag == "img":
            assert a["width"] == "536"
    side = "right" if lang == "ar" else "left"
    assert any(t == "td" and a.get("align") == side for t, a in elements(html))


def test_digest_table_of_contents_links_have_no_align(ws):
    found = digests.collect(ws, digests.parse_month("2018-08"))
    edition, items = digests.frame(found, ws, "ar")
    html = digests.prepare_digest(Renderer(ws, lambda p: p.name), ws, edition,
                                  items).rendered.html
    assert not [a for t, a in elements(html) if t in ("a", "li", "ol") and "align" in a]


def test_hidden_preheader_is_not_coloured_like_its_background(ws, release):
    # SpamAssassin's HTML_FONT_LOW_CONTRAST: text in the colour of the background is how
    # spam hides words. The preheader is hidden by display:none and mso-hide alone.
    html = Renderer(ws, relative_asset_url(ws.build_dir)).render(
        build_edition(release, ws, "de")).html
    tags = elements(html)
    body = next(a for t, a in tags if t == "body")
    pre = next(a for t, a in tags if t == "div" and a.get("class") == "preheader")
    assert "display:none" in pre["style"] and "mso-hide:all" in pre["style"]
    assert "color" not in pre["style"], pre["style"]
    background = body["bgcolor"]
    assert not [a for _, a in tags if f"color:{background}" in (a.get("style") or "")
                .replace("background-color:", "")]
