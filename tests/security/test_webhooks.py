"""What a stranger (or a leaked webhook key) can post to the providers' hooks: a body
too large to hold, a flood of mails to keep, JSON nested too deep to parse. Each gets
a clear answer, and the server's memory and disk stay bounded."""

from __future__ import annotations

import json
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.testclient import TestClient

from newsletter.app import hooks as app_hooks
from newsletter.delivery import jsonbody
from newsletter.delivery.keys import load_signer
from newsletter.web import hooks
from tests.security.server import read_response, request, serving
from tests.test_hooks import public_key_text, sign

INBOUND = "/newsletter/app/hooks/inbound"  # below [web] public_url, as `serve` mounts it
MB = 1024 * 1024


@pytest.fixture(scope="module")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def client(ws, monkeypatch, private_key, state_db):
    monkeypatch.setenv("NEWSLETTER_SECRET", "security-hooks-" + "s" * 30)
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", public_key_text(private_key))
    app = Starlette(routes=hooks.routes)
    app.state.ws = ws
    with TestClient(app) as c:
        yield c


def _mail(client, sender: str, subject: str = "Bitte abmelden"):
    return client.post("/hooks/inbound", data={
        "from": sender, "to": "abmelden@verbund.example.org", "subject": subject,
        "text": "Bitte nehmen Sie mich aus dem Verteiler. " * 150})


# --- size ------------------------------------------------------------------------------


def test_a_40_mb_post_to_inbound_is_refused_unread_and_memory_stays(ws_root, tmp_path):
    """Against `newsletter serve`: a declared 40 MB body is answered 413 before a byte of
    it is sent; chunked ones are cut off at MAX_MAIL, and three of them leave the
    server's memory where it was (give or take one refused body)."""
    with serving(ws_root, tmp_path / "serve.log") as served:
        status, _ = request(served, f"POST {INBOUND} HTTP/1.1\nHost: x\nConnection: close\n"
                                    "Content-Type: application/x-www-form-urlencoded\n"
                                    "Content-Length: 5", b"a=b&c")
        assert status == 400  # warmed up: form parsing and the app's code are loaded
        before = served.rss_kib()
        with served.connect() as conn:  # the headers only: the answer must not wait
            conn.sendall(f"POST {INBOUND} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/"
                         f"form-data; boundary=B\r\nContent-Length: {40 * MB}\r\n\r\n"
                         .encode())
            assert read_response(conn)[0] == 413
        for _ in range(3):
            assert _chunked_post(served, 40 * MB) == 413
        grown = served.rss_kib() - before
    assert grown < 2 * hooks.MAX_MAIL // 1024, f"the server grew by {grown} KiB"
    assert hooks.MAX_MAIL < 40 * MB


def _chunked_post(served, size: int) -> int:
    """One text field of ``size`` bytes, chunked (no Content-Length), sent while the
    answer is awaited: the server answers once it has seen enough."""
    conn = served.connect()

    def send() -> None:
        try:
            head = b'--B\r\nContent-Disposition: form-data; name="text"\r\n\r\n'
            conn.sendall(b"%x\r\n%s\r\n" % (len(head), head))
            chunk = b"x" * 65536
            for _ in range(size // len(chunk)):
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:  # the server answered and closed: the rest is never read
            pass

    with conn:
        conn.sendall(f"POST {INBOUND} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Type: multipart/form-data; boundary=B\r\n\r\n".encode())
        sender = threading.Thread(target=send)
        sender.start()
        status = read_response(conn)[0]
        conn.shutdown(2)
        sender.join()
    return status


def test_a_chunked_body_over_the_limit_is_413_over_the_test_client(client):
    def body():
        yield b'--B\r\nContent-Disposition: form-data; name="text"\r\n\r\n'
        for _ in range(hooks.MAX_MAIL // MB + 2):
            yield b"x" * MB

    answer = client.post("/hooks/inbound", content=body(),
                         headers={"content-type": "multipart/form-data; boundary=B"})
    assert answer.status_code == 413
    assert app_hooks.kept_mail(client.app.state.ws) == []


# --- kept mail: rate limits -------------------------------------------------------------


def test_kept_mail_is_limited_per_sender_and_overall(client, ws):
    limit = app_hooks.KEEP_PER_SENDER
    answers = [_mail(client, "flood@example.net").text for _ in range(limit + 3)]
    assert answers == ["kept"] * limit + ["dropped"] * 3
    other = _mail(client, "Someone Else <else@example.net>")
    assert other.status_code == 200 and other.text == "kept"
    started = time.monotonic()
    for n in range(app_hooks.KEEP_PER_DAY):  # a flood from ever new (forged) addresses
        _mail(client, f"forged{n}@example.net")
    kept = app_hooks.kept_mail(ws)
    assert len(kept) == app_hooks.KEEP_PER_DAY
    assert _mail(client, "late@example.net").text == "dropped"
    assert time.monotonic() - started < 60
    # a valid token is never limited: the reader's unsubscribe still works
    token = load_signer(ws.state_dir, allow_state_secret=False).unsubscribe_token(
        "ana@example.org")
    assert _mail(client, "ana@example.org", f"unsubscribe {token}").text == "unsubscribed"
    # the disk: KEEP_PER_DAY mails of at most ~7 KB each
    assert sum(len(m.text) + len(m.subject) + len(m.sender) for m in kept) < 800_000


# --- JSON nesting ------------------------------------------------------------------------


def _signed(client, private_key, body: bytes):
    stamp = str(int(time.time()))
    return client.post("/hooks/sendgrid", content=body, headers={
        "X-Twilio-Email-Event-Webhook-Signature": sign(private_key, body, stamp),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp, "content-type": "application/json"})


@pytest.mark.parametrize("depth", [100_000, 1_000, jsonbody.MAX_DEPTH + 1])
def test_a_signed_batch_nested_too_deep_is_400(client, private_key, depth):
    body = b"[" * depth + b"]" * depth
    answer = _signed(client, private_key, body)
    assert answer.status_code == 400
    assert f"deeper than {jsonbody.MAX_DEPTH}" in answer.text


def test_nesting_is_counted_outside_strings_only(client, private_key):
    batch = [{"event": "open", "email": "a@example.org", "sg_event_id": "e1",
              "timestamp": int(time.time()), "note": "[[[[{{{{" * 100}]
    answer = _signed(client, private_key, json.dumps(batch).encode())
    assert answer.status_code == 200, answer.text
    assert jsonbody.depth(b'[{"a": "]]]]\\"[[[["}, [[1]]]') == 3


def test_an_inbound_envelope_nested_too_deep_is_ignored(client, ws):
    envelope = "[" * 100_000 + "]" * 100_000
    answer = client.post("/hooks/inbound", data={
        "from": "x@example.net", "to": "abmelden@verbund.example.org", "subject": "hallo",
        "envelope": envelope})
    assert answer.status_code == 200 and answer.text == "kept"
