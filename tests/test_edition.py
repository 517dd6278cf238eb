from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from newsletter.content.parser import load_release
from newsletter.errors import LanguageError
from newsletter.translation.catalog import po_path, write_catalog
from newsletter.translation.editions import FALLBACK, SOURCE, TRANSLATED, build_edition, coverage
from tests.conftest import EXAMPLE_RELEASE


@pytest.fixture
def release(ws):
    return load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)


def _edit_po(ws, lang, change):
    path = po_path(ws, EXAMPLE_RELEASE, lang)
    cat = read_po(path.open("rb"))
    change(cat)
    write_catalog(path, cat)


def test_reviewed_languages_get_their_own_edition(ws, release):
    for lang in ("en", "tr", "ar", "ru", "uk", "pl"):
        ed = build_edition(release, ws, lang)
        assert ed.status == TRANSLATED and ed.language.code == lang
        assert ed.release.title.text != release.title.text
        assert not ed.reasons
    assert build_edition(release, ws, "de").status == SOURCE


def test_untranslated_languages_follow_their_fallback_chain(ws, release):
    fa = build_edition(release, ws, "fa")
    assert fa.status == FALLBACK and fa.language.code == "en"  # fa = ["en"] in the config
    assert fa.requested.code == "fa" and fa.requested.direction == "rtl"
    assert fa.reasons and "fa: 24 of 25 entries not translated" in fa.reasons[0]
    ku = build_edition(release, ws, "ku")
    assert ku.status == FALLBACK and ku.language.code == "de"
    assert ku.release.title == release.title


def test_one_fuzzy_entry_sends_the_whole_edition_down_the_chain(ws, release):
    def make_fuzzy(cat):
        next(m for m in cat if m.id and m.context is None).flags.add("fuzzy")

    _edit_po(ws, "tr", make_fuzzy)
    ed = build_edition(release, ws, "tr")
    assert ed.status == FALLBACK and ed.language.code == "de"
    assert "tr: 1 of 25 entries not reviewed" in ed.reasons[0]
    # no mixing: every block is German
    assert [b for b in ed.release.blocks] == list(release.blocks)


def test_broken_pseudo_tags_count_as_not_publishable(ws, release):
    def drop_tag(cat):
        msg = next(m for m in cat if m.id and "<1>" in m.id)
        msg.string = msg.string.replace("<1>", "").replace("</1>", "")

    _edit_po(ws, "pl", drop_tag)
    cov = coverage(release, ws, "pl")
    assert not cov.publishable
    assert any("missing <1>…</1>" in p for p in cov.problems())
    assert build_edition(release, ws, "pl").language.code == "de"


def test_missing_catalog_is_named(ws, release):
    po_path(ws, EXAMPLE_RELEASE, "uk").unlink()
    ed = build_edition(release, ws, "uk")
    assert ed.language.code == "de"
    assert "no catalog locales/uk/LC_MESSAGES/" in ed.reasons[0]


def test_unknown_reader_language_is_an_error(ws, release):
    with pytest.raises(LanguageError, match="not a language of this workspace"):
        build_edition(release, ws, "es")


def _set_policy(ws_root, lang, policy):
    path = ws_root / "newsletter.toml"
    text = path.read_text(encoding="utf-8").replace(
        '[languages.policy]\nku = "reviewed"', f'[languages.policy]\n{lang} = "{policy}"')
    path.write_text(text, encoding="utf-8")
    from newsletter.workspace.loading import load_workspace
    return load_workspace(ws_root)


def _draft_all(ws, lang):
    def fill(cat):
        for m in cat:
            if m.id:
                m.string = "ترجمة: " + m.id
                m.flags.add("fuzzy")
    _edit_po(ws, lang, fill)


def test_policy_reviewed_refuses_machine_drafts(ws, release):
    _draft_all(ws, "fa")
    cov = coverage(release, ws, "fa")
    assert cov.drafts == 25 and not cov.publishable
    assert build_edition(release, ws, "fa").language.code == "en"


def test_policy_machine_sends_drafts_with_a_notice(ws_root, release):
    ws = _set_policy(ws_root, "fa", "machine")
    _draft_all(ws, "fa")
    ed = build_edition(release, ws, "fa")
    assert ed.status == TRANSLATED and ed.language.code == "fa" and ed.machine
    assert ed.release.title.text.startswith("ترجمة: ")
    # still nothing half-translated: one missing entry sends the reader down the chain
    def empty_one(cat):
        next(m for m in cat if m.id).string = ""
    _edit_po(ws, "fa", empty_one)
    assert build_edition(release, ws, "fa").language.code == "en"


def test_reviewed_edition_under_machine_policy_has_no_notice(ws_root, release):
    ws = _set_policy(ws_root, "tr", "machine")
    ed = build_edition(release, ws, "tr")
    assert ed.status == TRANSLATED and not ed.machine
