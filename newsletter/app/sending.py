"""Sending from the admin pages: plan, typed confirmation, a worker, progress, pause.

The planning and the sending are the command line's (``app.mailing``: the same plan
as ``send --dry-run`` and ``digest --dry-run``, the same crash-safe ledger and
campaign lock). What a page needs on top:

* the plan as numbers per edition, plus what the dry run does not print: who of the
  plan is on the suppression list now, the attachments against their budget, the
  embargo, and what the ledger already holds of this campaign;
* a confirmation the officer types (the number of recipients): a mismatch sends nothing;
* the send in a worker process of its own (``app.sendworker``), detached from the web
  server, so the page may close and a server restart does not stop it;
* progress from the ledger; pause (SIGTERM to the process holding the campaign's lock:
  the send loop finishes the batch in flight and stops, exactly as Ctrl-C on the
  command line); resume and "resend unknown" start the worker again, and the ledger
  continues where it stopped;
* schedules and their cancellation (``newsletter dispatch`` sends them).

Every send, refusal, pause, resume, schedule and cancellation is in the audit log, by
campaign id and counts: never an address.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, replace

from babel.numbers import format_decimal

from newsletter.app import audit, mailing
from newsletter.app.accounts import Account, require_officer
from newsletter.app.audit import WEB_BUSY_TIMEOUT
from newsletter.app.workspace import list_releases, target_codes
from newsletter.audience.tokens import address_id
from newsletter.delivery import jobs
from newsletter.delivery.confirmations import CAMPAIGN as CONFIRMATIONS
from newsletter.delivery.jobs import Job, JobState, check_campaign_id
from newsletter.delivery.ledger import ledger_exists, open_ledger
from newsletter.delivery.locks import CampaignLocked, lock_holder
from newsletter.delivery.records import Schedule, ScheduleState, Status
from newsletter.delivery.scheduling import Scheduled
from newsletter.delivery.sending import check_embargo
from newsletter.errors import DeliveryError, FormError
from newsletter.workspace.config import Workspace
from newsletter.workspace.languages import Language, language
from newsletter.workspace.state import ADDRESS_KEY, read_key

__all__ = ["CampaignLocked", "Choice", "DryRun", "JobState", "Progress", "campaigns",
           "cancel", "dry_run", "parse_count", "pause", "progress", "resume", "schedule",
           "schedules", "start"]

KINDS = ("release", "digest")
MONTH = re.compile(r"\d{4}-\d{2}")
# what a typed number may contain besides digits: thousands separators of any locale
SEPARATORS = re.compile(r"[\s,.'\u00a0\u202f]")

SEND_STARTED = "send started"
SEND_REFUSED = "send refused"
SEND_PAUSED = "send paused"
SEND_RESUMED = "send resumed"
RESEND_UNKNOWN = "resend unknown"
SEND_SCHEDULED = "send scheduled"
SCHEDULE_CANCELLED = "schedule cancelled"


@dataclass(frozen=True)
class Choice:
    """What the officer chose: a release (or a month's digest), lists, tags, languages."""

    kind: str  # "release" or "digest"
    ref: str  # the release id, or the month YYYY-MM
    lists: tuple[str, ...]
    tags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    skip_invalid: bool = False
    sandbox: bool = False

    def options(self, *, resend_unknown: bool = False) -> mailing.MailingOptions:
        return mailing.MailingOptions(lists=self.lists, tags=self.tags, langs=self.langs,
                                      skip_invalid=self.skip_invalid, sandbox=self.sandbox,
                                      resend_unknown=resend_unknown)

    def describe(self) -> str:
        """For the audit log: what was chosen, no person in it."""
        parts = [f"lists {','.join(self.lists)}"]
        if self.tags:
            parts.append(f"tags {','.join(self.tags)}")
        if self.langs:
            parts.append(f"languages {','.join(self.langs)}")
        return "; ".join(parts)


def read_choice(ws: Workspace, *, kind: str, ref: str, lists: list[str], tags: str | list[str],
                langs: list[str], skip_invalid: bool = False, sandbox: bool = False) -> Choice:
    """The form's fields as a Choice; FormError names the field that is wrong."""
    kind = kind or "release"
    if kind not in KINDS:
        raise FormError("kind", "choose a release or a month's digest")
    ref = ref.strip()
    if kind == "release":
        if ref not in {r.id for r in list_releases(ws)}:
            raise FormError("release", "choose one of the releases")
    elif not MONTH.fullmatch(ref):
        raise FormError("month", "write the month as YYYY-MM, e.g. 2018-08")
    known = set(ws.config.lists) | {"web"}
    chosen = tuple(dict.fromkeys(n for n in lists if n))
    if not chosen:
        raise FormError("list", "choose at least one list")
    if any(n not in known for n in chosen):
        raise FormError("list", "choose lists of this workspace only")
    typed = tags.split(",") if isinstance(tags, str) else tags
    tag_list = tuple(dict.fromkeys(t.strip().lower() for t in typed if t.strip()))
    if any(not re.fullmatch(r"[\w-]{1,40}", t) for t in tag_list):
        raise FormError("tags", "tags are single words, separated by commas")
    codes = tuple(dict.fromkeys(c for c in langs if c))
    if any(c not in ws.config.languages.all for c in codes):
        raise FormError("lang", "choose languages of this workspace only")
    sandbox = sandbox and ws.config.delivery.transport == "sendgrid"
    return Choice(kind, ref, chosen, tag_list, target_codes(ws, codes), skip_invalid, sandbox)


def _choice_of(job: Job) -> Choice:
    return Choice(job.kind, job.ref, job.lists, job.tags, job.langs, job.skip_invalid,
                  job.sandbox)


def plan(ws: Workspace, choice: Choice, *, resend_unknown: bool = False) -> mailing.Mailing:
    """The command line's plan (``send --dry-run`` / ``digest --dry-run``)."""
    options = choice.options(resend_unknown=resend_unknown)
    if choice.kind == "digest":
        return mailing.plan_digest(ws, choice.ref, options)
    return mailing.plan_release(ws, choice.ref, options)


# --- the dry run -------------------------------------------------------------------------

@dataclass(frozen=True)
class EditionRow:
    key: str  # "fa", or "en+de" when the original goes along
    languages: tuple[Language, ...]
    recipients: int
    by_fallback: int
    reasons: tuple[tuple[str, int], ...]  # why, with how many recipients each
    machine: bool  # unreviewed machine drafts (policy "machine")


@dataclass(frozen=True)
class DryRun:
    choice: Choice
    campaign: str
    title: str  # the release's title, or "Digest 2018-08: ..."
    release_id: str
    transport: str
    rehearsal: str  # "outbox" or "sandbox"; "" for a real send
    total: int
    editions: tuple[EditionRow, ...]
    left_out_by_lang: int
    not_tagged: int
    skipped: tuple[str, ...]  # invalid rows left out (with skip_invalid)
    notes: tuple[str, ...]
    suppressed: int  # of the plan, on the suppression list now: the loop skips them
    attachments: int  # bytes (0 for a digest: it attaches nothing)
    budget: int  # bytes
    embargo: dt.datetime | None
    under_embargo: bool
    ledger: dict[str, int]  # what the ledger already holds of this campaign ({} if new)
    running: bool  # a worker (or a command) is sending it now
    schedulable: bool  # releases only; digests are sent at once

    @property
    def over_budget(self) -> bool:
        return self.attachments > self.budget

    @property
    def already_settled(self) -> int:
        return sum(n for s, n in self.ledger.items()
                   if s not in (Status.PENDING, Status.FAILED, Status.SENDING))


def _suppressed(ws: Workspace, emails: list[str]) -> int:
    """How many of these addresses are on the suppression list (read only: a dry run
    on a fresh workspace creates nothing)."""
    key = read_key(ws.state_dir / ADDRESS_KEY)
    if key is None or not ledger_exists(ws.state_dir):
        return 0
    with open_ledger(ws.state_dir, busy_timeout=WEB_BUSY_TIMEOUT) as ledger:
        return len(ledger.suppressed([address_id(key, e) for e in emails]))


def _ledger_counts(ws: Workspace, campaign: str) -> dict[str, int]:
    if not ledger_exists(ws.state_dir):
        return {}
    with open_ledger(ws.state_dir, busy_timeout=WEB_BUSY_TIMEOUT) as ledger:
        return ledger.counts(campaign) if ledger.has_campaign(campaign) else {}


def dry_run(ws: Workspace, choice: Choice, now: dt.datetime | None = None) -> DryRun:
    """The plan as the page shows it; writes nothing. RecipientError (invalid rows
    without skip_invalid), AudienceError and ReleaseError come through as they are."""
    planned = plan(ws, choice)
    p = planned.planned
    rel = planned.release
    editions = tuple(
        EditionRow(key, tuple(language(c) for c in key.split("+")), n, fb, reasons,
                   p.plan.editions[key].machine)
        for key, n, fb, reasons in p.plan.summary())
    moment = now or dt.datetime.now(dt.UTC)
    size = 0 if choice.kind == "digest" else sum(f.stat().st_size for f in rel.attachments)
    return DryRun(
        choice, p.campaign, planned.title or rel.title.plain, rel.id,
        planned.request.transport, p.rehearsal, len(p.plan), editions,
        p.plan.left_out_by_lang, p.audience.not_tagged,
        tuple(str(s) for s in p.audience.skipped), (*planned.notes, *p.audience.notes),
        _suppressed(ws, [r.email for r in p.plan.recipients]), size,
        int(ws.config.delivery.attachment_budget_mb * 1_000_000), rel.embargo,
        bool(rel.embargo and moment < rel.embargo), _ledger_counts(ws, p.campaign),
        lock_holder(ws.state_dir, p.campaign) is not None, choice.kind == "release")


def format_count(n: int, ui_language: str) -> str:
    """1,234 in English, 1.234 in German: the number the officer is asked to type."""
    return format_decimal(n, locale=ui_language)


def parse_count(typed: str) -> int | None:
    """The number typed into the confirmation, with or without thousands separators."""
    digits = SEPARATORS.sub("", typed.strip())
    return int(digits) if digits.isdigit() and len(digits) < 10 else None


# --- starting, pausing, resuming ----------------------------------------------------------

_LAUNCH = threading.Lock()  # one start at a time in this server: no two workers race
_CHILDREN: dict[str, subprocess.Popen[bytes]] = {}  # reaped when their progress is read


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _reap(campaign: str) -> None:
    child = _CHILDREN.get(campaign)
    if child is not None and child.poll() is not None:
        del _CHILDREN[campaign]


def _busy(ws: Workspace, campaign: str) -> int | None:
    """The process sending ``campaign`` (or starting to, or finishing), if any."""
    _reap(campaign)
    holder = lock_holder(ws.state_dir, campaign)
    if holder is not None:
        return holder
    job = jobs.read_job(ws.state_dir, campaign)
    # starting (no lock yet) or just finishing (lock released, record not yet written)
    if job and job.state in (JobState.STARTING, JobState.RUNNING) and _alive(job.pid):
        return job.pid
    return None


def _launch(ws: Workspace, job: Job) -> Job:
    """Write the job, start the worker detached (its own session: the server's Ctrl-C
    or restart does not reach it) and record its pid."""
    if _busy(ws, job.campaign) is not None:
        raise CampaignLocked(f"campaign {job.campaign} is being sent already (started "
                             "by another officer or a command); wait for it, or pause it")
    state = ws.state_dir
    job = jobs.write_job(state, replace(job, state=JobState.STARTING, pid=0, message="",
                                        started_at=""))
    log = jobs.log_path(state, job.campaign)
    with open(log, "ab") as err:  # handed to the child as its standard error
        os.chmod(log, 0o600)
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "newsletter.app.sendworker", "--workspace", str(ws.root),
             job.campaign],
            cwd=ws.root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True, close_fds=True)
    _CHILDREN[job.campaign] = child
    return jobs.update_job(state, job.campaign, pid=child.pid) or job


