"""Transports hand finished messages to the world: outbox files, SMTP, SendGrid."""

from __future__ import annotations

from pathlib import Path

from newsletter.config import TRANSPORTS, Workspace, resolve_inside
from newsletter.errors import DeliveryError
from newsletter.transports.base import Transport
from newsletter.transports.outbox import OutboxTransport

__all__ = ["OutboxTransport", "Transport", "make_transport"]


def make_transport(ws: Workspace, name: str, campaign: str, outbox: Path | None = None
                   ) -> Transport:
    if name not in TRANSPORTS:
        raise DeliveryError(f"unknown transport {name!r} (one of {', '.join(TRANSPORTS)})")
    if name == "outbox":
        folder = resolve_inside(ws.root, outbox or ws.config.delivery.outbox, what="outbox")
        return OutboxTransport(folder / campaign)
    raise DeliveryError(f"the {name} transport is not available yet; use --transport outbox")
