"""The send loop: ledger first, suppressions checked right before each batch leaves.

The plan goes into the ledger once; the loop then reads it back page by page, so
a campaign of 100,000 recipients never holds more than a page of rows and one
batch of messages. For every batch: drop suppressed recipients, build the payload,
mark the rows it carries ``sending`` (committed), hand it to the transport, record
what the server said. Because the payload is built before the rows are marked, a
row left ``sending`` by a crash really was in flight: ``unknown`` means "may have
left", never "was still being built". Ctrl-C, SIGTERM (systemd stop) and SIGHUP
(a closed terminal) ask the loop to stop after the batch in flight, so a pause
never creates unknowns.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from newsletter.audience.selection import Assignment
from newsletter.delivery import claims
from newsletter.delivery.ledger import LEFT_LISTS, Ledger, Row, now, open_ledger
from newsletter.delivery.locks import campaign_lock
from newsletter.delivery.mime import MessageBuilder, Prepared
from newsletter.delivery.resuming import DATABASE_ERRORS, resumable
from newsletter.delivery.transports.base import (
    FAILED,
    PENDING,
    REJECTED,
    SENT,
    Batch,
    Outcome,
    Transport,
    TransportStop,
)
from newsletter.errors import DeliveryError, NewsletterError

MAX_ATTEMPTS = 3
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rejection:
    """A recipient a server refused in this run, with the server's own words."""

    email: str
    language: str
    error: str


@dataclass
class RunResult:
    campaign: str
    counts: dict[str, int]
    unknown: list[Row]
    handed_over: int = 0  # messages accepted in this run
    stopped: str = ""  # why the run ended early, if it did
    paused: bool = False
    suppressed_now: int = 0
    resumed: int = 0  # rows an earlier run had prepared but not handed over
    rejected_now: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    finished: bool = False  # nothing left to send: no row pending or deferred


PAUSE_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopFlag:
    """Ctrl-C, SIGTERM or SIGHUP once: finish the batch in flight, then stop.
    A second one: stop at once."""

    def __init__(self) -> None:
        self.set = False
        self.previous: dict[int, object] = {}

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            for sig in PAUSE_SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum, frame):  # type: ignore[no-untyped-def]
        if self.set:
            raise KeyboardInterrupt
        self.set = True

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]


def plan_rows(assignments: Iterable[Assignment], builder: MessageBuilder
              ) -> Iterator[tuple[str, str, str, str, str, str, str]]:
    for a in assignments:
        rid = builder.signer.recipient_id(a.recipient.email)
        yield (rid, a.recipient.email, a.recipient.name, a.edition_lang, a.reason,
               builder.message_id(rid), a.why)


class Workers(Protocol):
    """Worker processes started for a campaign (``send --workers N``)."""

    def running(self) -> bool: ...
    def stop(self) -> None: ...  # finish the batch in flight, then end
    def wait(self) -> list[str]: ...  # what went wrong in each that failed


StartWorkers = Callable[[], Workers]


