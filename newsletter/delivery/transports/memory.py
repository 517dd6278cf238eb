"""A transport that keeps messages in memory: for tests and trials (like httpx's
MockTransport). A handler decides each recipient's fate; by default all are sent."""

from __future__ import annotations

from collections.abc import Callable

from newsletter.delivery.transports.base import SENT, Batch, Item, Outcome, Transport

Handler = Callable[[Item], Outcome | None]


class MemoryTransport(Transport):
    name = "memory"
    needs_env_secret = False

    def __init__(self, handler: Handler | None = None, *, batch_size: int = 50,
                 rehearsal: bool = False, wants_mime: bool = True):
        super().__init__()
        self.handler = handler
        self.batch_size = batch_size
        self.rehearsal = rehearsal
        self.wants_mime = wants_mime
        self.delivered: list[tuple[Batch, Item]] = []

    @property
    def destination(self) -> str:
        return "memory"

    def build(self, batch: Batch) -> list[Item]:
        return list(batch.items)

    def post(self, batch: Batch, payload: list[Item]) -> list[Outcome]:
        out = []
        for item in payload:
            decided = self.handler(item) if self.handler else None
            if decided is None or decided.status == SENT:
                self.delivered.append((batch, item))
                decided = decided or Outcome(item.recipient_id, SENT, provider_id="memory")
            out.append(decided)
        return out

    def messages(self) -> dict[str, bytes]:
        """Every message handed over, by address."""
        return {item.email: item.mime for _, item in self.delivered}
