from __future__ import annotations

import os
from email import message_from_bytes, policy

import pytest

from newsletter.audience.selection import Selection
from newsletter.content.parser import load_release
from newsletter.delivery.sending import SendRequest, plan_send, send
from newsletter.errors import DeliveryError, ReleaseError
from tests.conftest import EXAMPLE_RELEASE


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "attach-secret-" + "a" * 30)


def _with_attachments(ws, lines: str):
    path = ws.releases_dir / f"{EXAMPLE_RELEASE}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "kind: press\n", f"kind: press\nattachments:\n{lines}"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("entry", "message"), [
    ("  - ../../../etc/passwd\n", "leaves the workspace"),
    ("  - /etc/passwd\n", "relative to the release file"),
    ("  - files/fehlt.pdf\n", "attachment file not found: files/fehlt.pdf"),
    ("  - https://example.org/x.pdf\n", "not a URL"),
])
def test_paths_that_leave_the_workspace_are_refused(ws, entry, message):
    path = _with_attachments(ws, entry)
    with pytest.raises(ReleaseError) as info:
        load_release(path, ws.root)
    assert message in info.value.message and info.value.line == 6


def test_symlinks_pointing_outside_are_refused(ws, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("nope")
    (ws.releases_dir / "files").mkdir()
    os.symlink(secret, ws.releases_dir / "files" / "link.pdf")
    path = _with_attachments(ws, "  - files/link.pdf\n")
    with pytest.raises(ReleaseError, match="leaves the workspace"):
        load_release(path, ws.root)


def test_attachments_travel_in_multipart_mixed(ws):
    files = ws.releases_dir / "files"
    files.mkdir()
    (files / "Pressemitteilung-Kooperation.pdf").write_bytes(b"%PDF-1.4 example\n" * 50)
    (files / "Unterzeichnung groß.png").write_bytes(b"\x89PNG fake" * 20)
    path = _with_attachments(ws, "  - files/Pressemitteilung-Kooperation.pdf\n"
                                 "  - files/Unterzeichnung groß.png\n")
    release = load_release(path, ws.root)
    request = SendRequest(Selection(lists=("press",)), "outbox")
    planned = plan_send(ws, release, request)
    send(ws, release, request, planned)
    messages = [message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted((ws.root / "outbox" / planned.campaign).glob("*.eml"))]
    assert len(messages) == 8
    msg = next(m for m in messages if m["Content-Language"] == "de")
    assert msg.get_content_type() == "multipart/mixed" and not msg.defects
    parts = list(msg.iter_parts())
    assert parts[0].get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parts[0].iter_parts()] == ["text/plain", "text/html"]
    names = [p.get_filename() for p in parts[1:]]
    assert names == ["Pressemitteilung-Kooperation.pdf", "Unterzeichnung groß.png"]
    assert parts[1].get_content_type() == "application/pdf"
    assert parts[1].get_content() == b"%PDF-1.4 example\n" * 50
    assert msg.get_body(("plain",)).get_content().startswith("Guten Tag")


def test_size_budget_says_what_to_do(ws_root):
    from newsletter.workspace.loading import load_workspace
    cfg = ws_root / "newsletter.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'outbox = "outbox"\n', 'outbox = "outbox"\nattachment_budget_mb = 0.001\n', 1),
        encoding="utf-8")
    ws = load_workspace(ws_root)
    (ws.releases_dir / "files").mkdir()
    (ws.releases_dir / "files" / "big.pdf").write_bytes(b"x" * 5000)
    release = load_release(_with_attachments(ws, "  - files/big.pdf\n"), ws.root)
    request = SendRequest(Selection(lists=("press",)), "outbox")
    with pytest.raises(DeliveryError, match="over the budget of 0.001 MB: link large files"):
        send(ws, release, request, plan_send(ws, release, request))
    assert not (ws_root / "outbox").exists()
