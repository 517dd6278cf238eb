"""The reader's side: who the client is. Only named proxies may say it (X-Forwarded-For);
a workspace that would believe everyone is refused when it is loaded."""

from __future__ import annotations

import json

import pytest

from newsletter.errors import ConfigError
from newsletter.workspace.loading import load_workspace


def _with_proxies(ws_root, value: str):
    path = ws_root / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    assert 'trusted_proxies = ["127.0.0.1"]' in text
    path.write_text(text.replace('trusted_proxies = ["127.0.0.1"]', f"trusted_proxies = {value}"),
                    encoding="utf-8")
    return load_workspace(ws_root)


@pytest.mark.parametrize(("value", "said"), [
    ('["*"]', "'*' would believe every client's X-Forwarded-For"),
    ('["127.0.0.1", "*"]', "'*' would believe every client's X-Forwarded-For"),
    ('["0.0.0.0/0"]', "is every address, like '*'"),
    ('["::/0"]', "is every address, like '*'"),
    ('["proxy.example.org"]', "is not an IP address or network"),
])
def test_trusting_every_client_is_refused(ws_root, value, said):
    with pytest.raises(ConfigError, match="trusted_proxies") as err:
        _with_proxies(ws_root, value)
    assert said in str(err.value) and "newsletter.toml" in str(err.value)


@pytest.mark.parametrize("value", ['["127.0.0.1"]', '["10.0.0.0/8", "::1"]',
                                   '["192.168.1.7/32"]'])
def test_addresses_and_networks_are_taken(ws_root, value):
    ws = _with_proxies(ws_root, value)
    assert ws.config.web.trusted_proxies == tuple(json.loads(value))
