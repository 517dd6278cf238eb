"""[web.mailbox] in newsletter.toml: optional, typed, every mistake names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.errors import ConfigError
from newsletter.workspace.config import CONFIG_NAME
from newsletter.workspace.loading import load_config

BASE = '[web.mailbox]\nhost = "imap.example.org"\nusername = "abmelden@example.org"\n'


def _with_mailbox(root: Path, section: str) -> Path:
    path = root / CONFIG_NAME
    path.write_text(path.read_text(encoding="utf-8") + "\n" + section, encoding="utf-8")
    return path


def test_the_section_is_optional(ws):
    assert ws.config.web.mailbox is None


def test_defaults_are_tls_on_993_and_the_inbox(ws_root):
    box = load_config(_with_mailbox(ws_root, BASE)).web.mailbox
    assert box is not None
    assert (box.host, box.port, box.security, box.folder) == ("imap.example.org", 993, "tls",
                                                                "INBOX")
    assert box.processed_folder == "" and box.ca_file == ""
    assert box.address == "imaps://abmelden@example.org@imap.example.org:993/INBOX"


def test_starttls_defaults_to_143_and_ca_file_is_taken_from_the_workspace(ws_root):
    (ws_root / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    path = _with_mailbox(ws_root, BASE + 'security = "starttls"\nca_file = "ca.pem"\n'
                                         'processed_folder = "Abmeldungen/Erledigt"\n')
    box = load_config(path).web.mailbox
    assert box is not None
    assert (box.port, box.ca_file) == (143, str((ws_root / "ca.pem").resolve()))
    assert box.processed_folder == "Abmeldungen/Erledigt"


def test_clear_text_is_allowed_to_a_loopback_host_only(ws_root):
    local = BASE.replace("imap.example.org", "127.0.0.1") + 'security = "none"\n'
    box = load_config(_with_mailbox(ws_root, local)).web.mailbox
    assert box is not None and (box.security, box.port) == ("none", 143)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('security = "none"\n', "web.mailbox.security: 'none' sends the password in clear"),
        ('security = "ssl"\n', "web.mailbox.security: one of tls, starttls, none"),
        ('password = "hunter2"\n', "web.mailbox.password: not in the file: set the "
                                   "IMAP_PASSWORD variable"),
        ('port = 0\n', "web.mailbox.port: a number from 1 to 65535"),
        ('folder = "Eingang ä"\n', "web.mailbox.folder: a folder name in plain ASCII"),
        ('processed_folder = "INBOX"\n', "web.mailbox.processed_folder: must differ"),
        ('ca_file = "private-ca.pem"\n', "web.mailbox.ca_file: file not found: private-ca.pem"),
        ('timeout = "long"\n', "web.mailbox.timeout: a number from 1 to 600"),
        ('colour = "blue"\n', "web.mailbox.colour: unknown key"),
    ],
)
def test_bad_mailbox_settings_name_file_and_key(ws_root, extra, expected):
    path = _with_mailbox(ws_root, BASE + extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)
    assert "hunter2" not in str(info.value)


def test_host_and_username_are_required(ws_root):
    path = _with_mailbox(ws_root, '[web.mailbox]\nhost = "imap.example.org"\n')
    with pytest.raises(ConfigError, match="web.mailbox.username: missing"):
        load_config(path)
