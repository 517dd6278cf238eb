"""Never mail the wrong people: lost state, rehearsals, rejected rows, erasure leftovers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import Ledger, open_ledger
from newsletter.errors import StateError
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_sendgrid import FakeSendGrid
from tests.fake_smtp import Behaviour, Recorder, SmtpServer
from tests.test_sendgrid import KEY
from tests.test_sendgrid import configure as configure_sendgrid
from tests.test_smtp import configure as configure_smtp

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

SECRET = "safety-secret-" + "s" * 30


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)


def run(ws_root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args])


def campaign_of(output: str) -> str:
    return next(line.split()[1].rstrip(":") for line in output.splitlines()
                if line.startswith("Campaign "))


def one_line_error(result) -> str:
    """The CLI's answer to a user error: exit 1 and one 'error:' line, no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return " ".join(result.output.split())  # rich may wrap the line


# --- 1. lost or emptied state ------------------------------------------------------------

@pytest.mark.parametrize("damage", ["delete key", "empty key", "truncate ledger",
                                    "delete ledger", "replace key", "garbage ledger"])
@pytest.mark.sqlite_file
def test_damaged_state_stops_every_command_instead_of_mailing_everyone(ws_root, damage):
    first = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press")
    assert first.exit_code == 0, first.output
    assert run(ws_root, "suppress", "add", "l.wagner@ruhrblick-online.example.com").exit_code == 0
    state = ws_root / "state"
    key, ledger = state / "address.key", state / "ledger.sqlite3"
    for wal in state.glob("ledger.sqlite3-*"):
        wal.unlink()
    if damage == "delete key":
        key.unlink()
    elif damage == "empty key":
        key.write_bytes(b"")
    elif damage == "truncate ledger":
        ledger.write_bytes(b"")
    elif damage == "delete ledger":
        ledger.unlink()
    elif damage == "replace key":
        key.write_bytes(b"another-key-" + b"k" * 40 + b"\n")
    else:
        ledger.write_bytes(b"this is not a database" * 100)
    for command in (["send", EXAMPLE_RELEASE, "--list", "press"], ["suppress", "list"],
                    ["report", campaign_of(first.output)]):
        text = one_line_error(run(ws_root, *command))
        assert "restore" in text and "backup" in text, text
        assert "delete it to make" not in text
    assert not list((ws_root / "outbox").glob("*/.*.tmp"))


def test_the_ledger_records_its_identity_and_key_fingerprint(ws_root):
    state = ws_root / "state"
    load_address_key(state)
    with open_ledger(state) as ledger:
        meta = dict(ledger.db.execute("SELECT name, value FROM meta").all())
    assert len(meta["ledger_id"]) == 16 and len(meta["key_fingerprint"]) == 16
    assert meta["key_fingerprint"] not in (state / "address.key").read_text()


def test_first_commands_racing_on_a_fresh_state_all_succeed(ws_root):
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    procs = [subprocess.Popen([sys.executable, "-m", "newsletter", "--workspace", str(ws_root),
                               "suppress", "add", f"racer{i}@example.org"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
             for i in range(6)]
    outputs = [(p.wait(timeout=60), p.stdout.read()) for p in procs]
    for code, output in outputs:
        assert code == 0, output
    with Ledger(ws_root / "state" / "ledger.sqlite3") as ledger:
        assert len(ledger.suppressions()) == 6  # one key named them all
    assert not list((ws_root / "state").glob(".*.tmp"))


def test_unwritable_state_is_one_line(ws_root, monkeypatch):
    state = ws_root / "state"
    state.write_text("a file where the folder should be")
    text = one_line_error(run(ws_root, "suppress", "list"))
    assert "state" in text


def test_state_errors_name_the_file():
    from newsletter.workspace.state import state_errors

    with pytest.raises(StateError, match="ledger.sqlite3: cannot write the ledger: database or "
                                         "disk is full"), \
            state_errors(Path("state/ledger.sqlite3"), "write the ledger"):
        raise sqlite3.OperationalError("database or disk is full")


# --- 2. a rehearsal never swallows the real send -------------------------------------------

def test_outbox_rehearsal_then_real_sendgrid_send_reaches_everyone(ws_root):
    rehearsal = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--dry-run")
    assert "Rehearsal (outbox)" in " ".join(rehearsal.output.split())
    first = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press")
    assert first.exit_code == 0 and campaign_of(first.output).endswith("-outbox")
    with FakeSendGrid() as fake:
        configure_sendgrid(ws_root, fake.url)
        plan = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport",
                   "sendgrid", "--dry-run")
        assert "Real send through sendgrid" in " ".join(plan.output.split())
        real = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport",
                   "sendgrid")
        assert real.exit_code == 0, real.output
        sandbox = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport",
                      "sendgrid", "--sandbox")
        assert sandbox.exit_code == 0, sandbox.output
        again = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport",
                    "sendgrid")
    sent = [p["to"][0]["email"] for b in fake.bodies for p in b["personalizations"]
            if "mail_settings" not in b]
    assert len(sent) == 8 and len(set(sent)) == 8  # everyone once, the rehearsals aside
    assert "0 message(s) handed over" in again.output
    assert campaign_of(sandbox.output).endswith("-sandbox")
    assert not campaign_of(real.output).endswith(("-outbox", "-sandbox"))


