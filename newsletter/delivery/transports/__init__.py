"""Transports hand finished messages to the world: outbox files, SMTP, SendGrid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from newsletter.delivery.transports.base import Transport, TransportStop, Unsupported
from newsletter.delivery.transports.outbox import OutboxTransport
from newsletter.errors import ConfigError, DeliveryError
from newsletter.workspace.config import CONFIG_NAME, PLACEHOLDER, TRANSPORTS, Workspace

__all__ = ["OutboxTransport", "Transport", "TransportStop", "Unsupported", "make_transport"]


def make_transport(ws: Workspace, name: str, campaign: str, *, outbox: Path | None = None,
                   sandbox: bool = False, say: Callable[[str], None] = lambda m: None,
                   send_at: int | None = None, batch_id: str = "") -> Transport:
    if name not in TRANSPORTS:
        raise DeliveryError(f"unknown transport {name!r} (one of {', '.join(TRANSPORTS)})")
    delivery = ws.config.delivery
    if send_at is not None and name != "sendgrid":
        raise Unsupported(f"the {name} transport cannot hold a message until a time; "
                          "scheduled sends through it go out with 'newsletter dispatch'")
    if name == "outbox":
        folder = ws.operator_path(outbox) if outbox else delivery.outbox
        return OutboxTransport(folder / campaign, sandbox=sandbox)
    if outbox is not None:
        raise Unsupported(f"--outbox only applies to the outbox transport, not {name}")
    left = ws.config.placeholders
    if left and not sandbox:  # a sandbox run reaches nobody
        shown = ", ".join(left[:4]) + (f" and {len(left) - 4} more" if len(left) > 4 else "")
        raise ConfigError(f"no real mail while placeholders ({PLACEHOLDER}) are left: {shown}; "
                          f"fill them in first (the outbox transport works meanwhile)",
                          path=ws.root / CONFIG_NAME)
    if name == "smtp":
        from newsletter.delivery.transports.smtp import SmtpTransport

        return SmtpTransport(delivery.smtp, ws.config.sender.from_address, sandbox=sandbox)
    from newsletter.delivery.transports.sendgrid import SendGridTransport

    return SendGridTransport(delivery.sendgrid, sandbox=sandbox, say=say, send_at=send_at,
                             batch_id=batch_id)
