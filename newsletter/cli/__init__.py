"""The ``newsletter`` command line: options in, one call of the application layer,
tables out, exit codes. It opens no ledger, reads no list and builds no plan."""

from __future__ import annotations

from newsletter.cli import (  # noqa: F401 - they register commands
    accounts,
    catalogs,
    database,
    importing,
    mailbox,
    mailing,
    people,
    starting,
    web,
)
from newsletter.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="newsletter")
