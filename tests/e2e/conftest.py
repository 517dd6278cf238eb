"""Real-browser tests: Debian's Chromium driven by Playwright (never 'playwright install').

The app runs in this process under uvicorn on 127.0.0.1 and a free port, on a copy of
the example workspace whose transport is the outbox, so confirmation mails are read
from disk. Without Chromium or Playwright the tests are skipped with the reason.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from tests.conftest import copy_workspace
from tests.fake_smtp import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; make e2e does)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (make setup)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def live(tmp_path, monkeypatch):
    """(base URL, workspace root) of the app serving a private workspace copy."""
    import uvicorn

    from newsletter.web import create_app
    from newsletter.workspace.loading import load_workspace

    monkeypatch.setenv("NEWSLETTER_SECRET", "e2e-secret-" + "e" * 30)
    root = copy_workspace(tmp_path / "ws")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    cfg = root / "newsletter.toml"
    text = cfg.read_text(encoding="utf-8")
    text = text.replace('public_url = "https://verbund.example.org/newsletter/app/"',
                        f'public_url = "{base}"')
    cfg.write_text(text, encoding="utf-8")
    app = create_app(load_workspace(root))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield base, root
    server.should_exit = True
    thread.join(timeout=10)