def start(ws: Workspace, user: Account, choice: Choice, *, campaign: str, typed: str,
          now: dt.datetime | None = None) -> str:
    """Send after the typed confirmation: ``typed`` must be the number of recipients
    of the plan as it is now, and ``campaign`` the plan the officer looked at."""
    require_officer(user)
    planned = plan(ws, choice)
    p = planned.planned
    if p.campaign != campaign:
        raise FormError("campaign", "the plan changed since the page was loaded (the "
                        "release was edited, or the lists changed): look at it again")
    count = parse_count(typed)
    if count != len(p.plan):
        audit.record(ws, user.name, SEND_REFUSED, campaign,
                     f"typed confirmation did not match the {len(p.plan)} recipients")
        raise FormError("confirm", "the number typed is not the number of recipients; "
                        "nothing was sent")
    if not len(p.plan):
        raise FormError("confirm", "nobody is selected: nothing to send")
    check_embargo(planned.release, now or dt.datetime.now(dt.UTC))
    with _LAUNCH:
        _launch(ws, Job(campaign, choice.kind, choice.ref, choice.lists, choice.tags,
                        choice.langs, choice.skip_invalid, choice.sandbox, False, user.name))
    audit.record(ws, user.name, SEND_STARTED, campaign,
                 f"{_kind(p.rehearsal, planned.request.transport)}; {len(p.plan)} "
                 f"recipients; {choice.describe()}")
    return campaign


