"""The application layer called directly: no click, no servers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newsletter.app import mailing, people, translation
from newsletter.app.workspace import find_release, list_releases, target_codes
from newsletter.errors import LanguageError, RecipientError, ReleaseError
from tests.conftest import EXAMPLE_RELEASE


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "app-secret-" + "a" * 30)


def test_releases_by_id_or_path_and_listed(ws):
    assert find_release(ws, EXAMPLE_RELEASE).id == EXAMPLE_RELEASE
    assert find_release(ws, f"releases/{EXAMPLE_RELEASE}.md").id == EXAMPLE_RELEASE
    with pytest.raises(ReleaseError, match="no release 'nope'"):
        find_release(ws, "nope")
    assert EXAMPLE_RELEASE in [r.id for r in list_releases(ws)]


def test_language_codes_are_normalised_and_checked_in_one_place(ws):
    assert target_codes(ws, ("tr", "ar")) == ("tr", "ar")
    with pytest.raises(LanguageError, match="not a target language"):
        target_codes(ws, ("de",), targets_only=True)


def test_plan_send_report_and_forget_return_data(ws):
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, mailing.MailingOptions(lists=("press",)))
    assert plan.planned.rehearsal == "outbox" and len(plan.planned.plan) == 8
    result = mailing.send(ws, plan)
    assert result.delivered == 8 and result.run.counts["sent"] == 8
    rep = mailing.report(ws, plan.planned.campaign)
    assert len(rep.rows) == 8 and rep.counts["sent"] == 8
    gone = people.forget(ws, "J.Becker@essener-lokalanzeiger.example.com")
    assert gone.rows == 1 and len(gone.files) == 1 and gone.in_lists == ["recipients/press.csv:2"]


def test_suppressions_and_list_summary(ws):
    assert people.suppress(ws, ("a@example.org",)) == [("a@example.org", True)]
    assert people.suppress(ws, ("A@example.org",)) == [("A@example.org", False)]
    assert [s.email for s in people.suppressions(ws)] == ["a@example.org"]
    assert people.unsuppress(ws, ("a@example.org",)) == [("a@example.org", True)]
    with pytest.raises(RecipientError, match="not an email address"):
        people.suppress(ws, ("nope",))
    summary = people.list_summary(ws)
    assert {c.name: c.valid for c in summary.lists}["press"] == 8 and not summary.problems


def test_status_and_previews(ws, tmp_path):
    (st,) = translation.status(ws, (EXAMPLE_RELEASE,))
    assert {c.language for c in st.languages} >= {"tr", "ar", "fa"}
    done = translation.preview(ws, EXAMPLE_RELEASE, ("fa",), tmp_path / "out")
    assert done.files[0].edition.language.code == "en"  # fa falls back to en
    assert (tmp_path / "out" / EXAMPLE_RELEASE / "fa.html").is_file()


def test_importing_the_core_changes_nothing_process_wide():
    """A long-running server imports the core: no patched libraries, no environment."""
    code = ("import os, requests.adapters as a; orig = a.HTTPAdapter.send;"
            "import newsletter.app.mailing, newsletter.app.translation, newsletter.cli;"
            "assert a.HTTPAdapter.send is orig, 'requests patched at import';"
            "assert 'PREMAILER_CACHE_MAXSIZE' not in os.environ, 'environment changed'")
    env = {k: v for k, v in os.environ.items() if k != "PREMAILER_CACHE_MAXSIZE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


def test_send_through_an_in_memory_transport(ws):
    from newsletter.delivery.transports.base import REJECTED, Outcome
    from newsletter.delivery.transports.memory import MemoryTransport

    bad = "l.wagner@ruhrblick-online.example.com"

    def handler(item):
        return Outcome(item.recipient_id, REJECTED, "550 no") if item.email == bad else None

    memory = MemoryTransport(handler)
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE,
                                mailing.MailingOptions(lists=("press",), transport="smtp"))
    result = mailing.send(ws, plan, transport=memory)
    messages = memory.messages()
    assert len(messages) == 7 and bad not in messages
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in next(iter(messages.values()))
    assert [r.email for r in result.run.rejected_now] == [bad]
    assert result.run.counts["sent"] == 7 and result.run.counts["rejected"] == 1


def test_plan_reasons_carry_a_code_and_parameters(ws):
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, mailing.MailingOptions(lists=("members",)))
    reasons = {a.reason.code: a.reason for a in plan.planned.plan if a.reason}
    fa = reasons["fallback"]
    assert fa.params["edition"] in ("en", "de") and str(fa).startswith(fa.params["reader"])
    (passed,) = [p for p in fa.params["passed"] if p.params["language"] == fa.params["reader"]]
    assert passed.code == "passed_over"
    assert passed.params["problems"][0].code == "untranslated"
    assert passed.params["problems"][0].params == {"missing": 24, "total": 25}


def test_unsubscribe_by_recipient_id_is_idempotent(ws):
    from newsletter.delivery.keys import load_address_key

    key = load_address_key(ws.state_dir)
    rid = people.address_id(key, "l.wagner@ruhrblick-online.example.com")
    assert people.unsubscribe_recipient(ws, rid, source="test") is True
    assert people.unsubscribe_recipient(ws, rid, source="test") is False
    assert [s.reason for s in people.suppressions(ws)] == ["unsubscribe"]


@pytest.mark.parametrize("retention", ["keep", "delete"])
def test_forget_keeps_the_consent_trail_only_as_configured(ws_root, retention):
    from newsletter.delivery import subscribers
    from newsletter.delivery.keys import load_address_key
    from newsletter.delivery.ledger import open_ledger
    from newsletter.workspace.loading import load_workspace

    cfg = ws_root / "newsletter.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "trusted_proxies =", f'consent_after_erasure = "{retention}"\ntrusted_proxies ='),
        encoding="utf-8")
    ws = load_workspace(ws_root)
    key = people.address_id(load_address_key(ws.state_dir), "new@example.org")
    with open_ledger(ws.state_dir) as ledger:
        subscribers.add_pending(ledger, key, "new@example.org", "Neu", "tr", ("youth",))
        subscribers.record_consent(ledger, key, "signup", ip="127.0.0.1", form="subscribe")
    people.forget(ws, "new@example.org")
    with open_ledger(ws.state_dir) as ledger:
        assert subscribers.subscriber(ledger, key) is None
        trail = subscribers.consent_trail(ledger, key)
    assert [e.event for e in trail] == (["signup"] if retention == "keep" else [])
    state = b"".join(p.read_bytes() for p in ws.state_dir.rglob("*") if p.is_file())
    assert b"new@example.org" not in state
