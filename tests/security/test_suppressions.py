"""A ledger emptied with SQL (finding 7): after ``DELETE FROM deliveries; DELETE FROM
suppressions; DELETE FROM campaigns`` the same real send mailed all recipients again,
the unsubscribed one included. Now state/ keeps a journal of suppressions and each
campaign's rows outside the database: such a ledger refuses to send and says how to
restore, and the unsubscribed address is never mailed again."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsletter.app import subscriptions
from newsletter.cli import cli
from newsletter.delivery.journal import JOURNAL, MARKS
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import LedgerLost
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_smtp import Recorder, SmtpServer

pytestmark = pytest.mark.usefixtures("state_db")  # on SQLite and on PostgreSQL

SECRET = "test-secret-" + "x" * 32
OBJECTOR = "j.becker@essener-lokalanzeiger.example.com"  # recipients/press.csv
EMPTIED = ("DELETE FROM deliveries", "DELETE FROM suppressions", "DELETE FROM campaigns")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)


@pytest.fixture
def smtp(ws_root):
    """A real SMTP server on loopback, and the workspace sending to it."""
    recorder = Recorder()
    with SmtpServer(recorder) as server:
        path = ws_root / "newsletter.toml"
        text = path.read_text(encoding="utf-8")
        start, end = text.index("[delivery.smtp]"), text.index("[delivery.sendgrid]")
        block = (f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
                 'security = "none"\nusername = ""\nrate = 1000\nretry_after = 0\n'
                 "timeout = 5\n\n")
        path.write_text(text[:start] + block + text[end:], encoding="utf-8")
        yield recorder


def _send(ws_root, *lists: str):
    args = ["--workspace", str(ws_root), "send", EXAMPLE_RELEASE, "--transport", "smtp"]
    for name in lists or ("members", "press"):
        args += ["--list", name]
    return CliRunner().invoke(cli, args)


def _run(ws_root, *args: str):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args])


def _sql(ws, *statements: str) -> None:
    """As someone with a database shell would: sqlite3 on the file, or psql's SQL."""
    with open_ledger(ws.state_dir) as ledger:
        url = ledger.url
    if url.get_backend_name() == "sqlite":
        done = subprocess.run(["sqlite3", str(url.database), "; ".join(statements)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def _unsubscribe(ws, email: str) -> None:
    """The one-click unsubscribe, as the reader's mail client posts it."""
    token = subscriptions.signer(ws).unsubscribe_token(email)
    subscriptions.unsubscribe(ws, token, subscriptions.Visitor("192.0.2.9", "Mail"))


def test_an_emptied_ledger_refuses_to_send_and_the_objector_is_never_mailed(ws_root, smtp):
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 shell is not installed (apt-get install sqlite3)")
    first = _send(ws_root)
    assert first.exit_code == 0, first.output
    everyone = set(smtp.received)
    assert OBJECTOR in everyone and len(everyone) > 10
    ws = load_workspace(ws_root)
    _unsubscribe(ws, OBJECTOR)
    _sql(ws, *EMPTIED)

    again = _send(ws_root)
    assert again.exit_code == 1
    said = again.output.strip()
    assert "Traceback" not in said and len(said.splitlines()) == 1, said
    assert "the ledger has lost what it once held" in said
    assert "campaign(s) are missing" in said and "1 suppression(s)" in said
    assert "restore the ledger" in said and "newsletter db accept-loss" in said
    assert set(smtp.received.values()) == {1}  # nobody got a second copy
    check = _run(ws_root, "db", "check")
    assert check.exit_code == 1 and "lost what it once held" in check.output

    # what no backup holds is accepted as lost; the objection is not
    accepted = _run(ws_root, "db", "accept-loss", "--yes")
    assert accepted.exit_code == 0, accepted.output
    assert "1 suppression(s) put back" in accepted.output
    assert _run(ws_root, "db", "check").exit_code == 0
    third = _send(ws_root)
    assert third.exit_code == 0, third.output
    assert smtp.received[OBJECTOR] == 1  # never mailed again
    assert all(smtp.received[a] == 2 for a in everyone - {OBJECTOR})  # the loss, accepted


def test_the_send_loop_asks_the_journal_before_every_batch(ws, ws_root, smtp):
    assert _send(ws_root, "press").exit_code == 0
    _unsubscribe(ws, OBJECTOR)
    _sql(ws, "DELETE FROM suppressions")  # only the objection is gone from the database
    rid = subscriptions.signer(ws).recipient_id(OBJECTOR)
    with open_ledger(ws.state_dir) as ledger:
        assert ledger.suppressed([rid, "someone-else"]) == {rid}
        with pytest.raises(LedgerLost, match="1 suppression"):
            ledger.verify()


def test_lost_delivery_rows_of_one_campaign_are_noticed(ws, ws_root, smtp):
    assert _send(ws_root, "press").exit_code == 0
    _sql(ws, "DELETE FROM deliveries WHERE email = 'j.becker@essener-lokalanzeiger.example.com'")
    refused = _send(ws_root, "press")
    assert refused.exit_code == 1 and "delivery rows are missing" in refused.output
    assert smtp.received[OBJECTOR] == 1


def test_an_older_copy_of_the_ledger_is_noticed(ws, ws_root, smtp, state_db):
    if state_db != "sqlite":
        pytest.skip("copies the SQLite file")
    assert _send(ws_root, "press").exit_code == 0
    ledger_file = ws.state_dir / "ledger.sqlite3"
    backup = ws_root.parent / "backup.sqlite3"
    with open_ledger(ws.state_dir) as ledger:  # a consistent copy, as a backup would be
        ledger.db.pragma("wal_checkpoint(TRUNCATE)")
    shutil.copy2(ledger_file, backup)
    assert _send(ws_root, "members").exit_code == 0  # after the backup
    for suffix in ("-wal", "-shm"):
        ws.state_dir.joinpath(f"ledger.sqlite3{suffix}").unlink(missing_ok=True)
    shutil.copy2(backup, ledger_file)  # "restored" from last night
    refused = _send(ws_root, "members")
    assert refused.exit_code == 1 and "campaign(s) are missing" in refused.output


# --- legitimate changes are not losses -----------------------------------------------------

def test_erasure_resubscribe_and_a_rolled_back_write_are_not_losses(ws, ws_root, smtp):
    assert _send(ws_root).exit_code == 0
    assert _run(ws_root, "forget", OBJECTOR).exit_code == 0  # rows go on purpose
    reader = "l.wagner@ruhrblick-online.example.com"
    _unsubscribe(ws, reader)
    signer = subscriptions.signer(ws)
    rid = signer.recipient_id(reader)
    with open_ledger(ws.state_dir) as ledger:
        # a suppression whose transaction rolled back must not look lost
        with pytest.raises(RuntimeError), ledger.transaction():
            ledger.suppress("rolled-back-key", None, "manual", "test")
            raise RuntimeError("changed my mind")
        ledger.verify()
        from newsletter.delivery import subscribers

        assert subscribers.resubscribe(ledger, rid)  # lifted, and journaled as lifted
        ledger.verify()
        assert ledger.suppressed([rid]) == set()
    assert _send(ws_root).exit_code == 0
    assert smtp.received[OBJECTOR] == 1  # erased: never again


def test_a_ledger_from_before_the_journal_is_taken_in(ws, ws_root, smtp):
    assert _send(ws_root, "press").exit_code == 0
    _unsubscribe(ws, OBJECTOR)
    (ws.state_dir / JOURNAL).unlink()
    (ws.state_dir / MARKS).unlink()
    assert _run(ws_root, "db", "check").exit_code == 0  # journals what the ledger has
    assert OBJECTOR not in (ws.state_dir / JOURNAL).read_text()  # ids only, no address
    _sql(ws, "DELETE FROM suppressions")
    assert "1 suppression" in _run(ws_root, "db", "check").output


def test_a_line_not_signed_with_the_address_key_lifts_nothing(ws, ws_root, smtp):
    assert _send(ws_root, "press").exit_code == 0
    _unsubscribe(ws, OBJECTOR)
    rid = subscriptions.signer(ws).recipient_id(OBJECTOR)
    with (ws.state_dir / JOURNAL).open("a") as journal:  # a lift written by hand
        journal.write(f'0000 ["-","{rid}","unsubscribe","2026-01-01T00:00:00+00:00"]\n')
        journal.write('["+","cut by a crash')  # and a line a crash cut short
    _sql(ws, "DELETE FROM suppressions")
    check = _run(ws_root, "db", "check")
    assert check.exit_code == 1 and "1 suppression(s)" in check.output  # still held
    assert "are damaged or not signed" in check.output
    with open_ledger(ws.state_dir) as ledger:
        assert ledger.suppressed([rid]) == {rid}
        ledger.suppress("new-key", None, "manual", "test")  # appends after the cut line
        assert ledger.journal.holding(["new-key", rid]) == {"new-key", rid}
