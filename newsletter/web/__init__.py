"""The web app (``newsletter serve``): the reader's pages, in the reader's language.

Beside the command line, above the application layer, and like the command line it
calls the application layer only (import-linter checks it). ``create_app(ws)``
builds the Starlette app; machine endpoints (webhooks) mount beside the pages with
``create_app(ws, extra_routes=...)``.
"""

from __future__ import annotations

from newsletter.web.app import create_app

__all__ = ["create_app"]
