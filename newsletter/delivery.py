"""The send loop: ledger first, suppressions checked right before each batch leaves.

For every batch: drop suppressed recipients, mark the rest ``sending`` (committed),
hand the batch to the transport, record what the server said. Ctrl-C asks the
loop to stop after the batch in flight, so a pause never creates unknowns.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience import Assignment
from newsletter.errors import NewsletterError
from newsletter.ledger import Ledger, Row, campaign_lock
from newsletter.messages import MessageBuilder, Prepared
from newsletter.transports.base import (
    FAILED,
    PENDING,
    REJECTED,
    Batch,
    Item,
    Outcome,
    Transport,
    TransportStop,
)

MAX_ATTEMPTS = 3
Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    campaign: str
    counts: dict[str, int]
    unknown: list[Row]
    handed_over: int = 0  # messages accepted in this run
    stopped: str = ""  # why the run ended early, if it did
    paused: bool = False
    suppressed_now: int = 0
    notes: list[str] = field(default_factory=list)


class _StopFlag:
    """Ctrl-C once: finish the batch in flight, then stop. Twice: stop at once."""

    def __init__(self) -> None:
        self.set = False
        self.previous = None

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):  # type: ignore[no-untyped-def]
        if self.set:
            raise KeyboardInterrupt
        self.set = True

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def plan_rows(by_id: dict[str, Assignment], builder: MessageBuilder
              ) -> Iterator[tuple[str, str, str, str, str]]:
    """Ledger rows in edition order, so batches of one edition are large."""
    for rid, a in sorted(by_id.items(), key=lambda kv: kv[1].edition_lang):
        yield (rid, a.recipient.email, a.edition_lang, a.reason, builder.message_id(rid))


def run_campaign(*, state_dir: Path, campaign: str, release_id: str, selection: str,
                 assignments: list[Assignment], prepared: dict[str, Prepared],
                 builder: MessageBuilder, transport: Transport, resend_unknown: bool = False,
                 progress: Progress | None = None, retry_sleep: Callable[[float], None] =
                 time.sleep, retry_after: float = 0.0) -> RunResult:
    with campaign_lock(state_dir, campaign), Ledger(state_dir / "ledger.sqlite3") as ledger:
        by_id = {builder.signer.recipient_id(a.recipient.email): a for a in assignments}
        ledger.add_campaign(campaign, release_id, transport.name, selection,
                            plan_rows(by_id, builder))
        ledger.recover(campaign, resend_unknown=resend_unknown or transport.replays_safely)
        result = RunResult(campaign, {}, [])
        total = sum(1 for _ in ledger.pending(campaign))
        done = 0
        with _StopFlag() as stop, transport:
            for attempt_pass in range(MAX_ATTEMPTS):
                if attempt_pass:  # a later pass for messages a server deferred (4xx)
                    deferred = [r for r in ledger.pending(campaign) if r.status == FAILED
                                and r.attempts < MAX_ATTEMPTS]
                    if not deferred or stop.set or result.stopped:
                        break
                    retry_sleep(retry_after)
                rows = ledger.pending(campaign) if attempt_pass == 0 else iter(deferred)
                for batch_rows in _batches(rows, transport.batch_size, attempt_pass):
                    if stop.set:
                        result.paused = True
                        break
                    try:
                        done += _send_batch(ledger, campaign, batch_rows, by_id, prepared,
                                            builder, transport, result)
                    except TransportStop as halt:
                        result.stopped = halt.message
                        break
                    if progress:
                        progress(min(done, total), total)
                if result.paused or result.stopped:
                    break
        result.counts = ledger.counts(campaign)
        result.unknown = ledger.rows(campaign, status="unknown")
        return result


def _batches(rows: Iterator[Row], size: int, attempt_pass: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        if attempt_pass == 0 and row.status == FAILED and row.attempts >= MAX_ATTEMPTS:
            continue  # gave up on it in an earlier run; the report lists it
        if batch and (len(batch) >= size or row.language != batch[0].language):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _send_batch(ledger: Ledger, campaign: str, rows: list[Row], by_id: dict[str, Assignment],
                prepared: dict[str, Prepared], builder: MessageBuilder, transport: Transport,
                result: RunResult) -> int:
    """Send one batch; returns how many rows it settled."""
    gone = [r for r in rows if r.recipient not in by_id]
    if gone:  # removed from the lists (or erased) since the campaign began
        ledger.mark(campaign, [(r.recipient, REJECTED, "no longer in the selected lists", "")
                               for r in gone])
    rows = [r for r in rows if r.recipient in by_id]
    blocked = ledger.suppressed([r.recipient for r in rows])  # right before it leaves
    if blocked:
        ledger.mark(campaign, [(rid, "suppressed", "on the suppression list", "")
                               for rid in blocked])
        result.suppressed_now += len(blocked)
    rows = [r for r in rows if r.recipient not in blocked]
    if not rows:
        return len(gone) + len(blocked)
    lang = by_id[rows[0].recipient].edition_lang
    items = tuple(Item(r.recipient, by_id[r.recipient].recipient, r.message_id) for r in rows)
    batch = Batch(campaign, prepared[lang], items, builder)
    ledger.mark_sending(campaign, [r.recipient for r in rows])
    try:
        outcomes = transport.send(batch)
    except TransportStop as halt:
        _record(ledger, campaign, halt.outcomes, rows)
        raise
    except NewsletterError as error:  # refused login, bad key: raised before handing over
        _record(ledger, campaign, [Outcome(r.recipient, PENDING, error.message) for r in rows],
                rows)
        raise
    _record(ledger, campaign, outcomes, rows)
    result.handed_over += sum(1 for o in outcomes if o.status == "sent")
    return len(gone) + len(blocked) + len(rows)


def _record(ledger: Ledger, campaign: str, outcomes: list[Outcome], rows: list[Row]) -> None:
    seen = {o.recipient_id for o in outcomes}
    # a transport that stopped before reaching a row leaves it pending, not unknown
    missing = [Outcome(r.recipient, PENDING, "not attempted") for r in rows
               if r.recipient not in seen]
    ledger.mark(campaign, [(o.recipient_id, o.status, o.error, o.provider_id)
                           for o in [*outcomes, *missing]])