def _kind(rehearsal: str, transport: str) -> str:
    return f"rehearsal ({rehearsal})" if rehearsal else f"real send through {transport}"


def pause(ws: Workspace, user: Account, campaign: str) -> None:
    """Ask the sending process to stop after the batch in flight (as Ctrl-C does)."""
    require_officer(user)
    check_campaign_id(campaign)
    with _LAUNCH:
        pid = _busy(ws, campaign)
        if not pid:
            raise DeliveryError(f"{campaign} is not being sent now: nothing to pause")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:  # it ended between the look and the signal
            return
    audit.record(ws, user.name, SEND_PAUSED, campaign, f"process {pid}")


def resume(ws: Workspace, user: Account, campaign: str, *, resend_unknown: bool = False
           ) -> None:
    """Start the worker again with the choice it was started with; the ledger sends only
    what is still pending (and, with ``resend_unknown``, the rows of unknown fate)."""
    require_officer(user)
    job = jobs.read_job(ws.state_dir, check_campaign_id(campaign))
    if job is None:
        raise DeliveryError(f"{campaign} was not started from these pages: continue it "
                            "with the command that started it")
    with _LAUNCH:
        _launch(ws, replace(job, resend_unknown=resend_unknown, started_by=user.name))
    audit.record(ws, user.name, RESEND_UNKNOWN if resend_unknown else SEND_RESUMED, campaign)


