"""The send ledger and the suppression list: one database, SQLite (WAL) under state/ by
default, or PostgreSQL when NEWSLETTER_DATABASE_URL names one.

One row per campaign x recipient. A row is marked ``sending`` and committed before
its message leaves, and ``sent`` only after the server accepted it; a crash leaves
``sending`` rows, which the next run turns into ``unknown`` and lists instead of
guessing. Suppressions are keyed by a keyed hash of the address, so an erased
person stays suppressed without their address being stored. The statements are the
same for both engines (see connection.py).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from newsletter.delivery import pgschema
from newsletter.delivery.connection import Store, safe, state_url
from newsletter.delivery.journal import ADD, LIFT, Journal, Marks
from newsletter.delivery.ledger_schema import (
    SCHEMA,
    SCHEMA_STAMP,
    migrate_campaigns,
    migrate_deliveries,
    migrate_workers,
    plan_values,
    statements,
)
from newsletter.delivery.losses import LossChecks
from newsletter.delivery.records import (
    REASONS,
    STATUSES,
    Campaign,
    Row,
    Schedule,
    ScheduleState,
    Suppression,
    now,
)
from newsletter.errors import DeliveryError, StateError
from newsletter.workspace.state import (
    ADDRESS_KEY,
    DB_NAME,
    RESTORE,
    URL_VARIABLE,
    fingerprint,
    read_key,
    state_errors,
)

LEFT_LISTS = "no longer in the selected lists"
IN_FLIGHT = "the run stopped while the request carrying this message was in flight"
# the columns of a records.Row, in its order
ROW_COLUMNS = ("campaign, recipient, email, name, language, reason, message_id, status,"
               " attempts, last_error, provider_id, updated_at, why")


def open_ledger(state_dir: Path, *, busy_timeout: float = 30.0,
                url: sa.URL | None = None) -> Ledger:
    """The workspace's ledger, checked against its address key.

    ``busy_timeout``: how many seconds to wait for another process's write to finish
    before giving up with LedgerBusy (a web request waits less than a command).
    ``url``: another database than the workspace's (``db copy`` reads the SQLite file).
    """
    return Ledger(state_dir / DB_NAME, busy_timeout=busy_timeout, url=url)


def ledger_exists(state_dir: Path) -> bool:
    """Whether anything was ever recorded: commands that only read create nothing."""
    url = state_url(state_dir)
    if url.get_backend_name() == "sqlite":
        return Path(str(url.database)).exists()
    return pgschema.has_ledger(url)


class Ledger(LossChecks):
    def __init__(self, path: Path, *, busy_timeout: float = 30.0, url: sa.URL | None = None):
        state_dir = path.parent
        self.url = url or (state_url(state_dir) if path.name == DB_NAME
                           else sa.URL.create("sqlite", database=str(path)))
        sqlite = self.url.get_backend_name() == "sqlite"
        self.path = Path(str(self.url.database)) if sqlite else path
        self.where: Path | str = self.path if sqlite else safe(self.url)
        key_path = state_dir / ADDRESS_KEY
        key = read_key(key_path)
        # beside the database, in state/: what it once held (journal.py)
        self.journal = Journal(state_dir, key) if key is not None else None
        self.marks = Marks(state_dir)
        self._after_commit: list[Callable[[], None]] = []
        self._journal_lines: list[tuple[str, str, str]] = []  # one append per commit
        exists = self._sqlite_file(key) if sqlite else True
        with state_errors(self.where, "open the ledger"):
            self.db = Store(self.url)
            try:
                if self.db.postgres:
                    pgschema.ensure(self.db, busy_timeout)
                else:
                    if not exists:
                        os.chmod(self.path, 0o600)  # addresses and delivery history: personal data
                    self._setup_sqlite(busy_timeout)
                self.ledger_id = self._check_key(key, key_path)
            except BaseException:
                self.db.close()
                raise

    def _sqlite_file(self, key: bytes | None) -> bool:
        path = self.path
        exists = path.exists()
        if key is not None and (not exists or path.stat().st_size == 0):
            # sqlite would happily start an empty ledger here, and the next send would
            # mail everyone again, the unsubscribed and the erased included
            raise StateError(f"the ledger is {'empty' if exists else 'missing'} while "
                             f"{ADDRESS_KEY} exists: the record of every send, unsubscribe "
                             f"and erasure is gone; {RESTORE}", path=path)
        with state_errors(path.parent, "create the state folder"):
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return exists

    def _setup_sqlite(self, busy_timeout: float) -> None:
        # Two first commands on a fresh state/ race to switch the journal mode; the
        # loser sees "database is locked" at once (no busy handler for this pragma).
        for attempt in range(100):
            try:
                self.db.pragma("journal_mode=WAL")
                break
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == 99:
                    raise
                time.sleep(0.05)
        self.db.pragma(f"busy_timeout={int(busy_timeout * 1000):d}")
        self.db.pragma("synchronous=FULL")  # a committed 'sending' survives power loss
        self.db.pragma("foreign_keys=ON")
        # checkpoint in larger steps: a campaign rewrites every row three times (claimed,
        # sending, sent)
        self.db.pragma("wal_autocheckpoint=16384")
        if self.db.pragma("user_version") == SCHEMA_STAMP:
            return  # set up by this schema before: a read, no write lock per open
        with self.transaction() as db:
            for statement in statements(SCHEMA):
                db.conn.exec_driver_sql(statement)
            columns = {r[1] for r in db.execute("PRAGMA table_info(campaigns)")}
            if "kind" not in columns:
                migrate_campaigns(db)
            if "why" not in {r[1] for r in db.execute("PRAGMA table_info(deliveries)")}:
                migrate_deliveries(db)
            migrate_workers(db)
            db.pragma(f"user_version={SCHEMA_STAMP:d}")

    def _check_key(self, key: bytes | None, key_path: Path) -> str:
        """The ledger's own id; its key fingerprint must match the key beside it."""
        meta = dict(self.db.execute("SELECT name, value FROM meta").all())
        if key is not None and meta.get("key_fingerprint") == fingerprint(key) and \
                "ledger_id" in meta:
            return meta["ledger_id"]  # the usual case, checked without the write lock
        if key is not None and "ledger_id" not in meta and self.db.postgres:
            # the database has no ledger, but the workspace has kept one: starting afresh
            # here would mail everyone again
            raise StateError(f"the database {self.where} holds no ledger yet, while "
                             f"{ADDRESS_KEY} exists: move the workspace's ledger there "
                             f"first ('newsletter db copy --to URL' without {URL_VARIABLE}),"
                             f" or {RESTORE}", path=key_path)
        with self.transaction() as db:
            db.execute("INSERT INTO meta VALUES ('ledger_id', ?) ON CONFLICT DO NOTHING",
                       (secrets.token_hex(8),))
            meta = dict(db.execute("SELECT name, value FROM meta").all())
            if key is None and "key_fingerprint" in meta:
                # another first command may have made the key since we looked: it records
                # the fingerprint only after the key file is in place, so look again
                key = read_key(key_path)
            if key is None:
                history = db.execute("SELECT EXISTS (SELECT 1 FROM campaigns) OR EXISTS"
                                     " (SELECT 1 FROM suppressions)").scalar()
                if "key_fingerprint" in meta or history:
                    raise StateError(f"the address key is missing, but ledger "
                                     f"{meta['ledger_id']} was kept with one: without it no "
                                     f"recipient is recognised and everyone would be mailed "
                                     f"again; {RESTORE}", path=key_path)
            elif "key_fingerprint" not in meta:
                db.execute("INSERT INTO meta VALUES ('key_fingerprint', ?)", (fingerprint(key),))
            elif meta["key_fingerprint"] != fingerprint(key):
                raise StateError(f"the address key (fingerprint {fingerprint(key)}) is not the "
                                 f"one ledger {meta['ledger_id']} was kept with (fingerprint "
                                 f"{meta['key_fingerprint']}): one of the two was replaced; "
                                 f"{RESTORE}", path=key_path)
        return meta["ledger_id"]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, shared: bool = False) -> Iterator[Store]:
        """One write transaction; inside another it is a savepoint of that one, so that
        several steps (a whole webhook batch) commit together or not at all.

        ``shared``: on PostgreSQL, runs beside other shared transactions instead of
        after them (workers claiming and settling their own rows); SQLite has one
        writer at a time either way."""
        if self.db.in_transaction:
            marks = len(self._after_commit), len(self._journal_lines)
            try:
                with self.db.transaction():
                    yield self.db
            except BaseException:
                # the savepoint's own follow-ups go with it
                del self._after_commit[marks[0]:], self._journal_lines[marks[1]:]
                raise
            return
        try:
            with state_errors(self.where, "write the ledger"), \
                    self.db.transaction(shared=shared):
                yield self.db
        except BaseException:
            self._after_commit.clear()
            self._journal_lines.clear()
            raise
        # committed: now the journal may say so (a webhook batch: one write, one fsync)
        lines, self._journal_lines = self._journal_lines, []
        if lines and self.journal is not None:
            self.journal.append(lines)
        done, self._after_commit = self._after_commit, []
        for follow_up in done:
            follow_up()

    def _after(self, follow_up: Callable[[], None]) -> None:
        """Run ``follow_up`` once the transaction in progress has committed."""
        self._after_commit.append(follow_up)

    def _journal(self, op: str, key: str, reason: str) -> None:
        """A line for the suppression journal, written once the transaction commits."""
        self._journal_lines.append((op, key, reason))

    # --- campaigns and deliveries -----------------------------------------------------

    def add_campaign(self, campaign: str, release: str, transport: str, selection: str,
                     rows: Iterable[tuple[str, ...]], *,
                     kind: str = "real", outbox: str = "", retry_rejected: bool = False,
                     request: str = "") -> int:
        """Record the plan: (recipient id, email, name, language, reason, message id, and
        optionally why they get the mailing).

        Rows already settled are left as they are (a rerun must not reset 'sent');
        rows still to send take the current plan's edition (a translation may have been
        approved since), and people who left the lists are marked rejected. The plan
        goes straight into SQLite: the send loop reads it back page by page.
        ``retry_rejected`` puts rows a server rejected back in line (after the cause was
        fixed). People erased by 'forget' whose row is still in a list are recorded by
        their keyed hash only. ``request`` (JSON) is what a worker joining the campaign
        prepares it from (claims.py). Returns how many rows are new.
        """
        stamp = now()
        with self.transaction() as db:
            known = db.execute("SELECT kind FROM campaigns WHERE id=?", (campaign,)).fetchone()
            if known and known[0] != kind:  # ids differ by kind: a mix-up must never send
                raise DeliveryError(f"campaign {campaign} is a {known[0]} campaign in the "
                                    f"ledger, not a {kind} one")
            db.execute("INSERT INTO campaigns (id, release, transport, selection,"
                       " created_at, kind, outbox) VALUES (?, ?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT DO NOTHING",
                       (campaign, release, transport, selection, stamp, kind, outbox))
            if request:
                db.execute("UPDATE campaigns SET request=? WHERE id=?", (request, campaign))
            before = db.execute("SELECT count(*) FROM deliveries WHERE campaign=?",
                                (campaign,)).fetchone()[0]
            mark = db.execute("SELECT coalesce(max(plan_mark), 0) + 1 FROM deliveries"
                              " WHERE campaign=?", (campaign,)).fetchone()[0]
            erased = {k for (k,) in db.execute("SELECT key FROM suppressions"
                                                " WHERE reason='erased'")}
            db.executemany(
                "INSERT INTO deliveries (campaign, recipient, email, name, language, reason,"
                " why, message_id, status, last_error, seq, plan_mark, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(campaign, recipient) DO UPDATE SET name=excluded.name,"
                " language=excluded.language, reason=excluded.reason, why=excluded.why,"
                " plan_mark=excluded.plan_mark WHERE deliveries.status IN ('pending', 'failed')",
                plan_values(campaign, rows, erased, mark, stamp))
            # still to send, but not in this run's plan: they left the selected lists
            db.execute("UPDATE deliveries SET status='rejected', updated_at=?,"
                       " last_error=?"
                       " WHERE campaign=? AND status IN ('pending', 'failed') AND plan_mark != ?",
                       (stamp, LEFT_LISTS, campaign, mark))
            if retry_rejected:  # only people still in the plan, never those who left
                db.execute("UPDATE deliveries SET status='pending', worker='', plan_mark=?,"
                           " updated_at=?"
                           " WHERE campaign=? AND status='rejected' AND last_error != ?"
                           " AND email != ''", (mark, stamp, campaign, LEFT_LISTS))
            after = db.execute("SELECT count(*) FROM deliveries WHERE campaign=?",
                               (campaign,)).fetchone()[0]
        if db.postgres and after - before > 1000:
            # PostgreSQL plans by its statistics, which do not know the new plan yet: the
            # workers' claims would sort every row of the campaign instead of reading
            # the index in order (autovacuum analyses the table only later)
            with state_errors(self.where, "analyse the ledger"):
                db.conn.exec_driver_sql("ANALYZE deliveries")
        return after - before

    def recover(self, campaign: str, *, resend_unknown: bool,
                alive: Callable[[str], bool] = lambda worker: False) -> list[Row]:
        """Rows a crashed worker left in 'sending' become 'unknown' (or 'pending' when
        asked), and the rows it had claimed go back in line. ``alive(worker)`` tells a
        running worker, whose rows are left alone."""
        with self.transaction() as db:
            claimed = [w for (w,) in db.execute(
                "SELECT DISTINCT worker FROM deliveries WHERE campaign=? AND worker != ''"
                " AND status IN ('sending', 'pending', 'failed')", (campaign,))]
            dead = [w for w in claimed if not alive(w)]
            # '': rows a ledger from before workers left in flight
            for chunk in _chunks(["", *dead]):
                marks = ",".join("?" * len(chunk))
                db.execute("UPDATE deliveries SET status='unknown', updated_at=?, last_error=?"  # noqa: S608 - "?" marks only
                           " WHERE campaign=? AND status='sending' AND worker IN (" + marks + ")",
                           (now(), IN_FLIGHT, campaign, *chunk))
            for chunk in _chunks(dead):
                db.execute("UPDATE deliveries SET worker='' WHERE campaign=?"  # noqa: S608 - "?" marks only
                           " AND status IN ('pending', 'failed') AND worker IN ("
                           + ",".join("?" * len(chunk)) + ")", (campaign, *chunk))
            if resend_unknown:
                db.execute("UPDATE deliveries SET status='pending', worker='', updated_at=?"
                           " WHERE campaign=? AND status='unknown'", (now(), campaign))
        return self.rows(campaign, status="unknown")

    def pending(self, campaign: str, *, retry_failed: bool = True) -> Iterator[Row]:
        """Rows still to send, in plan order (read in pages: never the whole list)."""
        statuses = ("pending", "failed") if retry_failed else ("pending",)
        marks = ",".join("?" * len(statuses))  # placeholders only: values stay parameters
        # Edition by edition (large batches), in plan order within an edition, paged by
        # (language, seq), so rows changing status meanwhile never shift the pages.
        sql = ("SELECT " + ROW_COLUMNS + ", seq FROM deliveries"  # noqa: S608 - only "?" marks and fixed names are joined in
               " WHERE campaign=? AND status IN (" + marks + ") AND (language, seq) > (?, ?)"
               " ORDER BY language, seq LIMIT 2000")
        last: tuple[str, int] = ("", -1)
        while True:
            page = self.db.execute(sql, (campaign, *statuses, *last)).fetchall()
            if not page:
                return
            for rec in page:
                last = (rec[4], rec[-1])
                yield Row(*rec[:-1])

    def mark_sending(self, campaign: str, recipients: list[str]) -> None:
        """Committed before the message leaves: a crash after this point is 'unknown'."""
        stamp = now()
        self.db.pragma("synchronous=FULL")  # on disk before the message leaves
        with self.transaction(shared=True) as db:
            for chunk in _chunks(recipients):
                db.execute("UPDATE deliveries SET status='sending', attempts=attempts+1,"  # noqa: S608 - "?" marks only
                           " updated_at=? WHERE campaign=? AND recipient IN ("
                           + ",".join("?" * len(chunk)) + ")", (stamp, campaign, *chunk))

    def mark(self, campaign: str, results: Iterable[tuple[str, str, str, str]]) -> None:
        """(recipient id, status, error, provider id) after the server answered.

        A batch mostly ends one way (1000 recipients 'sent' with one provider id), so
        rows are updated per outcome, not per recipient.
        """
        stamp = now()
        groups: dict[tuple[str, str, str], list[str]] = {}
        for rid, status, error, provider in results:
            if status not in STATUSES:
                raise DeliveryError(f"unknown delivery status {status!r}")
            groups.setdefault((status, error[:500], provider), []).append(rid)
        # Losing this commit to a power cut leaves the rows 'sending', which the next run
        # reports as unknown and does not resend: safe, so no fsync is spent on it.
        self.db.pragma("synchronous=NORMAL")
        try:
            self._mark_groups(campaign, groups, stamp)
        finally:
            self.db.pragma("synchronous=FULL")

    def _mark_groups(self, campaign: str, groups: dict[tuple[str, str, str], list[str]],
                     stamp: str) -> None:
        with self.transaction(shared=True) as db:
            if db.postgres:  # the same bargain on PostgreSQL: no wait for the disk
                db.execute("SET LOCAL synchronous_commit TO OFF")
            for (status, error, provider), rids in groups.items():
                # back in line: any worker may take the row again
                unclaim = ", worker=''" if status in ("pending", "failed") else ""
                for chunk in _chunks(rids):
                    db.execute("UPDATE deliveries SET status=?, last_error=?, provider_id=?,"  # noqa: S608 - "?" marks only
                               " updated_at=?" + unclaim + " WHERE campaign=? AND recipient IN ("
                               + ",".join("?" * len(chunk)) + ")",
                               (status, error, provider, stamp, campaign, *chunk))

    def count_resumed(self, campaign: str) -> int:
        """Rows an earlier run had started on but handed back untouched (it stopped
        before posting them): unlike 'unknown', they certainly never left."""
        return self.db.execute("SELECT count(*) FROM deliveries WHERE campaign=? AND"
                               " status='pending' AND attempts > 0 AND last_error != ?",
                               (campaign, IN_FLIGHT)).fetchone()[0]

    def count_pending(self, campaign: str) -> int:
        return self.db.execute("SELECT count(*) FROM deliveries WHERE campaign=? AND status IN"
                               " ('pending', 'failed')", (campaign,)).fetchone()[0]

    def counts(self, campaign: str) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for status, n in self.db.execute("SELECT status, count(*) FROM deliveries"
                                         " WHERE campaign=? GROUP BY status", (campaign,)):
            out[status] = n
        return out

    def rows(self, campaign: str, status: str | None = None) -> list[Row]:
        sql = "SELECT " + ROW_COLUMNS + " FROM deliveries WHERE campaign=?"  # noqa: S608 - fixed names
        args: tuple[str, ...] = (campaign,)
        if status:
            sql += " AND status=?"
            args += (status,)
        return [Row(*r) for r in self.db.execute(sql + " ORDER BY seq", args)]

    def deliveries_of(self, recipient: str) -> list[Row]:
        """One person's rows in every campaign, oldest first (the admin's person page)."""
        return [Row(*r) for r in self.db.execute(
            "SELECT d.campaign, d.recipient, d.email, d.name, d.language, d.reason,"
            " d.message_id, d.status, d.attempts, d.last_error, d.provider_id, d.updated_at"
            " FROM deliveries d JOIN campaigns c ON c.id = d.campaign WHERE d.recipient=?"
            " ORDER BY c.created_at, d.campaign", (recipient,))]

    def suppression(self, key: str) -> Suppression | None:
        row = self.db.execute("SELECT key, email, reason, source, created_at FROM suppressions"
                              " WHERE key=?", (key,)).fetchone()
        return Suppression(*row) if row else None

    def campaigns(self) -> list[Campaign]:
        return [Campaign(*r) for r in self.db.execute(
            "SELECT id, release, transport, kind, created_at FROM campaigns"
            " ORDER BY created_at")]

    def outbox_folders(self) -> list[str]:
        """Every folder an outbox rehearsal wrote to, as recorded (for erasure)."""
        return [f for (f,) in self.db.execute("SELECT DISTINCT outbox FROM campaigns"
                                              " WHERE outbox != '' ORDER BY outbox")]

    def record_export(self, path: Path, campaign: str) -> None:
        """A report CSV with addresses in it: erasure must be able to point at it."""
        with self.transaction() as db:
            db.execute("INSERT INTO exports VALUES (?, ?, ?) ON CONFLICT (path, campaign)"
                       " DO UPDATE SET created_at=excluded.created_at",
                       (str(path), campaign, now()))

    def exports(self) -> list[tuple[str, str, str]]:
        rows = self.db.execute("SELECT path, campaign, created_at FROM exports"
                               " ORDER BY created_at")
        return [(path, campaign, at) for path, campaign, at in rows]

    def languages(self, campaign: str) -> set[str]:
        """The editions the campaign's rows name."""
        return {lang for (lang,) in self.db.execute(
            "SELECT DISTINCT language FROM deliveries WHERE campaign=?", (campaign,))}

    def has_campaign(self, campaign: str) -> bool:
        return self.db.execute("SELECT 1 FROM campaigns WHERE id=?",
                               (campaign,)).fetchone() is not None

    # --- schedules ------------------------------------------------------------------------

    def schedule(self, campaign: str, release: str, request: str, send_at: str,
                 transport: str, batch_id: str, status: str) -> None:
        stamp = now()
        with self.transaction() as db:
            existing = db.execute("SELECT status FROM schedules WHERE campaign=?",
                                  (campaign,)).fetchone()
            if existing and existing[0] in (ScheduleState.SCHEDULED, ScheduleState.HANDED_OVER):
                raise DeliveryError(f"campaign {campaign} is already scheduled; cancel it first "
                                    f"with 'newsletter cancel {campaign}'")
            db.execute("INSERT INTO schedules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT (campaign) DO UPDATE SET release=excluded.release,"
                       " request=excluded.request, send_at=excluded.send_at,"
                       " transport=excluded.transport, batch_id=excluded.batch_id,"
                       " status=excluded.status, created_at=excluded.created_at,"
                       " updated_at=excluded.updated_at",
                       (campaign, release, request, send_at, transport, batch_id, status,
                        stamp, stamp))

    def schedules(self, status: str | None = None) -> list[Schedule]:
        sql = ("SELECT campaign, release, request, send_at, transport, batch_id, status"
               " FROM schedules")
        args: tuple[str, ...] = ()
        if status:
            sql += " WHERE status=?"
            args = (status,)
        return [Schedule(*r[:-1], ScheduleState(r[-1]))
                for r in self.db.execute(sql + " ORDER BY send_at", args)]

    def set_schedule(self, campaign: str, status: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE schedules SET status=?, updated_at=? WHERE campaign=?",
                       (status, now(), campaign))
            if status == ScheduleState.CANCELLED:
                db.execute("UPDATE deliveries SET status='cancelled', updated_at=?,"
                           " last_error='the scheduled send was cancelled'"
                           " WHERE campaign=? AND status IN ('pending', 'sent')",
                           (now(), campaign))

    # --- suppressions -------------------------------------------------------------------

    def suppress(self, key: str, email: str | None, reason: str, source: str) -> bool:
        if reason not in REASONS:
            raise DeliveryError(f"unknown suppression reason {reason!r} "
                                f"(one of {', '.join(REASONS)})")
        with self.transaction() as db:
            cur = db.execute("INSERT INTO suppressions VALUES (?, ?, ?, ?, ?)"
                             " ON CONFLICT DO NOTHING",
                             (key, email, reason, source, now()))
            added = cur.rowcount == 1
            if added:
                self._journal(ADD, key, reason)
            return added

    def unsuppress(self, key: str) -> bool:
        return self.lift(key)

    def lift(self, key: str, reason: str | None = None) -> bool:
        """End a suppression (only one for ``reason`` when given); never an erasure's."""
        with self.transaction() as db:
            sql = "DELETE FROM suppressions WHERE key=? AND reason != 'erased'"
            args: tuple[str, ...] = (key,)
            if reason is not None:
                sql, args = sql + " AND reason=?", (key, reason)
            lifted = db.execute(sql, args).rowcount == 1
            if lifted:
                self._journal(LIFT, key, reason or "")
            return lifted

    def suppressed(self, keys: list[str]) -> set[str]:
        """Which of these recipient ids are suppressed, asked right before sending: in
        the database, or in the journal beside it (a suppression the database lost)."""
        out: set[str] = set(self._suppression_reasons(keys))
        if self.journal is not None:
            out |= self.journal.holding(keys)
        return out

    def _suppression_reasons(self, keys: list[str] | None = None) -> dict[str, str]:
        """Reason per suppressed recipient id (of ``keys``, or all)."""
        if keys is None:
            return dict(self.db.execute("SELECT key, reason FROM suppressions").all())
        out: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            out.update(self.db.execute(
                "SELECT key, reason FROM suppressions WHERE key IN ("  # noqa: S608 - "?" marks only
                + ",".join("?" * len(chunk)) + ")", chunk).all())
        return out

    def journaled_reason(self, key: str) -> str | None:
        """The journal's reason for a suppression of ``key``, None when it has none."""
        return self.journal.active().get(key) if self.journal is not None else None

    def suppressions(self) -> list[Suppression]:
        return [Suppression(*r) for r in self.db.execute(
            "SELECT key, email, reason, source, created_at FROM suppressions"
            " ORDER BY created_at, key")]

    def forget(self, key: str, source: str) -> int:
        """Erase a person: their rows go, a bare key stays suppressed. Returns rows removed."""
        with self.transaction() as db:
            rows = dict(db.execute("SELECT campaign, count(*) FROM deliveries"
                                   " WHERE recipient=? GROUP BY campaign", (key,)).all())
            removed = db.execute("DELETE FROM deliveries WHERE recipient=?", (key,)).rowcount
            db.execute("DELETE FROM inbound_mail WHERE sender_key=?", (key,))
            db.execute("INSERT INTO suppressions VALUES (?, NULL, 'erased', ?, ?)"
                       " ON CONFLICT(key) DO UPDATE SET email=NULL, reason='erased'",
                       (key, source, now()))
            self._journal(ADD, key, "erased")
            if rows:  # removed on purpose: the marks come down by as many
                self._after(lambda: self._lower_marks(rows))
        # erased data must not linger in free pages or in the write-ahead log
        with state_errors(self.where, "compact the ledger"):
            if self.db.postgres:  # dead row versions become free space for new rows
                self.db.conn.exec_driver_sql("VACUUM deliveries, inbound_mail, suppressions,"
                                             " subscribers, preferences, consent")
            else:
                self.db.conn.exec_driver_sql("VACUUM")
                self.db.pragma("wal_checkpoint(TRUNCATE)")
        return removed


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
