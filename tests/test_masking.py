from __future__ import annotations

import re

import pytest

from newsletter.content.segments import Segment, Tag
from newsletter.translation.checks import check_translation, numbers
from newsletter.translation.masking import MaskError, load_glossary, mask, unmask

GLOSSARY = ("Essener Verbund der Immigrantenvereine", "Essen", "KD 11/13")


def test_round_trip_with_everything_protected():
    text = ("Der Essener Verbund der Immigrantenvereine in Essen (KD 11/13): <1>Mail</1> an "
            "presse@verbund.example.org, https://verbund.example.org/a?b=1. Tel. +49 201 1234567"
            " oder 0049 201 765432<2/>")
    m = mask(text, GLOSSARY)
    assert "Essen" not in m.text and "@" not in m.text and "http" not in m.text
    assert "<1>" not in m.text and "+49" not in m.text
    assert "Immigrantenvereine" not in m.text
    assert unmask(m.text, m) == text


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace("[X1X]", "[X 1 X]"),
    lambda t: t.replace("[X1X]", "[x1x]"),
    lambda t: t.replace("[X2X]", "[ X2X ]"),
])
def test_tolerated_engine_habits(mangle):
    m = mask("Lies <1>das</1> jetzt.")
    assert unmask(mangle(m.text), m) == "Lies <1>das</1> jetzt."


@pytest.mark.parametrize(("mangle", "problem"), [
    (lambda t: t.replace("[X1X]", ""), "lost <1>"),
    (lambda t: t + " [X2X]", "doubled </1>"),
    (lambda t: t + " [X9X]", "invented token(s) [X9X]"),
    (lambda t: t.replace("[X1X]", "[X2X]").replace("[X2X]", "[X1X]", 0), "lost <1>"),
])
def test_adversarial_outputs_are_refused(mangle, problem):
    m = mask("Lies <1>das</1> jetzt.")
    with pytest.raises(MaskError, match=re.escape(problem)):
        unmask(mangle(m.text), m)


def test_url_keeps_trailing_punctuation_outside():
    m = mask("Siehe https://example.org/x.")
    assert m.originals == ("https://example.org/x",) and m.text.endswith("[X1X].")


def test_glossary_file(tmp_path):
    path = tmp_path / "glossary.txt"
    path.write_text("# comment\nEssen\nEssener Verbund  # the long one wins\n\nEssen\n")
    assert load_glossary(path) == ("Essener Verbund", "Essen")
    assert load_glossary(tmp_path / "missing.txt") == ()
    m = mask("Essener Verbund in Essen, nicht Essenszeit", load_glossary(path))
    assert m.originals == ("Essener Verbund", "Essen")


def test_checks_numbers_urls_identity_and_length():
    seg = Segment("Am 23. August 2018 unterschrieben 70 Vereine in 45329 Essen, "
                  "siehe https://example.org/a.", ())
    ok = "في ٢٣ أغسطس ۲۰۱۸ وقّعت 70 جمعية في 45329 إيسن، انظر https://example.org/a."
    assert check_translation(seg, ok) == []
    bad = check_translation(seg, "Am 23. August unterschrieben viele Vereine in Essen.")
    assert any("number(s) missing: 70, 2018, 45329" in p for p in bad)
    assert any("URL https://example.org/a is missing" in p for p in bad)
    assert any("identical to the source" in p for p in check_translation(seg, seg.text))
    long = Segment("Die Mitgliedsvereine unterscheiden sich nach Herkunft und Zielgruppen.")
    assert any("length 0.1 times" in p for p in check_translation(long, "Kurz."))
    assert check_translation(long, "Member clubs differ by origin and target groups.") == []
    assert numbers("10.000 und 10 000 und 1,5") == numbers("10000 10000 1 5")
    tagged = Segment("Lies <1>das</1>.", (Tag(1, "em"),))
    assert check_translation(tagged, "Oku.") == ["missing <1>…</1>"]
