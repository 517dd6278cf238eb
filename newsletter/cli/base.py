"""The command group, the consoles and the one place user errors are printed."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from newsletter import __version__
from newsletter.app.workspace import Workspace, open_workspace
from newsletter.errors import NewsletterError

# Wide enough for paths when output goes to a file or CI log (rich assumes 80 there);
# emoji=False: "messages.po:100:" in a message must not turn into an emoji.
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, emoji=False)


class _Group(click.Group):
    """Turns every NewsletterError into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            # printed as it is: no markup or emoji read into file:line text
            err.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path),
              envvar="NEWSLETTER_WORKSPACE",
              help="Workspace folder with newsletter.toml (default: the current folder; "
                   "or set NEWSLETTER_WORKSPACE).")
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """Turn a German press release into reviewed email editions in every community language.

    A new association starts with 'newsletter init DIR'. Then 'newsletter extract
    RELEASE', translate the catalogs under locales/, and look at the result with
    'newsletter preview RELEASE'.
    """
    ctx.obj = workspace


def workspace_of(ctx: click.Context) -> Workspace:
    return open_workspace(ctx.obj)


def say(message: str) -> None:
    """Progress notes from a running command (rate limits, retries)."""
    err.print(message, markup=False)
