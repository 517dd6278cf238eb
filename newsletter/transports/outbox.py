"""The file outbox: one .eml file per recipient, for review or for another mail system."""

from __future__ import annotations

from pathlib import Path

from newsletter.catalog import atomic_write
from newsletter.messages import Envelope
from newsletter.transports.base import Transport


class OutboxTransport(Transport):
    name = "outbox"
    needs_env_secret = False

    def __init__(self, folder: Path):
        self.folder = folder

    @property
    def destination(self) -> str:
        return str(self.folder)

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, envelope: Envelope) -> Path:
        # Named after the opaque recipient id, not the address: running the same
        # campaign again overwrites the same file, so there is one file per person.
        return self.folder / f"{envelope.recipient_id}.eml"

    def deliver(self, envelope: Envelope) -> str:
        path = self.path_for(envelope)
        # temp file, fsync, rename; owner-only, the file holds personal data
        atomic_write(path, envelope.as_bytes(), mode=0o600)
        return str(path)
