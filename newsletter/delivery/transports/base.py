"""The transport interface: the dispatcher owns the send loop, transports the wire.

Each transport fills in how a batch is built (``build``), posted and its result
read (``post``), like django-anymail's backends. Optional features a transport
cannot do raise ``Unsupported`` instead of being dropped silently.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from newsletter.delivery.outgoing import Batch, Item
from newsletter.delivery.records import Status
from newsletter.errors import DeliveryError

# What a transport may say about one recipient after posting.
SENT, REJECTED, FAILED, UNKNOWN, PENDING = (Status.SENT, Status.REJECTED, Status.FAILED,
                                            Status.UNKNOWN, Status.PENDING)


class Unsupported(DeliveryError):
    """The transport cannot do an optional feature that was asked for."""


@dataclass(frozen=True)
class Outcome:
    recipient_id: str
    status: str  # SENT, REJECTED, FAILED (try again later), UNKNOWN, PENDING (not handed over)
    error: str = ""
    provider_id: str = ""


class TransportStop(DeliveryError):
    """Stop the run cleanly (rate limit too long, service unreachable). ``outcomes`` say
    what happened to the batch in flight; a later run continues."""

    def __init__(self, message: str, outcomes: list[Outcome]):
        super().__init__(message)
        self.outcomes = outcomes


class Transport(ABC):
    name: str = "transport"
    batch_size: int = 1
    # Handing the same message over twice does no harm (the outbox rewrites one file):
    # messages of unknown fate after a crash are then simply handed over again.
    replays_safely: bool = False
    # Real transports need NEWSLETTER_SECRET; the outbox may keep one in state/.
    needs_env_secret: bool = True
    # Whether the send loop should hand over each finished MIME message (item.mime).
    wants_mime: bool = True
    # A rehearsal reaches nobody (outbox files, SendGrid's sandbox): its campaign is
    # never the real one, so a rehearsal cannot count as a real send.
    rehearsal: bool = False

    def __init__(self, *, sandbox: bool = False):
        if sandbox:
            raise Unsupported(f"the {self.name} transport has no sandbox mode "
                              "(SendGrid has; the outbox never sends anything)")

    @property
    def destination(self) -> str:
        """Where messages go, as shown to the user (never a secret)."""
        return self.name

    @property
    def kind(self) -> str:
        return "rehearsal" if self.rehearsal else "real"

    @property
    def outbox_folder(self) -> str:
        """The folder messages are written to, recorded so that erasure finds them."""
        return ""

    def open(self) -> None:  # noqa: B027 - optional hook
        """Connect or create what the transport needs."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""

    def send(self, batch: Batch) -> list[Outcome]:
        """Build and post one batch; one outcome per item."""
        return self.post(batch, self.build(batch))

    @abstractmethod
    def build(self, batch: Batch) -> Any:
        """The payload for one batch (MIME bytes, a JSON body, ...); no network yet."""

    def refused(self, payload: Any) -> list[Outcome]:
        """Recipients the payload leaves out (their message could not be built): they
        are not marked ``sending``, since they never leave."""
        if isinstance(payload, list):
            return [p for p in payload if isinstance(p, Outcome)]
        return []

    @abstractmethod
    def post(self, batch: Batch, payload: Any) -> list[Outcome]:
        """Hand the payload over and read the answer."""

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


__all__ = ["FAILED", "PENDING", "REJECTED", "SENT", "UNKNOWN", "Batch", "Item", "Outcome",
           "Transport", "TransportStop", "Unsupported"]
