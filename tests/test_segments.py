from __future__ import annotations

import pytest

from newsletter.content.segments import (
    Segment,
    Tag,
    TagMismatch,
    check_tags,
    parse,
    to_html,
    to_text,
)
from newsletter.render.bidi import isolate_latin

TAGS = (Tag(1, "em"), Tag(2, "link", href="https://example.org/a?b=1&c=2"), Tag(3, "code",
                                                                             code="<x>"))


def test_translation_may_reorder_tags():
    seg = Segment("Lies <1>das</1> auf <2>der Seite</2> mit <3/>.", TAGS)
    tr = seg.with_text("<2>Sayfada</2> <1>bunu</1> oku: <3/>.")
    html = to_html(tr)
    assert html == ('<a href="https://example.org/a?b=1&amp;c=2">Sayfada</a> <em>bunu</em> oku: '
                    '<code dir="ltr">&lt;x&gt;</code>.')


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<1>a</1> <2>b</2>", "missing <3/>"),
        ("<1>a</1> <2>b</2> <3/> <3/>", "used twice"),
        ("<1>a <2>b</1></2> <3/>", "closes a tag that is not open"),
        ("<1>a</1> <2>b <3/>", "never closed"),
        ("<1>a</1> <2>b</2> <3/> <4>x</4>", "unknown tag <4>"),
        ("<1/> <2>b</2> <3/>", "needs </1>"),
        ("<1>a</1> <2>b</2> <3>c</3>", "must be written <3/>"),
    ],
)
def test_broken_tags_are_reported(text, problem):
    problems = check_tags(text, TAGS)
    assert problems and problem in problems[0]
    with pytest.raises(TagMismatch):
        parse(text, TAGS)


def test_text_is_escaped_and_links_checked():
    seg = Segment('<script>alert(1)</script> "x" <1>y</1>', (Tag(1, "link", href="javascript:x"),))
    html = to_html(seg)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript" not in html and "href" not in html


def test_plain_text_numbers_links():
    seg = Segment("See <1>here</1> and <2>there</2>, again <3>here</3>.", (
        Tag(1, "link", href="https://a.example.org/"), Tag(2, "link", href="https://b.example.org/"),
        Tag(3, "link", href="https://a.example.org/")))
    links: list[str] = []
    assert to_text(seg, links) == "See here [1] and there [2], again here [1]."
    assert links == ["https://a.example.org/", "https://b.example.org/"]


def test_plain_property_drops_tags():
    assert Segment("A <1>b</1> <2/>", (Tag(1, "strong"), Tag(2, "code", code="c"))).plain == "A b c"


ISO, END = '<span dir="ltr">\u2066', "\u2069</span>"


def test_latin_runs_are_isolated_in_rtl_text():
    html = isolate_latin("في KD 11/13، شارع Karl-Denkhaus-Straße 11, 45329 Essen. اتحاد"
                         " (Essener Verbund e.V.) <b>")
    assert f"{ISO}KD 11/13{END}" in html
    assert f"{ISO}Karl-Denkhaus-Straße 11, 45329 Essen{END}." in html
    assert f"({ISO}Essener Verbund e.V.{END})" in html
    assert isolate_latin("في Verbund (Essen) هنا") == f"في {ISO}Verbund (Essen){END} هنا"
    assert f"&lt;{ISO}b{END}&gt;" in html  # still escaped