def run_campaign(*, state_dir: Path, campaign: str, release_id: str, selection: str,
                 assignments: Iterable[Assignment], prepared: dict[str, Prepared],
                 builder: MessageBuilder, transport: Transport, resend_unknown: bool = False,
                 retry_rejected: bool = False, progress: Progress | None = None,
                 retry_sleep: Callable[[float], None] = time.sleep,
                 retry_after: float = 0.0, request: str = "",
                 workers: StartWorkers | None = None) -> RunResult:
    """Plan the campaign into the ledger and send it: in this process, or by the worker
    processes ``workers`` starts, while this one holds the dispatch lock and reports."""
    with resumable(state_dir, campaign), campaign_lock(state_dir, campaign), \
            open_ledger(state_dir) as ledger:
        ledger.verify()  # a ledger that lost rows or suppressions would mail people again
        ledger.add_campaign(campaign, release_id, transport.name, selection,
                            plan_rows(assignments, builder), kind=transport.kind,
                            outbox=transport.outbox_folder, retry_rejected=retry_rejected,
                            request=request)
        ledger.raise_marks()
        ledger.recover(campaign, resend_unknown=resend_unknown or transport.replays_safely,
                       alive=lambda worker: claims.alive(state_dir, worker))
        result = RunResult(campaign, {}, [], resumed=ledger.count_resumed(campaign))
        if workers is None:
            work_campaign(ledger, state_dir=state_dir, campaign=campaign, prepared=prepared,
                          builder=builder, transport=transport, result=result,
                          progress=progress, retry_sleep=retry_sleep, retry_after=retry_after)
        elif claims.has_free(ledger, campaign, (PENDING,)):
            _oversee(ledger, state_dir, campaign, workers(), result, progress)
        elif claims.has_free(ledger, campaign, (FAILED,)):
            # workers take pending rows only (a deferred row a worker gave its tries
            # would keep them busy for ever): these are retried by a send without them
            result.notes.append(f"{ledger.counts(campaign)[FAILED]} deferred message(s) "
                                "left: the same command without --workers tries them again")
        # else nothing a worker could claim: none is started (it would only say the
        # campaign is not being sent), and the result says the campaign is finished
        result.counts = ledger.counts(campaign)
        result.unknown = ledger.rows(campaign, status="unknown")
        result.finished = not (result.counts[PENDING] or result.counts[FAILED])
        return result


def work_campaign(ledger: Ledger, *, state_dir: Path, campaign: str,
                  prepared: dict[str, Prepared], builder: MessageBuilder, transport: Transport,
                  result: RunResult, progress: Progress | None = None,
                  retry_sleep: Callable[[float], None] = time.sleep,
                  retry_after: float = 0.0) -> None:
    """Claim pages of the campaign and send them until none is left (or a stop)."""
    worker = claims.new_worker_id()
    total = ledger.count_pending(campaign)
    done = 0
    with claims.presence(state_dir, worker), _StopFlag() as stop, transport:
        try:
            # Every run gives a deferred (4xx) message up to MAX_ATTEMPTS tries, so a
            # message a server kept deferring goes out in a later run, as documented.
            for attempt_pass in range(MAX_ATTEMPTS):
                statuses = (PENDING, FAILED) if attempt_pass == 0 else (FAILED,)
                if attempt_pass:  # a later pass for messages a server deferred (4xx)
                    if stop.set or result.stopped or not claims.has_free(ledger, campaign,
                                                                         statuses):
                        break
                    retry_sleep(retry_after)
                after: tuple[str, int] = ("", -1)
                while not (result.paused or result.stopped):
                    if stop.set:
                        result.paused = True
                        break
                    page = claims.claim(ledger, campaign, worker, statuses=statuses,
                                        after=after, limit=transport.batch_size)
                    if not page:
                        break
                    after = (page[-1][0].language, page[-1][1])
                    for batch_rows in _batches(iter(r for r, _ in page), transport.batch_size):
                        try:
                            done += _send_batch(ledger, campaign, batch_rows, prepared,
                                                builder, transport, result)
                        except TransportStop as halt:
                            result.stopped = halt.message
                            break
                        if progress:
                            progress(min(done, total), total)
                        if stop.set:
                            break
                if result.paused or result.stopped:
                    break
        finally:
            # when the database failed, the error on its way says so; rows still claimed
            # go back in line when the next run finds this worker gone (recover)
            with contextlib.suppress(*DATABASE_ERRORS):
                claims.release(ledger, campaign, worker)


