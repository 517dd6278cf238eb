"""What `newsletter serve` checks and says before it serves, and its local trial mode."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from newsletter.app.subscriptions import signer
from newsletter.audience.tokens import PREVIOUS_ENV, SECRET_ENV
from newsletter.delivery.keys import STATE_SECRET, unlisted_state_secret
from newsletter.errors import ConfigError
from newsletter.workspace.config import Workspace

LOCAL_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
ADMIN_LOGIN = "admin/login"
SIGNUP = "subscribe"


def local_workspace(ws: Workspace, port: int) -> Workspace:
    """``ws`` as it is tried out on this machine: the web app's public URL (and an
    unsubscribe_url set apart) at http://127.0.0.1:<port>, on the configured paths, so
    the pages, their links, the links in confirmation mails and the same-site checks
    all agree with the browser's address bar. Nothing is written: a send started by
    the admin pages' worker reads the workspace again and links to the real address."""
    web = ws.config.web
    if not web.public_url:
        raise ConfigError("[web] public_url is not set: the pages need the address they "
                          "are reached at (e.g. https://example.org/newsletter/app/)")
    origin = f"http://{LOCAL_HOST}:{port}"
    public = origin + urlsplit(web.public_url).path
    if web.unsubscribe_url == web.page("unsubscribe"):
        unsubscribe = f"{public}unsubscribe"
    else:
        unsubscribe = origin + urlsplit(web.unsubscribe_url).path
    local = dataclasses.replace(web, public_url=public, unsubscribe_url=unsubscribe)
    return dataclasses.replace(ws, config=dataclasses.replace(ws.config, web=local))


def local_url(ws: Workspace, route: str, port: int = DEFAULT_PORT) -> str:
    """The address of ``route`` in a local trial on ``port``."""
    return local_workspace(ws, port).config.web.page(route)


def start_checks(ws: Workspace) -> list[str]:
    """Load what every request needs (the signer: a bad secret fails now, in one line,
    not at the first reader's click) and return the warnings to print before serving."""
    signer(ws)
    warnings = []
    if unlisted_state_secret(ws.state_dir):
        warnings.append(
            f"warning: {ws.relative(ws.state_dir / STATE_SECRET)} is neither {SECRET_ENV} "
            f"nor in {PREVIOUS_ENV}: links in mails signed with it (outbox rehearsals, "
            f"'make demo') will be refused; to keep them working, add its contents to "
            f"{PREVIOUS_ENV}")
    return warnings
