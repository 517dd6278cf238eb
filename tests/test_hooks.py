"""SendGrid's Event Webhook and Inbound Parse, posted to the hooks over Starlette's test
client: batches signed here with a P-256 key made here, as SendGrid signs them."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook
from starlette.applications import Starlette
from starlette.testclient import TestClient

from newsletter.app import hooks as app_hooks
from newsletter.app import people
from newsletter.delivery import webhooks
from newsletter.delivery.keys import load_address_key, load_signer
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import StateError
from newsletter.web import hooks

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

SIG, TS = "X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"
EMAILS = ("ana@example.org", "berk@example.org", "cem@example.org", "dara@example.org")


@pytest.fixture(scope="module")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_text(private_key: ec.EllipticCurvePrivateKey) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()  # as SendGrid's settings page shows it


def sign(private_key: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str) -> str:
    """What SendGrid does: ECDSA P-256 over timestamp + raw body, SHA-256, base64 DER."""
    return base64.b64encode(private_key.sign(timestamp.encode() + body,
                                             ec.ECDSA(hashes.SHA256()))).decode()


@pytest.fixture(autouse=True)
def _env(monkeypatch, private_key):
    monkeypatch.setenv("NEWSLETTER_SECRET", "hooks-secret-" + "h" * 30)
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", public_key_text(private_key))


@pytest.fixture
def client(ws):
    app = Starlette(routes=hooks.routes)
    app.state.ws = ws  # what the app factory must set
    app.state.hook_wait = 0.2  # a held lock answers 503 quickly
    with TestClient(app) as c:
        yield c


@pytest.fixture
def rids(ws) -> dict[str, str]:
    """Campaign c1 sent to EMAILS; the last one's row left 'unknown' by a crash."""
    key = load_address_key(ws.state_dir)
    ids = {e: people.address_id(key, e) for e in EMAILS}
    rows = [(rid, e, "", "de", "", f"<{i}@verbund.example.org>")
            for i, (e, rid) in enumerate(ids.items())]
    with open_ledger(ws.state_dir) as led:
        led.add_campaign("c1", "rel", "sendgrid", "members", rows)
        led.mark_sending("c1", list(ids.values()))
        led.mark("c1", [(rid, "sent", "", "sg-1") for rid in list(ids.values())[:-1]])
        led.recover("c1", resend_unknown=False)
    return ids


def event(kind: str, email: str, rid: str | None = None, campaign: str = "c1",
          **extra: object) -> dict[str, object]:
    out = {"email": email, "timestamp": int(time.time()), "event": kind,
           "sg_event_id": uuid.uuid4().hex, "sg_message_id": "sg-1.filter", **extra}
    if rid is not None:  # custom_args come back as top-level fields
        out |= {"campaign": campaign, "recipient": rid}
    return out


def post(client, private_key, events, *, body: bytes | None = None, headers=None):
    body = json.dumps(events).encode() if body is None else body
    stamp = str(int(time.time()))
    sent = {SIG: sign(private_key, body, stamp), TS: stamp,
            "content-type": "application/json"} if headers is None else headers
    return client.post("/hooks/sendgrid", content=body, headers=sent)


def rows(ws, campaign: str = "c1") -> dict[str, tuple[str, str]]:
    with open_ledger(ws.state_dir) as led:
        return {r.email: (r.status, r.last_error) for r in led.rows(campaign)}


def suppressed(ws) -> dict[str, tuple[str, str]]:
    return {s.email: (s.reason, s.source) for s in people.suppressions(ws)}


def test_a_signed_batch_is_applied(client, private_key, ws, rids):
    ana, berk, cem, dara = EMAILS
    assert rows(ws)[dara][0] == "unknown"
    batch = [event("delivered", ana, rids[ana], response="250 2.0.0 OK"),
             event("bounce", berk, rids[berk], type="bounce", reason="550 5.1.1 no such user"),
             event("dropped", cem, rids[cem], reason="Invalid SMTPAPI header"),
             event("delivered", dara, rids[dara], response="250 OK")]
    body = json.dumps(batch).encode()
    stamp = str(int(time.time()))
    signature = sign(private_key, body, stamp)  # SendGrid's own helper accepts it
    assert EventWebhook(public_key_text(private_key)).verify_signature(
        body.decode(), signature, stamp)
    answer = client.post("/hooks/sendgrid", content=body, headers={SIG: signature, TS: stamp})
    assert answer.status_code == 200
    assert answer.json() == {"events": 4, "applied": 4, "repeated": 0, "ignored": 0,
                             "unknown": 0, "suppressed": 1}
    got = rows(ws)
    assert got[ana] == ("sent", "delivered: 250 2.0.0 OK")
    assert got[berk] == ("rejected", "bounced: 550 5.1.1 no such user")
    assert got[cem] == ("rejected", "dropped by SendGrid: Invalid SMTPAPI header")
    assert got[dara] == ("sent", "delivered: 250 OK")  # 'unknown' until SendGrid said so
    assert suppressed(ws) == {berk: ("bounce", "sendgrid:webhook")}


