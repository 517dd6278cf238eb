"""Check problems and plan reasons as codes: the command line keeps its English
sentences, the admin pages (templates/admin/_explain.html.j2) say every code in the
interface language, German included."""

from __future__ import annotations

import pytest
from markupsafe import escape

from newsletter import reasons
from newsletter.content.segments import TAG_CODES, Segment, Tag
from newsletter.reasons import Reason
from newsletter.render.adminpages import AdminPages
from newsletter.translation.checks import CHECK_CODES, check_translation

TAGGED = Segment("Lies <1>das</1> auf <2>der Seite</2> mit <3/>.",
                 (Tag(1, "em"), Tag(2, "link", href="https://example.org/"),
                  Tag(3, "code", code="x")))
PLAIN = Segment("Anmeldung bis 14. März unter https://verbund.example.org/anmeldung "
                "oder info@verbund.example.org, 2.000 Plätze.", ())

# (source, translation, the code of its first problem, the command line's sentence)
CASES = [
    (TAGGED, "<1>a</1> <2>b</2> <3/> <4>x</4>", "tag_unknown", "unknown tag <4>"),
    (TAGGED, "<1>a</1> <2>b</2> <3/> </1/>", "tag_malformed", "malformed tag </1/>"),
    (TAGGED, "<1>a</1> <2>b</2> <3>c</3>", "tag_self_closing", "tag 3 must be written <3/>"),
    (TAGGED, "<1/> <2>b</2> <3/>", "tag_needs_close", "tag 1 needs </1>"),
    (TAGGED, "<1>a</1> <2>b</2> <3/> <3/>", "tag_twice", "tag <3/> used twice"),
    (TAGGED, "<1>a <2>b</1></2> <3/>", "tag_not_open", "</1> closes a tag that is not open"),
    (TAGGED, "<1>a</1> <2>b <3/>", "tag_not_closed", "<2> is never closed"),
    (TAGGED, "<1>a</1> <2>b</2>", "tags_missing", "missing <3/>"),
    (PLAIN, "Kayıt 14 Mart'a kadar info@verbund.example.org, 2.000 yer.", "url_missing",
     "URL https://verbund.example.org/anmeldung is missing"),
    (PLAIN, "Kayıt 14 Mart'a kadar https://verbund.example.org/anmeldung, 2.000 yer.",
     "email_missing", "email address info@verbund.example.org is missing"),
    (PLAIN, "Kayıt Mart'a kadar https://verbund.example.org/anmeldung veya "
            "info@verbund.example.org.", "numbers_missing", "number(s) missing: 14, 2000"),
    (PLAIN, PLAIN.text, "identical", "identical to the source (not translated?)"),
    (PLAIN, "14 https://verbund.example.org/anmeldung info@verbund.example.org "
            "2.000 " + "çok uzun " * 80, "length_ratio",
     "length 7.1 times the source (truncated or padded?)"),
]


@pytest.fixture(scope="module")
def explain(tmp_path_factory):
    """The macros of _explain.html.j2, per interface language."""
    from newsletter.workspace.loading import load_workspace
    from tests.conftest import copy_workspace

    pages = AdminPages(load_workspace(copy_workspace(tmp_path_factory.mktemp("ws") / "ws")))
    return {lang: pages.env(lang).get_template("_explain.html.j2").make_module()
            for lang in ("en", "de")}


def _problem(source: Segment, translation: str) -> Reason:
    problems = check_translation(source, translation)
    assert problems, translation
    return problems[0]


@pytest.mark.parametrize(("source", "translation", "code", "english"), CASES,
                         ids=[c[2] for c in CASES])
def test_every_problem_has_a_code_and_keeps_the_command_lines_sentence(source, translation,
                                                                      code, english):
    problem = _problem(source, translation)
    assert (problem.code, str(problem)) == (code, english)


def test_the_cases_cover_every_code():
    assert {c[2] for c in CASES} == set(TAG_CODES) | set(CHECK_CODES)


@pytest.mark.parametrize(("source", "translation", "code", "english"), CASES,
                         ids=[c[2] for c in CASES])
def test_the_admin_pages_say_every_problem_in_their_language(explain, source, translation,
                                                             code, english):
    problem = _problem(source, translation)
    shown = {lang: str(m.problem(problem)) for lang, m in explain.items()}
    assert shown["en"] != str(escape(english))  # the code was known, not the fallback
    assert shown["de"] != shown["en"]  # and German has its own sentence
    for value in problem.params.values():  # the parameters are shown
        text = str(value) if code != "length_ratio" else "7,1"
        assert str(escape(text)) in shown["de"]


def test_an_unknown_code_shows_the_english_sentence(explain):
    odd = Reason("from_the_future", "a <new> problem")
    assert str(explain["de"].problem(odd)) == "a &lt;new&gt; problem"


# --- the send plan's "Why" (newsletter/reasons.py) -------------------------------------------

PASSED = reasons.passed_over("fa", (
    reasons.untranslated(3, 25), reasons.unreviewed(2, 25),
    reasons.fails_check(reasons.failing_entry("Seit 2000", Reason(
        "numbers_missing", "number(s) missing: 2000", numbers="2000")))))
PLAN_REASONS = [
    (reasons.no_language("de"), "keine Sprache angegeben: sie bekommen", "Deutsch"),
    (reasons.not_offered("it", "de"), "wird nicht angeboten: sie bekommen", "italiano"),
    (reasons.not_offered("xx", "de"), "wird nicht angeboten: sie bekommen", "xx"),
    (reasons.press_original("tr", "de"), "Journalisten, die", "Türkçe"),
    (reasons.fallback("fa", "en", (PASSED,)), "Leser von", "3 von 25 Einträgen nicht übersetzt; "
     "2 von 25 Einträgen nicht geprüft; „Seit 2000…“ besteht eine Prüfung nicht: Zahlen des "
     "Quelltexts fehlen: 2000."),
]


@pytest.mark.parametrize(("reason", "german", "detail"), PLAN_REASONS,
                         ids=[r[0].code + "-" + r[2][:6] for r in PLAN_REASONS])
def test_the_plans_reasons_are_said_in_the_interface_language(explain, reason, german, detail):
    shown = {lang: str(m.reason(reason)) for lang, m in explain.items()}
    assert german in shown["de"] and detail in shown["de"]
    assert shown["en"] != str(escape(str(reason)))  # not the command line's sentence
    assert "→" not in shown["de"] + shown["en"]


def test_the_command_line_keeps_its_reasons():
    assert str(reasons.fallback("fa", "en", (PASSED,))) == (
        "fa → en (fa: 3 of 25 entries not translated; 2 of 25 entries not reviewed; "
        "fails a check: 'Seit 2000': number(s) missing: 2000)")
