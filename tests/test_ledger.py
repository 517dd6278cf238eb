from __future__ import annotations

import csv
import sqlite3

import pytest
import sqlalchemy as sa

from newsletter.delivery import claims
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import Ledger, open_ledger
from newsletter.delivery.locks import CampaignLocked, campaign_lock
from newsletter.delivery.reports import cell, write_report_csv
from newsletter.errors import LedgerBusy

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "state" / "ledger.sqlite3") as led:
        yield led


ROWS = [("r1", "a@example.org", "Anna", "de", "", "<m1>"),
        ("r2", "b@example.org", "Berk", "de", "", "<m2>"),
        ("r3", "c@example.org", "Cem", "de", "", "<m3>")]


def test_plan_is_recorded_once(ledger):
    assert ledger.add_campaign("c", "rel", "outbox", "sel", ROWS) == 3
    ledger.mark_sending("c", ["r1"])
    ledger.mark("c", [("r1", "sent", "", "q1")])
    assert ledger.add_campaign("c", "rel", "outbox", "sel", ROWS) == 0  # a rerun resets nothing
    assert ledger.counts("c")["sent"] == 1 and ledger.counts("c")["pending"] == 2
    assert [r.recipient for r in ledger.pending("c")] == ["r2", "r3"]
    if not ledger.db.postgres:
        assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # a rerun with a changed plan: r3 left the list, r2 now gets another edition
    changed = [ROWS[0], ("r2", "b@example.org", "Berk", "tr", "", "<m2>")]
    ledger.add_campaign("c", "rel", "outbox", "sel", changed)
    rows = {r.recipient: r for r in ledger.rows("c")}
    assert rows["r1"].status == "sent" and rows["r2"].language == "tr"
    assert rows["r3"].status == "rejected" and rows["r3"].last_error.startswith("no longer")


def test_a_transaction_inside_another_commits_with_it_or_not_at_all(ledger):
    with ledger.transaction():
        ledger.suppress("k1", None, "bounce", "test")
        with pytest.raises(RuntimeError), ledger.transaction() as db:  # a savepoint
            db.execute("INSERT INTO suppressions VALUES ('k2', NULL, 'bounce', 'test', '')")
            raise RuntimeError
        assert [s.key for s in ledger.suppressions()] == ["k1"]  # only the inner step undone
    with pytest.raises(RuntimeError), ledger.transaction():
        ledger.suppress("k3", None, "bounce", "test")
        raise RuntimeError
    assert [s.key for s in ledger.suppressions()] == ["k1"]