def _oversee(ledger: Ledger, state_dir: Path, campaign: str, workers: Workers,
             result: RunResult, progress: Progress | None) -> None:
    """Wait for the workers, report progress from the ledger, pass a pause on to them,
    and afterwards account for what they did (rows a dead worker left are listed)."""
    before = ledger.counts(campaign)
    total = ledger.count_pending(campaign)
    started = now()
    with _StopFlag() as stop:
        asked = False
        try:
            while workers.running():
                if stop.set and not asked:
                    workers.stop()
                    asked = result.paused = True
                if progress:
                    progress(min(total, total - ledger.count_pending(campaign)), total)
                time.sleep(0.5)
        except DATABASE_ERRORS:
            # the ledger is gone for now, and with it the dispatch lock: the workers
            # stop after their batch in flight, then the error says how to go on
            workers.stop()
            workers.wait()
            raise
    failures = workers.wait()
    ledger.recover(campaign, resend_unknown=False,
                   alive=lambda worker: claims.alive(state_dir, worker))
    result.rejected_now = [Rejection(r.email, r.language, r.last_error)
                           for r in ledger.rows(campaign, status=REJECTED)
                           if r.updated_at >= started and r.last_error != LEFT_LISTS]
    after = ledger.counts(campaign)
    result.handed_over = after[SENT] - before[SENT]
    result.suppressed_now = after["suppressed"] - before["suppressed"]
    if failures and not result.paused:
        result.stopped = "; ".join(failures)
    elif claims.has_free(ledger, campaign, (PENDING,)) and not result.paused:
        # deferred rows a worker gave its tries stay 'failed' for the next run, as in a
        # run without workers; rows nobody took mean the workers gave up early
        result.stopped = "the workers ended with messages still to send"


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        if batch and (len(batch) >= size or row.language != batch[0].language):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _send_batch(ledger: Ledger, campaign: str, rows: list[Row], prepared: dict[str, Prepared],
                builder: MessageBuilder, transport: Transport, result: RunResult) -> int:
    """Send one batch; returns how many rows it settled."""
    blocked = ledger.suppressed([r.recipient for r in rows])  # right before it leaves
    if blocked:
        ledger.mark(campaign, [(rid, "suppressed", "on the suppression list", "")
                               for rid in blocked])
        result.suppressed_now += len(blocked)
    rows = [r for r in rows if r.recipient not in blocked]
    if not rows:
        return len(blocked)
    prep = prepared[rows[0].language]
    # Build first: a crash while building leaves the rows pending (they never left).
    items, unbuilt = [], []
    for r in rows:
        try:
            items.append(builder.item(prep, r.recipient, r.email, r.name, r.message_id,
                                      mime=transport.wants_mime, why=r.why))
        except DeliveryError as err:  # a name or address no header may carry
            unbuilt.append(Outcome(r.recipient, REJECTED, err.message))
    batch = Batch(campaign, builder.parts(prep), tuple(items))
    payload = transport.build(batch)
    refused = {o.recipient_id for o in [*unbuilt, *transport.refused(payload)]}
    ledger.mark_sending(campaign, [r.recipient for r in rows if r.recipient not in refused])
    try:
        outcomes = unbuilt + transport.post(batch, payload)
    except TransportStop as halt:
        _record(ledger, campaign, unbuilt + halt.outcomes, rows, result)
        raise
    except NewsletterError as error:  # refused login, bad key: raised before handing over
        _record(ledger, campaign, unbuilt + [Outcome(r.recipient, PENDING, error.message)
                                             for r in rows if r.recipient not in refused],
                rows, result)
        raise
    _record(ledger, campaign, outcomes, rows, result)
    result.handed_over += sum(1 for o in outcomes if o.status == SENT)
    return len(blocked) + len(rows)


def _record(ledger: Ledger, campaign: str, outcomes: list[Outcome], rows: list[Row],
            result: RunResult) -> None:
    seen = {o.recipient_id for o in outcomes}
    # a transport that stopped before reaching a row leaves it pending, not unknown
    missing = [Outcome(r.recipient, PENDING, "not attempted") for r in rows
               if r.recipient not in seen]
    ledger.mark(campaign, [(o.recipient_id, o.status, o.error, o.provider_id)
                           for o in [*outcomes, *missing]])
    by_id = {r.recipient: r for r in rows}
    result.rejected_now += [Rejection(by_id[o.recipient_id].email, by_id[o.recipient_id].language,
                                      o.error)
                            for o in outcomes if o.status == REJECTED and o.recipient_id in by_id]