# --- progress ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    campaign: str
    release: str
    transport: str
    rehearsal: bool
    counts: dict[str, int]  # by ledger status
    state: str  # JobState, or "interrupted" (a worker died), or "" (never started here)
    message: str
    started_by: str
    running: bool
    resumable: bool  # started from these pages: resume and resend can start it again

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        """Still to send: pending, deferred, or in a request right now."""
        return sum(self.counts.get(s, 0) for s in (Status.PENDING, Status.FAILED,
                                                     Status.SENDING))

    @property
    def unknown(self) -> int:
        """Of unknown fate; rows left 'sending' by a dead worker are that too."""
        stale = 0 if self.running else self.counts.get(Status.SENDING, 0)
        return self.counts.get(Status.UNKNOWN, 0) + stale

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return (self.total - self.open) * 100 // self.total

    def as_json(self) -> dict[str, object]:
        return {"campaign": self.campaign, "counts": self.counts, "total": self.total,
                "percent": self.percent, "state": self.state, "running": self.running,
                "unknown": self.unknown, "open": self.open}


def progress(ws: Workspace, campaign: str) -> Progress:
    """The campaign's counts from the ledger and what its worker is doing."""
    check_campaign_id(campaign)
    busy = _busy(ws, campaign) is not None
    # the record read after: a worker that finished meanwhile has written how it ended
    # (read before, a "running" record and a released lock would look like a crash)
    job = jobs.read_job(ws.state_dir, campaign)
    counts: dict[str, int] = {}
    release, transport, rehearsal = (job.ref if job else ""), "", True
    if ledger_exists(ws.state_dir):
        with open_ledger(ws.state_dir, busy_timeout=WEB_BUSY_TIMEOUT) as ledger:
            found = next((c for c in ledger.campaigns() if c.id == campaign), None)
            if found is not None:
                counts = ledger.counts(campaign)
                release, transport = found.release, found.transport
                rehearsal = found.kind != "real"
    if job is None and not counts:
        raise DeliveryError(f"no campaign {campaign!r}")
    state = job.state.value if job else ""
    if busy:
        state = JobState.RUNNING.value if lock_holder(ws.state_dir, campaign) else state
    elif state in (JobState.STARTING, JobState.RUNNING):
        state = "interrupted"  # the worker is gone without saying how it ended
    return Progress(campaign, release, transport or ws.config.delivery.transport, rehearsal,
                    counts, state, job.message if job else "",
                    job.started_by if job else "", busy, job is not None)


