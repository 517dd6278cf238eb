"""What every admin endpoint needs (``request.app.state.admin``), and its links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request

from newsletter.app.adminpages import AdminPages, open_admin_pages
from newsletter.app.sessions import Sessions
from newsletter.app.workspace import Workspace

PREFIX = "admin/"  # below [web] public_url


@dataclass(frozen=True)
class AdminSite:
    ws: Workspace
    sessions: Sessions
    pages: AdminPages

    @property
    def public_url(self) -> str:
        return self.ws.config.web.public_url

    @property
    def base(self) -> str:
        """The admin pages' path, e.g. /newsletter/app/admin/ (the cookie's Path too)."""
        return (urlsplit(self.public_url).path or "/") + PREFIX

    @property
    def secure_cookie(self) -> bool:
        return self.public_url.startswith("https://")

    def url(self, route: str = "", **query: str) -> str:
        """A link to an admin page: ``url("preview/x/fa", width="phone")``."""
        params = {k: v for k, v in query.items() if v}
        return self.base + route + (f"?{urlencode(params)}" if params else "")

    def inside(self, path: str) -> bool:
        """Whether ``path`` is an admin page of ours (a safe target after login)."""
        return (path.startswith(self.base) and "//" not in path and "\\" not in path
                and not any(c.isspace() for c in path))


def open_site(ws: Workspace, sessions: Sessions | None = None) -> AdminSite:
    return AdminSite(ws, sessions or Sessions(ws), open_admin_pages(ws))


def admin_site(request: Request) -> AdminSite:
    return request.app.state.admin
