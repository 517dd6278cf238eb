"""``newsletter mailbox poll`` against a real IMAP server (dovecot on 127.0.0.1)."""

from __future__ import annotations

import json
import stat
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from click.testing import CliRunner

from newsletter.app import mailbox, people
from newsletter.cli import cli
from newsletter.delivery import imap
from newsletter.delivery.keys import load_signer
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import ConfigError, MailboxError
from newsletter.workspace.config import CONFIG_NAME
from newsletter.workspace.loading import load_workspace
from tests.dovecot import DOVECOT, PASSWORD, USER, Dovecot

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = [pytest.mark.usefixtures("state_db"), pytest.mark.skipif(
    DOVECOT is None, reason="dovecot is not installed (apt-get install dovecot-imapd; "
                            "make test does it as root)")]

MAILTO = "abmelden@verbund.example.org"  # [web] unsubscribe_mailto of the example workspace
READER = "leser@example.net"


@pytest.fixture(scope="module")
def dovecot():
    """One plain-text server on 127.0.0.1 for the module (the TLS tests start their own)."""
    with Dovecot("none") as running:
        yield running


@pytest.fixture
def server(dovecot):
    dovecot.clear()
    return dovecot


def configure(ws_root, server: Dovecot, **extra: str):
    settings = {"host": "127.0.0.1", "port": server.port, "security": server.security,
                "username": USER, **extra}
    if server.security != "none":
        settings["ca_file"] = str(server.ca_file)
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
    path = ws_root / CONFIG_NAME
    path.write_text(path.read_text(encoding="utf-8") + f"\n[web.mailbox]\n{lines}",
                    encoding="utf-8")
    return load_workspace(ws_root)


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("IMAP_PASSWORD", PASSWORD)
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox's secret in state/


