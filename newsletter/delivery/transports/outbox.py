"""The file outbox: one .eml file per recipient, for review or for another mail system."""

from __future__ import annotations

from pathlib import Path

from newsletter.delivery.transports.base import (
    PENDING,
    SENT,
    Batch,
    Outcome,
    Transport,
    TransportStop,
)
from newsletter.workspace.files import atomic_write


class OutboxTransport(Transport):
    name = "outbox"
    needs_env_secret = False
    replays_safely = True
    rehearsal = True  # files on disk: nobody receives anything
    batch_size = 50  # one ledger commit per 50 files; each file is still fsynced

    def __init__(self, folder: Path, *, sandbox: bool = False):
        super().__init__(sandbox=sandbox)
        self.folder = folder

    @property
    def destination(self) -> str:
        return str(self.folder)

    @property
    def outbox_folder(self) -> str:
        return str(self.folder)

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, recipient_id: str) -> Path:
        # Named after the opaque recipient id, not the address: running the same
        # campaign again overwrites the same file, so there is one file per person.
        return self.folder / f"{recipient_id}.eml"

    def build(self, batch: Batch) -> list[bytes]:
        return [item.mime for item in batch.items]  # built by the send loop

    def post(self, batch: Batch, payload: list[bytes]) -> list[Outcome]:
        out = []
        for item, data in zip(batch.items, payload, strict=True):
            if isinstance(data, Outcome):
                out.append(data)
                continue
            path = self.path_for(item.recipient_id)
            try:
                # temp file, fsync, rename; owner-only, the file holds personal data
                atomic_write(path, data, mode=0o600)
            except OSError as err:  # disk full, read-only: nothing was written
                problem = f"cannot write {path}: {err.strerror or err}"
                done = {o.recipient_id for o in out}
                raise TransportStop(problem, out + [
                    Outcome(i.recipient_id, PENDING, problem) for i in batch.items
                    if i.recipient_id not in done]) from None
            out.append(Outcome(item.recipient_id, SENT, provider_id=path.name))
        return out
