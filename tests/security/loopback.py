"""The web app served by uvicorn on 127.0.0.1 and a free port, in this process: for the
tests that measure answers as an outsider sees them (timing, concurrency), which
Starlette's TestClient cannot show (it waits for work done after the answer)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.web import create_app
from newsletter.workspace.config import Workspace
from newsletter.workspace.loading import load_workspace
from tests.fake_smtp import free_port

PUBLIC = 'public_url = "https://verbund.example.org/newsletter/app/"'


@dataclass(frozen=True)
class Live:
    base: str  # http://127.0.0.1:<port>/
    ws: Workspace

    @property
    def origin(self) -> dict[str, str]:
        """The headers of a form posted from our own pages."""
        return {"origin": self.base.rstrip("/"), "sec-fetch-site": "same-origin"}


@contextmanager
def serve(root: Path, **app_options: Any) -> Iterator[Live]:
    """Serve the workspace at ``root`` (its public_url moved to the loopback address)."""
    import uvicorn

    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    cfg = root / "newsletter.toml"
    text = cfg.read_text(encoding="utf-8")
    assert PUBLIC in text
    cfg.write_text(text.replace(PUBLIC, f'public_url = "{base}"'), encoding="utf-8")
    ws = load_workspace(root)
    server = uvicorn.Server(uvicorn.Config(create_app(ws, **app_options), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield Live(base, ws)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
