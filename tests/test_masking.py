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


@pytest.mark.parametrize("protected", [
    "0 23 07 / 96 52 72", "(0201) 123 45-67", "+49 201 88-0", "0201 1234567", "0201/123456",
    "+49 (0)201 123 45 67", "www.verbund.example.org", "www.example.org/presse/2018",
    "23.08.2018", "1.9.2018", "2018-08-23", "17:30", "17:30–19:00",
])
def test_german_press_text_is_protected_and_comes_back(protected):
    text = f"Infos: {protected}, danach mehr."
    m = mask(text)
    assert m.originals == (protected,), m.originals
    assert m.text == "Infos: [X1X], danach mehr."
    assert unmask(m.text.replace("[X1X]", "[X 1 X]"), m) == text


@pytest.mark.parametrize(("text", "originals"), [
    # the time is protected; "Uhr" stays for the engine, or Turkish would read "17–19 Uhr'de"
    ("Beginn 17–19 Uhr im Saal", ("17–19",)),
    ("um 17:30 Uhr.", ("17:30",)),
    ("von 17.30 bis 19 Uhr", ("17.30", "19")),
    ("von 9 - 12 Uhr", ("9 - 12",)),
    ("am 3.10. geschlossen", ("3.10.",)),
    ("Tel. 0201 / 8 51 65-0, Fax 0201 / 8 51 65-20", ("0201 / 8 51 65-0", "0201 / 8 51 65-20")),
    ("Am 23.08.2018 um 17:30 Uhr, Tel. (0201) 123 45-67 oder www.example.org.",
     ("23.08.2018", "17:30", "(0201) 123 45-67", "www.example.org")),
])
def test_times_dates_phones_in_a_sentence(text, originals):
    m = mask(text)
    assert m.originals == originals
    assert unmask(m.text, m) == text


@pytest.mark.parametrize("text", [
    "70 Vereine in 45329 Essen", "rund 10 000 Menschen", "0,5 Prozent", "Seite 17–19",
    "am 23. August 2018", "KD 11/13", "2017 und 2018", "Saal 0", "1.500 Gäste",
    "17,30 Euro", "https://www.example.org/x", "01067 Dresden", "Version 2.0.1",
])
def test_ordinary_numbers_stay_translatable(text):
    m = mask(text)
    assert all(o.startswith("https://") for o in m.originals), m.originals