@pytest.mark.sqlite_file
def test_a_legacy_outbox_campaign_becomes_a_rehearsal(tmp_path):
    path = tmp_path / "state" / "ledger.sqlite3"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE campaigns (id TEXT PRIMARY KEY, release TEXT NOT NULL,
            transport TEXT NOT NULL, selection TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE deliveries (campaign TEXT NOT NULL REFERENCES campaigns(id),
            recipient TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', message_id TEXT NOT NULL,
            status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '', provider_id TEXT NOT NULL DEFAULT '',
            seq INTEGER NOT NULL, plan_mark INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (campaign, recipient));
        INSERT INTO campaigns VALUES ('rel-1234abcd', 'rel', 'outbox', 'sel', 't'),
                                     ('rel-5678abcd', 'rel', 'outbox', 'sel', 't');
        INSERT INTO deliveries VALUES
            ('rel-1234abcd', 'r1', 'a@example.org', '', 'de', '', '<m>', 'sent', 1, '',
             'r1.eml', 0, 1, 't', 't'),
            ('rel-5678abcd', 'r1', 'a@example.org', '', 'de', '', '<m>', 'sent', 1, '',
             'sg-42', 0, 1, 't', 't');
    """)
    db.close()
    key = path.parent / "address.key"
    key.write_bytes(b"k" * 43 + b"\n")
    key.chmod(0o600)
    with Ledger(path) as ledger:
        kinds = dict(ledger.db.execute("SELECT id, kind FROM campaigns").all())
        assert ledger.counts("rel-1234abcd-outbox")["sent"] == 1
    # only the outbox ever wrote the first; a real transport continued the second
    assert kinds == {"rel-1234abcd-outbox": "rehearsal", "rel-5678abcd": "real"}


# --- 8. rejected rows are loud and can be retried; 4xx go on in later runs ------------------

def test_rejections_print_the_servers_words_exit_1_and_can_be_retried(ws_root):
    refused = "l.wagner@ruhrblick-online.example.com"
    behaviour = Behaviour(reject={refused})
    rec = Recorder(behaviour)
    with SmtpServer(rec) as server:
        configure_smtp(ws_root, server.port)
        first = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport", "smtp")
        assert first.exit_code == 1, first.output
        assert f"rejected: {refused}" in first.output and "550 5.1.1 no such user here" in \
            first.output and "--retry-rejected" in first.output
        again = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport", "smtp")
        assert again.exit_code == 0 and rec.received[refused] == 0  # settled, not retried
        behaviour.reject.clear()  # the cause is fixed
        retried = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport",
                      "smtp", "--retry-rejected")
        assert retried.exit_code == 0, retried.output
    assert rec.received[refused] == 1
    assert set(rec.received.values()) == {1} and len(rec.received) == 8


def test_a_deferring_server_is_tried_again_in_a_later_run(ws_root):
    slow = "l.wagner@ruhrblick-online.example.com"

    class Defer(Recorder):
        async def handle_RCPT(self, server, session, envelope, address, options):
            if address.lower() == slow and not self.open:
                return "451 4.7.1 try again later"
            return await super().handle_RCPT(server, session, envelope, address, options)

    rec = Defer()
    rec.open = False
    with SmtpServer(rec) as server:
        configure_smtp(ws_root, server.port)
        first = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport", "smtp")
        assert first.exit_code == 0 and "1 failed" in first.output, first.output
        rec.open = True
        second = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport", "smtp")
        assert second.exit_code == 0, second.output
    assert rec.received[slow] == 1 and "1 message(s) handed over" in second.output


# --- 10. erasure reaches every folder and says what it cannot -------------------------------

def test_forget_reaches_other_outbox_folders_temp_files_and_names_reports(ws_root, tmp_path):
    person = "j.becker@essener-lokalanzeiger.example.com"
    elsewhere = tmp_path / "usb-stick"
    sent = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--outbox", str(elsewhere))
    assert sent.exit_code == 0, sent.output
    campaign = campaign_of(sent.output)
    folder = elsewhere / campaign
    orphan = folder / ".0123.eml.abcd.tmp"  # what a crash in atomic_write leaves
    orphan.write_bytes(person.encode())
    report = tmp_path / "report.csv"
    assert run(ws_root, "report", campaign, "--csv", str(report)).exit_code == 0
    gone = run(ws_root, "forget", person)
    assert gone.exit_code == 0, gone.output
    flat = " ".join(gone.output.split())
    assert "1 outbox file(s)" in flat and "Removed 1 temporary file(s)" in flat
    assert str(report) in flat and "recipients/press.csv:2" in flat
    assert not any(person.encode() in p.read_bytes() for p in elsewhere.rglob("*") if p.is_file())
    # the list still holds the row: the next send records the keyed hash only
    again = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press")
    assert again.exit_code == 0 and "1 suppressed" in again.output, again.output
    state = b"".join(p.read_bytes() for p in (ws_root / "state").rglob("*") if p.is_file())
    assert person.encode() not in state and b"Jana Becker" not in state


def test_a_sendgrid_rejection_is_printed_exits_1_and_is_retried_alone(ws_root):
    bad = "l.wagner@ruhrblick-online.example.com"
    with FakeSendGrid(reject_emails={bad}) as fake:
        configure_sendgrid(ws_root, fake.url)
        args = ("send", EXAMPLE_RELEASE, "--list", "press", "--transport", "sendgrid")
        first = run(ws_root, *args)
        flat = " ".join(first.output.split())
        assert first.exit_code == 1 and f"rejected: {bad}" in flat, first.output
        assert "personalizations." in flat and "--retry-rejected" in flat
        fake.reject_emails.clear()  # the list was fixed
        retried = run(ws_root, *args, "--retry-rejected")
        assert retried.exit_code == 0, retried.output
    sent = [p["to"][0]["email"] for b in fake.bodies for p in b["personalizations"]]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 8 and bad in sent
