"""Erasure of one person (GDPR Art. 17): what was removed, and what could not be reached.

The ledger rows go (vacuumed, WAL truncated) and a keyed hash stays on the
suppression list, so a list that still holds the row can never mail them again.
Mails they sent to the unsubscribe mailbox leave the officer's notes. Their
messages go from every outbox folder a rehearsal wrote to (recorded per
campaign, so ``--outbox DIR`` folders are found too), with temporary files a crash
left behind there. The send worker's records and logs (``state/sends/``, sends started
from the admin pages) hold recipient ids and counts, never the list's addresses, but an
error's own words can quote one: there the address is replaced (jobs.redact). Report
CSVs and list files are the user's own files: they are named, not edited.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.lists import read_list
from newsletter.audience.tokens import address_id
from newsletter.delivery import jobs, subscribers
from newsletter.delivery.inbox import forget_sender
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import open_ledger
from newsletter.errors import StateError
from newsletter.workspace.config import Workspace


@dataclass
class Erasure:
    rows: int = 0
    files: list[Path] = field(default_factory=list)  # outbox messages deleted
    orphans: list[Path] = field(default_factory=list)  # crash leftovers deleted
    unreachable: list[str] = field(default_factory=list)  # folders or files we could not clean
    exports: list[Path] = field(default_factory=list)  # report CSVs that may hold the address
    in_lists: list[str] = field(default_factory=list)  # "recipients/x.csv:12"
    consent_kept: bool = False  # the consent trail stays as proof ([web] setting)
    notes: int = 0  # notes about their mails to the unsubscribe mailbox, deleted
    redacted: list[Path] = field(default_factory=list)  # send records and logs cleaned


def forget(ws: Workspace, address: str) -> Erasure:
    """Erase ``address`` (already normalised) everywhere the tool wrote it."""
    key = load_address_key(ws.state_dir)
    rid = address_id(key, address)
    done = Erasure()
    with open_ledger(ws.state_dir) as ledger:
        folders = {Path(f) for f in ledger.outbox_folders()}
        exports = ledger.exports()
        keep = ws.config.web.consent_after_erasure == "keep"
        subscribers.forget_person(ledger, rid, keep_consent=keep)  # before the vacuum
        done.rows = ledger.forget(rid, "forget")
        done.consent_kept = keep
    done.notes = forget_sender(ws.state_dir, address)
    try:
        done.redacted = jobs.redact(ws.state_dir, address)
    except (OSError, StateError) as err:
        done.unreachable.append(f"{ws.state_dir / jobs.FOLDER}: {err}")
    default = ws.config.delivery.outbox
    if default.is_dir():  # campaigns recorded before folders were, and today's default
        folders.update(p for p in default.iterdir() if p.is_dir())
    for folder in sorted(folders):
        _clean_folder(folder, rid, done, ws.state_dir)
    done.exports = [Path(path) for path, _, _ in exports if Path(path).exists()]
    for name, path in ws.config.lists.items():
        done.in_lists += [f"{ws.relative(path)}:{r.line}" for r in read_list(name, path).recipients
                          if r.key == address.casefold()]
    return done


def _clean_folder(folder: Path, rid: str, done: Erasure, state_dir: Path) -> None:
    if not folder.exists():
        return  # moved or deleted by the user: nothing of ours is left there
    message = folder / f"{rid}.eml"
    try:
        if message.exists():
            message.unlink()
            done.files.append(message)
        # a running rehearsal's temporary files are not orphans
        if not _busy(state_dir, folder.name):
            for tmp in folder.glob(".*.eml.*.tmp"):
                tmp.unlink()
                done.orphans.append(tmp)
    except OSError as err:
        done.unreachable.append(f"{folder}: {err.strerror or err}")


def _busy(state_dir: Path, campaign: str) -> bool:
    """Whether a send of this campaign is running (it holds the campaign's lock)."""
    lock = state_dir / "locks" / f"{campaign}.lock"
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
