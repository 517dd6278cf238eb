"""Sends that run in a worker process of their own (started from the admin pages).

One small JSON record per campaign under ``state/sends/``: what was chosen (so that
"resume" can start the same send again), who started it, the worker's process id and
how its last run ended. The ledger stays the one truth about who got what; this
record only says what the worker is doing. Whether a send runs right now is asked of
the campaign's lock (``locks.lock_holder``), never of this file: a worker that died
cannot leave it saying "running" for ever.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from pathlib import Path

from newsletter.errors import DeliveryError, StateError
from newsletter.workspace.files import atomic_write

FOLDER = "sends"
# campaign ids are "<release id>-<8 hex>[-outbox]"; anything else never names a file
CAMPAIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")


class JobState(StrEnum):
    STARTING = "starting"  # the worker was started and has not taken the lock yet
    RUNNING = "running"  # the worker is sending (or died while it was: see the lock)
    DONE = "done"  # nothing left to send in this run
    PAUSED = "paused"  # asked to pause: stopped after the batch in flight
    STOPPED = "stopped"  # the transport stopped the run (rate limit, quota); resume later
    FAILED = "failed"  # an error before or during the run; the message says which


@dataclass(frozen=True)
class Job:
    campaign: str
    kind: str  # "release" or "digest"
    ref: str  # the release id, or the digest's month (YYYY-MM)
    lists: tuple[str, ...]
    tags: tuple[str, ...]
    langs: tuple[str, ...]
    skip_invalid: bool
    sandbox: bool
    resend_unknown: bool  # this run sends rows of unknown fate again
    started_by: str  # the account
    pid: int = 0
    state: JobState = JobState.STARTING
    message: str = ""  # why it stopped or failed (the error's own words)
    started_at: str = ""
    updated_at: str = ""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_campaign_id(campaign: str) -> str:
    if not CAMPAIGN_ID.fullmatch(campaign) or ".." in campaign:
        raise DeliveryError(f"not a campaign id: {campaign[:40]!r}")
    return campaign


def job_path(state_dir: Path, campaign: str) -> Path:
    return state_dir / FOLDER / f"{check_campaign_id(campaign)}.json"


def log_path(state_dir: Path, campaign: str) -> Path:
    """Where the worker's standard error goes (a traceback if it ever crashes)."""
    return state_dir / FOLDER / f"{check_campaign_id(campaign)}.log"


def read_job(state_dir: Path, campaign: str) -> Job | None:
    path = job_path(state_dir, campaign)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise StateError(f"cannot read {path}: {err}") from err
    known = {f.name for f in fields(Job)}
    data = {k: v for k, v in data.items() if k in known}
    for name in ("lists", "tags", "langs"):
        data[name] = tuple(data.get(name) or ())
    data["state"] = JobState(data.get("state", JobState.FAILED))
    return Job(**data)


def write_job(state_dir: Path, job: Job) -> Job:
    """Write the record whole (temp file and rename: a reader never sees half of it)."""
    job = replace(job, updated_at=_now(), started_at=job.started_at or _now())
    path = job_path(state_dir, job.campaign)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(asdict(job), indent=1).encode(), mode=0o600)
    return job


def update_job(state_dir: Path, campaign: str, **changes: object) -> Job | None:
    job = read_job(state_dir, campaign)
    if job is None:
        return None
    return write_job(state_dir, replace(job, **changes))  # type: ignore[arg-type]


def redact(state_dir: Path, address: str, replacement: str = "[erased]") -> list[Path]:
    """Take ``address`` (any case) out of every record and log under ``state/sends/``;
    the files that held it. Neither is written with addresses, but both keep an error's
    own words: a record's ``message`` (an invalid row of a list, a provider's answer) and
    a log's traceback may quote one. A log is rewritten in place, not replaced: a worker
    still running appends to the same file (it opened it for appending)."""
    folder = state_dir / FOLDER
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(address), re.IGNORECASE)
    changed: list[Path] = []
    for path in sorted(folder.glob("*.json")):
        if not CAMPAIGN_ID.fullmatch(path.stem):
            continue  # not a record of ours
        job = read_job(state_dir, path.stem)
        if job is not None and pattern.search(job.message):
            write_job(state_dir, replace(job, message=pattern.sub(replacement, job.message)))
            changed.append(path)
    for path in sorted(folder.glob("*.log")):
        with open(path, "r+", encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
            if not pattern.search(text):
                continue
            fh.seek(0)
            fh.write(pattern.sub(replacement, text))
            fh.truncate()
        changed.append(path)
    return changed
