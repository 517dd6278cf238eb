from __future__ import annotations

import ssl

import pytest
import trustme

from newsletter.audience.selection import Selection
from newsletter.content.parser import load_release
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.sending import SendRequest, plan_send, send
from newsletter.errors import ConfigError
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_smtp import Behaviour, Recorder, SmtpServer

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-" + "x" * 32)
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)


def configure(ws_root, port, *, security="none", username="", ca_file="", rate=1000):
    path = ws_root / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[delivery.smtp]")
    end = text.index("[delivery.sendgrid]")
    block = (f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "{security}"\n'
             f'username = "{username}"\nrate = {rate}\nretry_after = 0\ntimeout = 5\n'
             + (f'ca_file = "{ca_file}"\n' if ca_file else "") + "\n")
    path.write_text(text[:start] + block + text[end:], encoding="utf-8")
    return load_workspace(ws_root)


def run_send(ws, lists=("press",)):
    release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    request = SendRequest(Selection(lists=lists), "smtp")
    planned = plan_send(ws, release, request)
    return planned, send(ws, release, request, planned)


def press_addresses(ws):
    from newsletter.audience.lists import read_list
    return [r.email.lower() for r in read_list("press", ws.config.lists["press"]).recipients]


def test_plain_smtp_delivers_intact_messages(ws_root):
    rec = Recorder()
    with SmtpServer(rec) as server:
        ws = configure(ws_root, server.port)
        planned, result = run_send(ws)
    addrs = press_addresses(ws)
    assert sorted(rec.received) == sorted(addrs) and set(rec.received.values()) == {1}
    msg = rec.parsed(addrs[0])
    assert msg["Message-ID"].startswith(f"<{planned.campaign}.")
    assert msg.get_body(("html",)).get_content().count("Pressemitteilung") >= 1
    assert result.run.counts["sent"] == len(addrs)
    row = Ledger(ws.root / "state" / "ledger.sqlite3").rows(planned.campaign)[0]
    assert row.provider_id.startswith("2.0.0 queued as Q")


def test_starttls_with_login(ws_root, tmp_path, monkeypatch):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    rec = Recorder()
    with SmtpServer(rec, tls="starttls", ssl_context=server_ctx,
                    login=("newsletter", "pw-123")) as server:
        ws = configure(ws_root, server.port, security="starttls", username="newsletter",
                       ca_file=str(ca_file))
        with pytest.raises(ConfigError, match="set SMTP_PASSWORD"):
            run_send(ws)
        monkeypatch.setenv("SMTP_PASSWORD", "wrong")
        with pytest.raises(ConfigError, match="refused the login"):
            run_send(ws)
        monkeypatch.setenv("SMTP_PASSWORD", "pw-123")
        _, result = run_send(ws)
    assert result.run.counts["sent"] == 8 and rec.logins == ["newsletter"]
    assert len(rec.received) == 8


def test_implicit_tls_refuses_an_unknown_certificate(ws_root):
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    with SmtpServer(Recorder(), tls="tls", ssl_context=server_ctx) as server:
        ws = configure(ws_root, server.port, security="tls")  # no ca_file: not trusted
        _, result = run_send(ws)
    assert result.run.stopped.startswith("cannot reach smtp://127.0.0.1")
    assert result.run.counts["pending"] == 8  # nothing lost, a rerun continues


def test_4xx_is_retried_later_and_5xx_rejects_one(ws_root):
    rec = Recorder()
    with SmtpServer(rec) as server:
        ws = configure(ws_root, server.port)
        addrs = press_addresses(ws)
        rec.behaviour = Behaviour(defer_once={addrs[1]}, reject={addrs[2]})
        planned, _ = run_send(ws)
    assert rec.received[addrs[1]] == 1 and addrs[2] not in rec.received
    assert len(rec.received) == 7
    rows = {r.email.lower(): r for r in Ledger(ws.root / "state" / "ledger.sqlite3")
            .rows(planned.campaign)}
    assert rows[addrs[1]].status == "sent" and rows[addrs[1]].attempts == 2
    assert rows[addrs[2]].status == "rejected" and rows[addrs[2]].last_error.startswith("550")


def test_dropped_connections(ws_root):
    rec = Recorder(Behaviour(drop_at_mail={3}, drop_in_data={5}))
    with SmtpServer(rec) as server:
        ws = configure(ws_root, server.port)
        _, result = run_send(ws)
    # dropped before DATA: reconnected and sent; dropped during DATA: unknown, not resent
    assert result.run.counts["sent"] == 7 and result.run.counts["unknown"] == 1
    assert set(rec.received.values()) == {1} and len(rec.received) == 8
    assert result.run.unknown[0].last_error.startswith("connection lost during DATA")


def test_unsubscribe_during_the_campaign_is_honoured(ws_root):
    ws_holder = {}

    def unsubscribe_last(recorder):
        if recorder.data_count == 1:
            ws = ws_holder["ws"]
            from newsletter.audience.tokens import address_id
            key = load_address_key(ws.root / "state")
            last = press_addresses(ws)[-1]
            with Ledger(ws.root / "state" / "ledger.sqlite3") as led:
                led.suppress(address_id(key, last), last, "unsubscribe", "test")

    rec = Recorder(on_message=unsubscribe_last)
    with SmtpServer(rec) as server:
        ws = configure(ws_root, server.port)
        ws_holder["ws"] = ws
        _, result = run_send(ws)
    last = press_addresses(ws)[-1]
    assert last not in rec.received and len(rec.received) == 7
    assert result.run.counts["suppressed"] == 1 and result.run.suppressed_now == 1


def test_rate_limit_is_a_token_bucket():
    from newsletter.delivery.transports.smtp import TokenBucket
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    bucket = TokenBucket(rate=2, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        bucket.take()
    assert now[0] == pytest.approx(2.0)  # 2 at once, then one every 0.5 s
    assert all(s == pytest.approx(0.5) for s in slept)
