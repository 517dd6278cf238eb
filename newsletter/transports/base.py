"""The transport interface every delivery channel implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

from newsletter.messages import Envelope


class Transport(ABC):
    """Opened once per campaign run, given one envelope at a time, closed at the end."""

    name: str = "transport"
    # Real transports need a signing secret from the environment; the outbox may
    # use one kept in state/ (its links never reach a reader).
    needs_env_secret: bool = True

    @property
    def destination(self) -> str:
        """Where messages go, as shown to the user."""
        return self.name

    def open(self) -> None:  # noqa: B027 - optional hook
        """Connect or create what the transport needs."""

    @abstractmethod
    def deliver(self, envelope: Envelope) -> str:
        """Hand over one message; return where it went (a path, a server reply id)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
