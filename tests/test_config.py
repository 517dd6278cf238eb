from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.errors import ConfigError, WorkspaceError
from newsletter.workspace.config import CONFIG_NAME
from newsletter.workspace.loading import find_workspace, load_config, load_workspace


def _edit(root: Path, old: str, new: str) -> Path:
    path = root / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_example_workspace_loads_into_typed_values(ws):
    cfg = ws.config
    assert cfg.languages.source == "de"
    assert cfg.languages.targets == ("en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")
    assert cfg.languages.chain("fa") == ("fa", "en", "de")
    assert cfg.languages.chain("ku") == ("ku", "de")
    assert cfg.organization.full_name == "Essener Verbund der Immigrantenvereine e.V."
    assert cfg.organization.address.city == "Essen"
    assert cfg.delivery.transport == "outbox"
    assert set(cfg.lists) == {"members", "press", "subscribers"}
    with pytest.raises(AttributeError):
        cfg.sender.from_address = "x@example.org"  # frozen


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('[sender]', '[sender]\nfrom_nmae = "x"', "sender.from_nmae: unknown key"),
        ('transport = "outbox"', 'transport = 3', "delivery.transport: expected a string"),
        ('transport = "outbox"', 'transport = "pigeon"', "delivery.transport: unknown transport"),
        ('"fa", "ku"]', '"fa", "xx"]', "languages.targets: unknown language code 'xx'"),
        ('source = "de"', 'source = "deutsch"', "languages.source: not a language code"),
        ('fa = ["en"]', 'fa = ["es"]', "languages.fallback.fa: 'es' is neither"),
        ('file = "recipients/members.csv"', 'file = "recipients/nope.csv"',
         "lists.members.file: file not found: recipients/nope.csv"),
        ('file = "recipients/members.csv"', 'file = "../../etc/passwd"',
         "lists.members.file: list 'members' '../../etc/passwd' leaves the workspace"),
        ('reason = "member"', 'reason = "vip"',
         "lists.members.reason: one of member, press, subscriber, got 'vip'"),
        ('reason = "member"', 'reason = "member"\nkind = "x"', "lists.members.kind: unknown key"),
        ('ku = "komeleyên endam"\n', '', "lists.members.names: no name for ku"),
        ('ku = "komeleyên endam"', 'xx = "x"', "lists.members.names.xx: unknown language"),
        ('board = ["Muhammet Balaban", "Ayşe Korkmaz", "Pavel Nowak"]', 'board = "Balaban"',
         "organization.board: expected a list"),
        ('privacy_url = "https://', 'privacy_url = "http://', "organization.privacy_url: must be"),
        ('from_address = "newsletter@verbund.example.org"', 'from_address = "nobody"',
         "sender.from_address: not an email address"),
    ],
)
def test_bad_config_names_file_and_key(ws_root, old, new, expected):
    path = _edit(ws_root, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_header_injection_through_config_is_refused(ws_root):
    path = _edit(ws_root, 'from_name = "Essener',
                 'from_name = "Evil\\r\\nBcc: x@example.com Essener')
    with pytest.raises(ConfigError, match="sender.from_name: must be a single line"):
        load_config(path)


def test_invalid_toml_is_reported(ws_root):
    path = ws_root / CONFIG_NAME
    path.write_text("[organization\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_workspace_from_environment(ws_root, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_WORKSPACE", str(ws_root))
    assert find_workspace() == ws_root.resolve()
    monkeypatch.delenv("NEWSLETTER_WORKSPACE")
    with pytest.raises(WorkspaceError, match="no newsletter.toml"):
        load_workspace(tmp_path)


def test_paths_cannot_leave_the_workspace(ws, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws.root / "releases" / "link").symlink_to(outside)
    with pytest.raises(WorkspaceError, match="leaves the workspace"):
        ws.inside("releases/link/x.md")
    with pytest.raises(WorkspaceError):
        ws.inside("/etc/passwd")
    assert ws.inside("releases/x.md") == ws.root / "releases" / "x.md"


SENDGRID_HOST = 'host = "https://api.sendgrid.com"'


@pytest.mark.parametrize("host", [
    "http://127.0.0.1.evil.example",  # a prefix test let these through
    "http://localhost.evil.example",
    "http://localhost@evil.example",
    "http://10.0.0.1",
    "http://api.sendgrid.com",
    "https://user:pw@api.sendgrid.com",
    "https://api.sendgrid.com/v3",
    "https://api.sendgrid.com?x=1",
    "https://api.sendgrid.com#x",
    "ftp://127.0.0.1",
    "https://",
    "https://api.sendgrid.com:99999",
    "https://api.sendgrid.com /",
])
def test_sendgrid_host_must_keep_the_key_off_clear_text_and_foreign_hosts(ws_root, host):
    path = _edit(ws_root, SENDGRID_HOST, f'host = "{host}"')
    with pytest.raises(ConfigError, match=r"delivery\.sendgrid\.host: ") as info:
        load_config(path)
    assert "pw" not in str(info.value).replace(str(path), "")


@pytest.mark.parametrize("host", [
    "https://api.eu.sendgrid.com", "https://api.sendgrid.com/", "http://127.0.0.1:8080",
    "http://127.0.0.2", "http://[::1]:8080", "http://localhost:3000", "http://LOCALHOST",
])
def test_sendgrid_host_may_be_https_or_plain_http_to_this_machine(ws_root, host):
    path = _edit(ws_root, SENDGRID_HOST, f'host = "{host}"')
    assert load_config(path).delivery.sendgrid.host == host
