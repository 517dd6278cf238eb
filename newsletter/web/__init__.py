"""The web app (``newsletter serve``): the reader's pages, in the reader's language,
and the endpoints mail providers post to.

Beside the command line, above the application layer, and like the command line it
calls the application layer only (import-linter checks it). ``create_app(ws)``
builds the Starlette app: the pages and, beside them, the providers' hooks.
"""

from __future__ import annotations

from newsletter.web.app import create_app
from newsletter.web.logs import log_config

__all__ = ["create_app", "log_config"]