def test_a_tampered_body_is_refused(client, private_key, ws, rids):
    ana = EMAILS[0]
    body = json.dumps([event("spamreport", ana, rids[ana])]).encode()
    stamp = str(int(time.time()))
    headers = {SIG: sign(private_key, body, stamp), TS: stamp}
    forged = body.replace(b"spamreport", b"unsubscribe")
    assert post(client, private_key, None, body=forged, headers=headers).status_code == 401
    other_time = {SIG: headers[SIG], TS: str(int(stamp) + 1)}
    assert post(client, private_key, None, body=body, headers=other_time).status_code == 401
    stale = str(int(stamp) - 8 * 86400)  # older than the event ids we remember
    old = {SIG: sign(private_key, body, stale), TS: stale}
    assert post(client, private_key, None, body=body, headers=old).status_code == 401
    assert suppressed(ws) == {}


@pytest.mark.parametrize("missing", [SIG, TS, "both"])
def test_a_missing_header_is_refused(client, private_key, ws, rids, missing):
    ana = EMAILS[0]
    body = json.dumps([event("unsubscribe", ana, rids[ana])]).encode()
    stamp = str(int(time.time()))
    headers = {SIG: sign(private_key, body, stamp), TS: stamp}
    for name in (SIG, TS) if missing == "both" else (missing,):
        del headers[name]
    assert post(client, private_key, None, body=body, headers=headers).status_code == 401
    assert suppressed(ws) == {}


def test_an_oversized_post_is_refused_unread(client, private_key, ws, rids):
    answer = post(client, private_key, None, body=b"[" + b" " * hooks.MAX_BATCH + b"]")
    assert answer.status_code == 413


def test_a_replayed_batch_is_applied_once(client, private_key, ws, rids):
    ana, berk = EMAILS[:2]
    batch = [event("unsubscribe", ana, rids[ana]),
             event("bounce", berk, rids[berk], type="blocked", reason="421 try later")]
    first = post(client, private_key, batch)
    again = post(client, private_key, batch)  # SendGrid posts a batch again on a timeout
    assert first.json()["applied"] == 2 and again.status_code == 200
    assert again.json()["repeated"] == 2 and again.json()["applied"] == 0
    with open_ledger(ws.state_dir) as led:
        from newsletter.delivery.subscribers import consent_trail
        assert [e.event for e in consent_trail(led, rids[ana])] == ["unsubscribe"]
    assert suppressed(ws) == {ana: ("unsubscribe", "sendgrid:webhook")}  # one block: not yet


def test_each_kind_suppresses_with_its_reason(client, private_key, ws, rids):
    ana, berk, cem, dara = EMAILS
    batch = [event("bounce", ana, rids[ana], type="bounce", reason="550 unknown user"),
             event("spamreport", berk, rids[berk]),
             event("group_unsubscribe", cem, rids[cem], asm_group_id=7),
             event("unsubscribe", "Erin@Example.org"),  # no custom_args: found by address
             event("bounce", dara, rids[dara], type="blocked", reason="554 blocked")]
    assert post(client, private_key, batch).json()["suppressed"] == 4
    assert rows(ws)[dara] == ("rejected", "blocked: 554 blocked")
    assert dara not in suppressed(ws)  # blocked once: recorded, not suppressed
    key = load_address_key(ws.state_dir)
    with open_ledger(ws.state_dir) as led:  # a second campaign, blocked again
        led.add_campaign("c2", "rel2", "sendgrid", "members",
                         [(rids[dara], dara, "", "de", "", "<c2@verbund.example.org>")])
        led.mark_sending("c2", [rids[dara]])
        led.mark("c2", [(rids[dara], "sent", "", "sg-2")])
        erin = people.address_id(key, "erin@example.org")
        assert [s.reason for s in led.suppressions() if s.key == erin] == ["unsubscribe"]
    post(client, private_key, [event("bounce", dara, rids[dara], "c2", type="blocked")])
    assert {e: r for e, (r, _) in suppressed(ws).items() if e} == {
        ana: "bounce", berk: "complaint", cem: "unsubscribe", dara: "block"}


def test_opens_and_clicks_are_ignored(client, private_key, ws, rids):
    ana = EMAILS[0]
    before = rows(ws)
    batch = [event("open", ana, rids[ana]), event("click", ana, rids[ana], url="https://x"),
             event("processed", ana, rids[ana])]
    answer = post(client, private_key, batch)
    assert answer.status_code == 200 and answer.json()["ignored"] == 3
    assert rows(ws) == before and suppressed(ws) == {}
    with open_ledger(ws.state_dir) as led:  # not even remembered: nothing about them is kept
        assert led.db.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0


def test_without_a_key_nothing_is_accepted(client, private_key, ws, rids, monkeypatch,
                                           caplog):
    monkeypatch.delenv("SENDGRID_WEBHOOK_PUBLIC_KEY")
    ana = EMAILS[0]
    with caplog.at_level(logging.ERROR, logger="newsletter.web.hooks"):
        answer = post(client, private_key, [event("unsubscribe", ana, rids[ana])])
    assert answer.status_code == 500 and suppressed(ws) == {}
    assert "SENDGRID_WEBHOOK_PUBLIC_KEY is not set" in caplog.text