@pytest.mark.sqlite_file
def test_a_write_lock_held_too_long_is_ledger_busy(tmp_path):
    path = tmp_path / "state" / "ledger.sqlite3"
    Ledger(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LedgerBusy, match="database is locked"):
            Ledger(path, busy_timeout=0.05)
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.sqlite_file
def test_a_ledger_set_up_before_opens_without_the_write_lock(tmp_path):
    """The web app opens the ledger for every request: only writing waits for a writer."""
    state = tmp_path / "state"
    load_address_key(state)  # the ledger, set up, and its key
    other = sqlite3.connect(state / "ledger.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        with open_ledger(state, busy_timeout=0.05) as led:
            assert led.suppressions() == []
            with pytest.raises(LedgerBusy, match="database is locked"):
                led.suppress("k1", None, "bounce", "test")
    finally:
        other.execute("ROLLBACK")
        other.close()
    with open_ledger(state) as led:
        assert led.suppress("k1", None, "bounce", "test")


@pytest.mark.sqlite_file
def test_a_ledger_of_an_older_schema_is_set_up_again(tmp_path):
    state = tmp_path / "state"
    load_address_key(state)
    db = sqlite3.connect(state / "ledger.sqlite3", isolation_level=None)
    db.execute("DROP TABLE inbound_mail")  # a ledger from before the table existed
    db.execute("PRAGMA user_version=0")
    db.close()
    with open_ledger(state) as led:
        assert led.db.execute("SELECT count(*) FROM inbound_mail").fetchone()[0] == 0


def test_rows_left_sending_become_unknown(ledger):
    ledger.add_campaign("c", "rel", "outbox", "sel", ROWS)
    ledger.mark_sending("c", ["r1", "r2"])  # ... and the process died
    unknown = ledger.recover("c", resend_unknown=False)
    assert [r.recipient for r in unknown] == ["r1", "r2"]
    assert [r.recipient for r in ledger.pending("c")] == ["r3"]
    ledger.recover("c", resend_unknown=True)
    assert [r.recipient for r in ledger.pending("c")] == ["r1", "r2", "r3"]
    assert ledger.rows("c")[0].attempts == 1


def test_the_unique_key_holds(ledger):
    ledger.add_campaign("c", "rel", "outbox", "sel", ROWS)
    with pytest.raises(sa.exc.IntegrityError):
        ledger.db.execute("INSERT INTO deliveries (campaign, recipient, email, language,"
                          " message_id, status, seq, created_at, updated_at) VALUES"
                          " ('c', 'r1', 'x', 'de', 'm', 'pending', 9, 't', 't')")


def test_a_second_run_of_the_same_campaign_is_refused(tmp_path):
    with campaign_lock(tmp_path, "c1"):
        with pytest.raises(CampaignLocked, match="being sent by another process"), \
                campaign_lock(tmp_path, "c1"):
            pass
        with campaign_lock(tmp_path, "c2"):  # other campaigns are independent
            pass
    with campaign_lock(tmp_path, "c1"):  # released when the holder ends
        pass


def test_suppressions_and_forgetting(ledger, tmp_path):
    ledger.add_campaign("c", "rel", "outbox", "sel", ROWS)
    assert ledger.suppress("r2", "b@example.org", "unsubscribe", "test")
    assert not ledger.suppress("r2", "b@example.org", "unsubscribe", "test")
    assert ledger.suppressed(["r1", "r2", "r3"]) == {"r2"}
    assert ledger.unsuppress("r2") and ledger.suppressed(["r2"]) == set()
    assert ledger.forget("r1", "test") == 1
    assert ledger.suppressed(["r1"]) == {"r1"}
    assert not ledger.unsuppress("r1")  # an erased person stays suppressed
    entry = next(s for s in ledger.suppressions() if s.key == "r1")
    assert entry.email is None and entry.reason == "erased"
    if ledger.db.postgres:  # no row of any table holds the address any more
        for table in ("deliveries", "suppressions", "inbound_mail", "subscribers"):
            found = ledger.db.execute(f"SELECT count(*) FROM {table} t"  # noqa: S608
                                      " WHERE t::text LIKE '%a@example.org%'").scalar()
            assert found == 0, table
    else:  # nor in the file's free pages or the write-ahead log
        data = b"".join(p.read_bytes() for p in (tmp_path / "state").iterdir() if p.is_file())
        assert b"a@example.org" not in data


def test_report_csv_neutralises_formulas(ledger, tmp_path):
    ledger.add_campaign("c", "rel", "outbox", "sel",
                        [("r1", "=HYPERLINK(\"x\")@example.org", "", "de", "", "<m1>")])
    ledger.mark("c", [("r1", "rejected", "+1 -2 @cmd", "")])
    path = tmp_path / "report.csv"
    write_report_csv(path, ledger.rows("c"))
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert rows[0]["email"].startswith("'=") and rows[0]["last_error"] == "'+1 -2 @cmd"
    for bad in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert cell(bad) == "'" + bad
    assert cell("ok") == "ok"


def test_recovery_leaves_a_live_workers_rows_and_frees_a_dead_ones(ledger):
    ledger.add_campaign("c", "rel", "outbox", "sel", ROWS)
    page = [row.recipient for row, _ in claims.claim(ledger, "c", "alive", statuses=("pending",),
                                                        after=("", -1), limit=1)]
    assert page == ["r1"]
    dead = [row.recipient for row, _ in claims.claim(ledger, "c", "dead", statuses=("pending",),
                                                        after=("", -1), limit=2)]
    assert dead == ["r2", "r3"]  # skipped the row another worker holds
    ledger.mark_sending("c", ["r1", "r2"])
    ledger.recover("c", resend_unknown=False, alive=lambda worker: worker == "alive")
    status = {r.recipient: r.status for r in ledger.rows("c")}
    assert status == {"r1": "sending", "r2": "unknown", "r3": "pending"}
    ledger.recover("c", resend_unknown=True, alive=lambda worker: worker == "alive")
    # the unknown row asked for again and the dead worker's untouched claim: free again
    free = [row.recipient for row, _ in claims.claim(ledger, "c", "next", statuses=("pending",),
                                                        after=("", -1), limit=5)]
    assert free == ["r2", "r3"]
    assert claims.release(ledger, "c", "next") == 2