def mail(subject: str, *, sender: str = READER, to: str = MAILTO, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.net")
    msg["Date"] = "Wed, 25 Nov 2026 10:00:00 +0100"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Bitte abmelden.\n")
    return bytes(msg)


def token_of(ws, email: str = READER) -> tuple[str, str]:
    signer = load_signer(ws.state_dir, allow_state_secret=True)
    return signer.unsubscribe_token(email), signer.recipient_id(email)


def suppressed(ws) -> dict[str, str]:
    return {s.key: s.source for s in people.suppressions(ws)}


def test_a_token_in_the_subject_unsubscribes(ws_root, server, password):
    ws = configure(ws_root, server)
    token, rid = token_of(ws)
    server.deliver(mail(f"AW: unsubscribe {token}"))
    result = mailbox.poll(ws)
    assert (result.read, result.unsubscribed, result.already) == (1, 1, 0)
    assert result.unmatched == []
    assert suppressed(ws) == {rid: "mailto"}
    assert result.mailbox == f"imap://{USER}@127.0.0.1:{server.port}/INBOX"
    assert [r"\Seen" in f for f in server.flags()] == [True]


@pytest.mark.parametrize("header", ["To", "Delivered-To"])
def test_a_token_in_the_address_tag_unsubscribes(ws_root, server, password, header):
    ws = configure(ws_root, server)
    token, rid = token_of(ws)
    tagged = f"abmelden+{token}@verbund.example.org"
    if header == "To":
        message = mail("Abmelden", to=tagged)
    else:  # the client put the plain address in To; the server kept the tag it delivered to
        message = mail("Abmelden", Delivered_To=tagged)
    server.deliver(message)
    result = mailbox.poll(ws)
    assert (result.read, result.unsubscribed) == (1, 1)
    assert suppressed(ws) == {rid: "mailto"}


def test_forged_and_missing_tokens_are_listed_for_the_officer(ws_root, server, password):
    ws = configure(ws_root, server)
    token, _ = token_of(ws)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    other_tag = f"info+{token}@verbund.example.org"  # a tag, but not of the mailto address
    server.deliver(mail(f"unsubscribe {forged}", sender="a@example.com"),
                   mail("Bitte nehmen Sie mich aus dem Verteiler", sender="b@example.com"),
                   mail("Frage", sender="c@example.com", to=other_tag))
    result = mailbox.poll(ws)
    assert (result.read, result.unsubscribed, result.already) == (3, 0, 0)
    assert [m.sender for m in result.unmatched] == ["a@example.com", "b@example.com",
                                                    "c@example.com"]
    assert result.unmatched[1].subject == "Bitte nehmen Sie mich aus dem Verteiler"
    assert suppressed(ws) == {}
    notes = result.notes.read_text(encoding="utf-8").splitlines()
    assert [json.loads(n)["sender"] for n in notes] == ["a@example.com", "b@example.com",
                                                        "c@example.com"]
    assert stat.S_IMODE(result.notes.stat().st_mode) == 0o600
    assert result.notes == ws.state_dir / "mailbox-unmatched.jsonl"


def test_a_second_poll_changes_nothing(ws_root, server, password):
    ws = configure(ws_root, server)
    token, rid = token_of(ws)
    server.deliver(mail(f"unsubscribe {token}"), mail("Hallo", sender="b@example.com"))
    first = mailbox.poll(ws)
    assert (first.read, first.unsubscribed, len(first.unmatched)) == (2, 1, 1)
    notes = first.notes.read_bytes()
    second = mailbox.poll(ws)
    assert (second.read, second.unsubscribed, second.already, second.unmatched) == (0, 0, 0, [])
    assert suppressed(ws) == {rid: "mailto"}
    assert first.notes.read_bytes() == notes


def test_a_mail_read_again_after_a_crash_is_handled_once(ws_root, server, password):
    """A poll that stopped before marking its mails: the next one repeats them harmlessly."""
    ws = configure(ws_root, server)
    token, rid = token_of(ws)
    server.deliver(mail(f"unsubscribe {token}"), mail("Hallo", sender="b@example.com"))
    first = mailbox.poll(ws)
    notes = first.notes.read_bytes()
    with open_ledger(ws.state_dir) as ledger:
        trail = ledger.db.execute("SELECT count(*) FROM consent").fetchone()[0]
    server.mark_all_unread()
    again = mailbox.poll(ws)
    assert (again.read, again.unsubscribed, again.already, len(again.unmatched)) == (2, 0, 1, 1)
    assert first.notes.read_bytes() == notes  # noted once
    assert suppressed(ws) == {rid: "mailto"}
    with open_ledger(ws.state_dir) as ledger:
        assert ledger.db.execute("SELECT count(*) FROM consent").fetchone()[0] == trail


@pytest.mark.parametrize("move", [True, False], ids=["MOVE", "COPY-then-EXPUNGE"])
def test_handled_mails_move_to_the_processed_folder(ws_root, server, password, monkeypatch,
                                                    move):
    if not move:  # a server without RFC 6851 MOVE
        login = imap.ImapMailbox._login

        def without_move(self: imap.ImapMailbox) -> None:
            login(self)
            self.capabilities.discard("MOVE")

        monkeypatch.setattr(imap.ImapMailbox, "_login", without_move)
    ws = configure(ws_root, server, processed_folder="Erledigt")
    token, _ = token_of(ws)
    server.deliver(mail(f"unsubscribe {token}"), mail("Hallo", sender="b@example.com"))
    result = mailbox.poll(ws)
    assert (result.read, result.unsubscribed, len(result.unmatched)) == (2, 1, 1)
    assert server.flags("INBOX") == []
    assert [r"\Seen" in f for f in server.flags("Erledigt")] == [True, True]
    assert mailbox.poll(ws).read == 0


def test_the_cli_prints_counts_and_the_senders_as_plain_text(ws_root, server, password):
    ws = configure(ws_root, server)
    token, _ = token_of(ws)
    server.deliver(mail(f"unsubscribe {token}"),
                   mail("[bold red]Hallo[/] \x1b[31m", sender="b@example.com"))
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "mailbox", "poll"])
    assert result.exit_code == 0, result.output
    assert "b@example.com" in result.output
    assert "[bold red]Hallo[/]" in result.output  # not read as markup
    assert "\x1b" not in result.output  # no terminal escapes from a stranger's subject
    assert "state/mailbox-unmatched.jsonl" in result.output
    assert PASSWORD not in result.output


def test_a_wrong_password_is_a_one_line_error(ws_root, server, monkeypatch):
    configure(ws_root, server)
    monkeypatch.setenv("IMAP_PASSWORD", "wrong-password-42")
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "mailbox", "poll"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert f"refused the login of '{USER}'" in lines[0] and "IMAP_PASSWORD" in lines[0]
    assert "wrong-password-42" not in result.output
    assert "Traceback" not in result.output


def test_a_missing_password_names_the_variable(ws_root, server, monkeypatch):
    ws = configure(ws_root, server)
    monkeypatch.delenv("IMAP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="set IMAP_PASSWORD to the password of the mailbox"):
        mailbox.poll(ws)


def test_without_the_section_the_poll_is_not_configured(ws_root):
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "mailbox", "poll"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {ws_root.resolve() / CONFIG_NAME}: the mailbox poll is not configured: add a "
        "[web.mailbox] section (host, username; see README 'Unsubscribes by mail')"]


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_with_a_private_ca(ws_root, password, security):
    with Dovecot(security) as tls_server:
        ws = configure(ws_root, tls_server)
        token, rid = token_of(ws)
        tls_server.deliver(mail(f"unsubscribe {token}"))
        result = mailbox.poll(ws)
    assert (result.read, result.unsubscribed) == (1, 1)
    assert suppressed(ws) == {rid: "mailto"}


def test_an_untrusted_certificate_stops_before_the_login(ws_root, password):
    with Dovecot("tls") as tls_server:
        ws = configure(ws_root, tls_server)
        object.__setattr__(ws.config.web.mailbox, "ca_file", "")  # the system CAs only
        with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
            mailbox.poll(ws)