@pytest.mark.sqlite_file
def test_a_busy_ledger_answers_503_and_the_retry_applies(client, private_key, ws, rids):
    ana = EMAILS[0]
    batch = [event("spamreport", ana, rids[ana])]
    other = sqlite3.connect(ws.state_dir / "ledger.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        answer = post(client, private_key, batch)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert suppressed(ws) == {}
    retry = post(client, private_key, batch)  # nothing was committed, so nothing repeats
    assert retry.json()["applied"] == 1 and suppressed(ws) == {ana: ("complaint",
                                                                     "sendgrid:webhook")}


def test_a_batch_is_applied_whole_or_not_at_all(ws, rids, private_key, monkeypatch):
    ana, berk = EMAILS[:2]
    batch = [event("unsubscribe", ana, rids[ana]), event("spamreport", berk, rids[berk])]

    def broken(*args):
        raise StateError("disk full")

    monkeypatch.setitem(webhooks.HANDLERS, "spamreport", broken)
    body = json.dumps(batch).encode()
    stamp = str(int(time.time()))
    with pytest.raises(StateError):
        app_hooks.sendgrid_events(ws, body, sign(private_key, body, stamp), stamp)
    assert suppressed(ws) == {}
    with open_ledger(ws.state_dir) as led:  # the events were not remembered either
        assert led.db.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0


def inbound(client, **fields: str):
    # Inbound Parse posts multipart/form-data; files= makes the test client send that
    return client.post("/hooks/inbound", data=fields,
                       files={"attachment1": ("note.txt", b"hello", "text/plain")})


def test_a_mailto_unsubscribe_with_a_token_suppresses(client, ws):
    signer = load_signer(ws.state_dir, allow_state_secret=False)
    token = signer.unsubscribe_token("ana@example.org")
    answer = inbound(client, **{"from": "Ana <ana@example.org>",
                                "to": "abmelden@verbund.example.org",
                                "subject": f"unsubscribe {token}", "text": ""})
    assert answer.status_code == 200 and answer.text == "unsubscribed"
    assert suppressed(ws) == {None: ("unsubscribe", "mailto")}  # the address is not known
    tagged = signer.unsubscribe_token("berk@example.org")  # the token in the address tag
    answer = inbound(client, **{"from": "someone@else.example", "subject": "Abmelden",
                                "to": f"<abmelden+{tagged}@verbund.example.org>"})
    assert answer.text == "unsubscribed"
    again = inbound(client, **{"from": "x@y.example", "subject": f"Re: unsubscribe {token}"})
    assert again.status_code == 200 and again.text == "already suppressed"
    assert {s.key for s in people.suppressions(ws)} == {signer.recipient_id("ana@example.org"),
                                                        signer.recipient_id("berk@example.org")}
    assert app_hooks.kept_mail(ws) == []


def test_a_mail_without_a_valid_token_is_kept_for_the_officer(client, ws):
    body = "Bitte nehmen Sie mich aus dem Verteiler.\nMfG"
    answer = inbound(client, **{"from": "Fremd <fremd@example.net>",
                                "to": "abmelden@verbund.example.org",
                                "subject": "Abmeldung", "text": body})
    assert answer.status_code == 200 and answer.text == "kept"
    forged = inbound(client, **{"from": "fremd@example.net",
                                "subject": "unsubscribe AQIDBAUGBwgJCgsMDQ4PEBESExQV"})
    assert forged.text == "kept"
    first, second = app_hooks.kept_mail(ws)
    assert (first.sender, first.subject, first.text) == ("Fremd <fremd@example.net>",
                                                         "Abmeldung", body)
    assert first.why == "no unsubscribe token" and "does not verify" in second.why
    assert not first.known and not first.suppressed
    assert suppressed(ws) == {}  # nothing done, and nothing sent:
    assert not ws.config.delivery.outbox.exists()
    with open_ledger(ws.state_dir) as led:
        assert led.campaigns() == []
    assert app_hooks.dismiss_mail(ws, first.seq) and not app_hooks.dismiss_mail(ws, first.seq)
    people.forget(ws, "fremd@example.net")  # erasure reaches the kept mail too
    assert app_hooks.kept_mail(ws) == []


def test_a_raw_mime_post_is_read_too(client, ws):
    signer = load_signer(ws.state_dir, allow_state_secret=False)
    token = signer.unsubscribe_token("cem@example.org")
    raw = ("From: Cem <cem@example.org>\r\nTo: abmelden@verbund.example.org\r\n"
           f"Subject: unsubscribe {token}\r\n\r\nbitte abmelden\r\n")
    answer = inbound(client, email=raw, envelope=json.dumps(
        {"to": ["abmelden@verbund.example.org"], "from": "cem@example.org"}))
    assert answer.text == "unsubscribed"
    assert [s.source for s in people.suppressions(ws)] == ["mailto"]
