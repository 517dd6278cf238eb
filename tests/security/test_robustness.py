"""Tracebacks the attack run found where one clear line belongs (finding 9): a full disk
when a send takes its lock, PostgreSQL restarting in the middle of a send (the
dispatcher's progress check), and Ctrl-C while the command line starts."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.delivery.ledger import open_ledger
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_smtp import Recorder, SmtpServer
from tests.test_crash import _members
from tests.test_smtp import configure
from tests.test_workers import _send


def _one_line(output: str) -> str:
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    return errors[0]


# --- a full disk ---------------------------------------------------------------------------

@contextlib.contextmanager
def _full_disk(folder: Path):
    """A small file system mounted on ``folder`` and filled up (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("filling a disk needs root and mount (a tmpfs of 64 KiB)")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs",
                           str(folder)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        # unbuffered: nothing is left over for the close to fail on
        with (folder / "filler").open("wb", buffering=0) as filler, \
                contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_full_disk_when_a_send_takes_its_lock_is_one_line(ws_root, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL", raising=False)

    def send(name: str):
        return CliRunner().invoke(cli, ["--workspace", str(ws_root), "send", EXAMPLE_RELEASE,
                                        "--list", name])

    assert send("press").exit_code == 0
    with _full_disk(ws_root / "state" / "locks"):
        full = send("members")  # a new campaign: a new lock file, no room for it
    assert full.exit_code == 1 and isinstance(full.exception, SystemExit)
    line = _one_line(full.output)
    assert "cannot take the lock: No space left on device" in line
    assert "state/locks/" in line
    assert send("members").exit_code == 0  # room again: the same command works


# --- PostgreSQL restarting in the middle of a send ---------------------------------------------

def _restart(url: str) -> None:
    """What clients see of a restart: every connection ends ("terminating connection due
    to administrator command"), new ones are taken again."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                             "datname = current_database() AND pid <> pg_backend_pid()"))
    engine.dispose()


@pytest.mark.parametrize("workers", [True, False], ids=["dispatcher", "single"])
@pytest.mark.parametrize("after", [3, 12])
def test_a_database_restart_mid_send_is_one_line_and_resumable(ws_root, pg_url, monkeypatch,
                                                               workers, after):
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", pg_url)

    def slow_then_restart(recorder):
        if sum(recorder.received.values()) == after:
            _restart(pg_url)
        time.sleep(0.08)

    recorder = Recorder(on_message=slow_then_restart)
    extra = ("--workers", "2") if workers else ()
    with SmtpServer(recorder) as server:
        configure(ws_root, server.port)
        first = _send(ws_root, *extra)
        out, _ = first.communicate(timeout=180)
        assert first.returncode == 1, out
        line = _one_line(out)
        assert "run the same command to continue" in line, line
        assert "administrator command" in line or "closed the connection" in line, line
        again = _send(ws_root, *extra)  # the database answers again: the same command
        out2, _ = again.communicate(timeout=180)
    assert again.returncode == 0 and "Traceback" not in out2, out2
    # resumed: everyone once, or listed as unknown (in flight at the restart), never twice
    members = set(_members(ws_root))
    assert set(recorder.received.values()) == {1}
    with open_ledger(ws_root / "state") as ledger:
        unknown = {r.email.lower() for c in ledger.campaigns()
                   for r in ledger.rows(c.id, status="unknown")}
    assert set(recorder.received) | unknown == members


# --- Ctrl-C while the command line starts ------------------------------------------------------

def test_ctrl_c_during_start_up_is_one_line():
    # at several moments of the start (the imports take most of a second)
    for delay in (0.15, 0.3, 0.5, 0.8):
        proc = subprocess.Popen([sys.executable, "-m", "newsletter", "--help"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, (delay, err)
        # 130 from us; -SIGINT when it lands while Python itself starts or ends
        assert proc.returncode in (0, 1, 130, -signal.SIGINT), (delay, proc.returncode, err)
        assert len(err.strip().splitlines()) <= 1, err


STOPPED_IN_IMPORTS = textwrap.dedent("""
    import os, signal, time
    import newsletter.cli as entry

    loading = entry._commands

    def interrupted_while_loading():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the KeyboardInterrupt arrives here, in the middle of the start
        return loading()

    entry._commands = interrupted_while_loading
    entry.main()
""")


def test_ctrl_c_while_the_commands_load_says_so():
    done = subprocess.run([sys.executable, "-c", STOPPED_IN_IMPORTS], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 130
    assert done.stderr.strip() == "newsletter: stopped while starting (Ctrl-C); nothing was done"
