"""A database URL psycopg refuses before connecting (an option it does not know, such
as ``?PASSWORD=``): every command says so in one line, password hidden, never a
traceback. ``db check`` and ``send --dry-run`` asked whether a ledger exists first and
let the driver's ProgrammingError through."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

URL = "postgresql://u@127.0.0.1:1/db?PASSWORD=SeCrEt-option-pw"


@pytest.mark.parametrize("command", [
    ["db", "check"],
    ["send", "releases/2018-08-23-kooperationsvertrag.md", "--list", "subscribers",
     "--dry-run"],
    ["report", "x"],
])
def test_an_unknown_connection_option_is_one_line(ws_root, command):
    done = subprocess.run([sys.executable, "-m", "newsletter", "--workspace", str(ws_root),
                           *command], capture_output=True, text=True, timeout=60,
                          cwd=ws_root, env={**os.environ,
                                            "NEWSLETTER_DATABASE_URL": URL})
    shown = done.stdout + done.stderr
    assert done.returncode == 1
    assert "Traceback" not in shown
    assert "SeCrEt" not in shown
    assert 'invalid connection option "PASSWORD"' in done.stderr
