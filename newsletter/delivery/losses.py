"""What the ledger once held, checked against state/'s journal and marks (journal.py).

A mixin of ``Ledger``: it uses the ledger's database, journal, marks and transactions,
and keeps the checks that a ledger emptied or rolled back by hand is noticed before
anyone is mailed again in one place of their own.
"""

from __future__ import annotations

import time
from pathlib import Path

from newsletter.delivery.journal import ADD, RECHECK_AFTER, RESTORE_LEDGER, Loss
from newsletter.delivery.records import now
from newsletter.errors import LedgerLost


class LossChecks:
    """``Ledger.verify`` and what it needs; see the module's docstring."""

    def verify(self) -> None:
        """Before a send: LedgerLost when the ledger lacks a campaign, rows of one, or a
        suppression that state/ says it held. Suppressions only the database has are
        journaled first, and every campaign's rows become its mark."""
        loss = self.losses()
        if loss:
            raise LedgerLost(f"the ledger has lost what it once held: {loss.describe()}. "
                             "Nothing is sent: the people it forgot would be mailed again, "
                             f"those who objected included. To restore: {RESTORE_LEDGER}",
                             path=self.where if isinstance(self.where, Path) else None)
        self.raise_marks()

    def losses(self) -> Loss:
        """What state/ says the ledger held and it does not hold now."""
        if self.journal is None:  # no address key yet: nothing was ever suppressed or sent
            return Loss()
        held = self._suppression_reasons()
        journaled = self.journal.active()
        unjournaled = [k for k in held if k not in journaled]
        if unjournaled:  # ledgers from before the journal; a crash right after a commit
            still = self._suppression_reasons(unjournaled)  # not lifted meanwhile
            self.journal.append((ADD, k, r) for k, r in still.items())
        lost = [k for k in journaled if k not in held]
        if lost:  # a lift commits before its line is appended: look again
            time.sleep(RECHECK_AFTER)
            journaled = self.journal.active()
            held_now = self._suppression_reasons(lost)
            lost = [k for k in lost if k in journaled and k not in held_now]
        ledger, marked = self.marks.read()
        counts = self._row_counts()
        missing = tuple((cid, rows, counts.get(cid, -1))
                        for cid, rows in sorted(marked.items()) if counts.get(cid, -1) < rows)
        other = ledger if ledger and ledger != self.ledger_id else ""
        return Loss(other, missing, tuple(sorted(lost)), tuple(self.journal.damaged()))

    def _row_counts(self) -> dict[str, int]:
        """Delivery rows per campaign; 0 for a campaign without rows, none for no campaign."""
        counts = dict.fromkeys((c for (c,) in self.db.execute("SELECT id FROM campaigns")), 0)
        counts.update(self.db.execute("SELECT c.id, count(*) FROM campaigns c JOIN"
                                      " deliveries d ON d.campaign = c.id GROUP BY c.id").all())
        return counts

    def raise_marks(self) -> None:
        """Each campaign's mark becomes its rows now, where that is more (counted while
        the marks are locked: an erasure lowering them meanwhile waits, see forget)."""
        with self.marks.changing() as (ledger, marked):
            ledger[0] = self.ledger_id
            for cid, rows in self._row_counts().items():
                marked[cid] = max(marked.get(cid, 0), rows)

    def accept_loss(self) -> tuple[Loss, int]:
        """After a restore from a backup older than state/'s record: the journal's
        suppressions go back into the ledger, and the campaigns' marks become what the
        ledger holds now. Returns what was missing, and how many suppressions came back."""
        loss = self.losses()
        if self.journal is not None and loss.suppressions:
            journaled = self.journal.active()
            with self.transaction() as db:
                for key in loss.suppressions:
                    db.execute("INSERT INTO suppressions VALUES (?, NULL, ?, 'journal', ?)"
                               " ON CONFLICT DO NOTHING",
                               (key, journaled.get(key, "manual"), now()))
        with self.marks.changing() as (ledger, marked):
            ledger[0] = self.ledger_id
            marked.clear()
            marked.update((cid, rows) for cid, rows in self._row_counts().items())
        return loss, len(loss.suppressions)

    def _lower_marks(self, removed: dict[str, int]) -> None:
        """Rows an erasure removed (after it committed; under the marks' lock)."""
        with self.marks.changing() as (_, marked):
            for cid, rows in removed.items():
                if cid in marked:
                    marked[cid] = max(0, marked[cid] - rows)