# --- schedules -----------------------------------------------------------------------------

def schedule(ws: Workspace, user: Account, choice: Choice, *, campaign: str, typed: str,
             at: str) -> Scheduled:
    """Hold a release until ``at``; the same typed confirmation as a send now."""
    require_officer(user)
    if choice.kind != "release":
        raise FormError("at", "a digest is sent at once; only releases can be scheduled")
    if not at.strip():
        raise FormError("at", "choose the day and time to send")
    planned = plan(ws, choice)
    if planned.planned.campaign != campaign:
        raise FormError("campaign", "the plan changed since the page was loaded: look at "
                        "it again")
    if parse_count(typed) != len(planned.planned.plan):
        audit.record(ws, user.name, SEND_REFUSED, campaign,
                     "typed confirmation did not match (schedule)")
        raise FormError("confirm", "the number typed is not the number of recipients; "
                        "nothing was scheduled")
    try:
        done = mailing.schedule(ws, planned, at.replace("T", " "))
    except DeliveryError as err:  # a time in the past, or already scheduled
        raise FormError("at", err.message) from err
    audit.record(ws, user.name, SEND_SCHEDULED, done.campaign,
                 f"for {done.at.isoformat(timespec='minutes')}; "
                 f"{_kind(planned.planned.rehearsal, planned.request.transport)}; "
                 f"{len(planned.planned.plan)} recipients; {choice.describe()}")
    return done


def cancel(ws: Workspace, user: Account, campaign: str) -> str:
    require_officer(user)
    said = mailing.cancel(ws, check_campaign_id(campaign))
    audit.record(ws, user.name, SCHEDULE_CANCELLED, campaign)
    return said


def schedules(ws: Workspace) -> list[Schedule]:
    """Sends waiting for their time."""
    if not ledger_exists(ws.state_dir):
        return []
    with open_ledger(ws.state_dir, busy_timeout=WEB_BUSY_TIMEOUT) as ledger:
        return [s for s in ledger.schedules()
                if s.status in (ScheduleState.SCHEDULED, ScheduleState.HANDED_OVER)]


@dataclass(frozen=True)
class CampaignLine:
    id: str
    release: str
    transport: str
    rehearsal: bool
    created_at: str
    counts: dict[str, int]


def campaigns(ws: Workspace, limit: int = 20) -> list[CampaignLine]:
    """The newest campaigns of the ledger, newest first, with their counts."""
    if not ledger_exists(ws.state_dir):
        return []
    with open_ledger(ws.state_dir, busy_timeout=WEB_BUSY_TIMEOUT) as ledger:
        newest = list(reversed(ledger.campaigns()))[:limit]
        return [CampaignLine(c.id, c.release, c.transport, c.kind != "real", c.created_at,
                             ledger.counts(c.id)) for c in newest
                if c.id != CONFIRMATIONS]
