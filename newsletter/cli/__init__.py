"""The ``newsletter`` command line: options in, one call of the application layer,
tables out, exit codes. It opens no ledger, reads no list and builds no plan.

Importing this package is cheap on purpose: the commands (and with them the whole
tool, a second of imports) load inside ``main``, so a Ctrl-C while the tool starts
is one line, not a traceback through the import machinery. ``cli`` is the command
group, loaded on first use.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsletter.cli.base import cli

__all__ = ["cli", "main"]

INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C


def _commands() -> Any:
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

    return cli


def __getattr__(name: str) -> Any:
    if name == "cli":
        return _commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    try:
        command = _commands()
    except KeyboardInterrupt:
        sys.stderr.write("newsletter: stopped while starting (Ctrl-C); nothing was done\n")
        sys.exit(INTERRUPTED)
    command(prog_name="newsletter")
