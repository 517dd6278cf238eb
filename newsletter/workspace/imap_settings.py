"""[web.mailbox] of newsletter.toml: the IMAP mailbox where mailto unsubscribes arrive.

The password is never in the file: it comes only from ``IMAP_PASSWORD`` when a poll runs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from newsletter.errors import ConfigError
from newsletter.workspace.config import Mailbox

SECURITY = ("tls", "starttls", "none")
KEYS = ("host", "port", "security", "username", "folder", "processed_folder", "ca_file",
        "timeout")


class Table(Protocol):
    """What is needed of the TOML reader (tomltable.TableReader): errors name file and key."""

    file: Path
    data: Mapping[str, Any]

    def fail(self, name: str, message: str) -> ConfigError: ...
    def only(self, *allowed: str) -> None: ...
    def str(self, name: str, *, required: bool = True, default: str = "") -> str: ...


def mailbox_settings(t: Table) -> Mailbox:
    if "password" in t.data:
        raise t.fail("password", "not in the file: set the IMAP_PASSWORD variable")
    t.only(*KEYS)
    host, security = t.str("host"), t.str("security", required=False, default="tls")
    if security not in SECURITY:
        raise t.fail("security", f"one of {', '.join(SECURITY)}; got {security!r}")
    if security == "none" and not is_loopback(host):
        raise t.fail("security", "'none' sends the password in clear text: only for a "
                                 "loopback host (127.0.0.1, ::1, localhost)")
    folder = _folder(t, "folder") or "INBOX"
    processed = _folder(t, "processed_folder")
    if processed == folder:
        raise t.fail("processed_folder", "must differ from folder")
    return Mailbox(host=host, username=t.str("username"), security=security,
                   port=int(_number(t, "port", 993 if security == "tls" else 143, 1, 65535)),
                   folder=folder, processed_folder=processed, ca_file=_ca_file(t),
                   timeout=_number(t, "timeout", 30, 1, 600))


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name, not an address
        return host.lower() == "localhost"


def _folder(t: Table, name: str) -> str:
    """ASCII names only: imaplib does not encode IMAP's modified UTF-7 for us."""
    value = t.str(name, required=False)
    if not (value.isascii() and value.isprintable()) or any(c in value for c in "*%"):
        raise t.fail(name, f"a folder name in plain ASCII without '*' or '%', got {value!r}")
    return value


def _ca_file(t: Table) -> str:
    """A private CA's certificate, relative to the workspace unless absolute."""
    value = t.str("ca_file", required=False)
    if not value:
        return ""
    path = t.file.parent / Path(value).expanduser()
    if not path.is_file():
        raise t.fail("ca_file", f"file not found: {value}")
    return str(path.resolve())


def _number(t: Table, name: str, default: float, low: float, high: float) -> float:
    value = t.data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise t.fail(name, f"a number from {low:g} to {high:g}")
    return float(value)
