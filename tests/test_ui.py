from __future__ import annotations

from newsletter.catalog import pot_path, read_catalog
from newsletter.ui import DOMAIN, load_ui, ui_template


def test_messages_pot_is_up_to_date_with_the_templates(ws):
    fresh = {(m.context, m.id) for m in ui_template(ws) if m.id}
    committed = {(m.context, m.id) for m in read_catalog(pot_path(ws, DOMAIN), prose=False)
                 if m.id}
    assert fresh == committed, "run 'newsletter extract --ui' and translate the new strings"
    assert ("", "Unsubscribe") in {(c or "", i) for c, i in fresh}


def test_every_language_has_complete_reviewed_ui_strings(ws):
    expected = {"de": "Abmelden", "en": "Unsubscribe", "tr": "Abonelikten çıkın",
                "ar": "إلغاء الاشتراك"}
    for lang in ws.config.languages.all:
        tr = load_ui(ws, lang)
        assert tr.gettext("Unsubscribe")
        if lang in expected:
            assert tr.gettext("Unsubscribe") == expected[lang]
        if lang != "en":
            assert tr.gettext("Press contact") != "Press contact", lang


def test_ui_placeholders_survive_translation(ws):
    for lang in ws.config.languages.all:
        tr = load_ui(ws, lang)
        out = tr.gettext("%(place)s, %(date)s") % {"place": "P", "date": "D"}
        assert "P" in out and "D" in out
