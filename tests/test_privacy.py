"""Suppression and erasure through the CLI, with the outbox transport."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import EXAMPLE_RELEASE

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "privacy-secret-" + "p" * 30)


def run(ws_root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args])


def _campaign(output: str) -> str:
    return next(line.split()[1].rstrip(":") for line in output.splitlines()
                if line.startswith("Campaign "))


PERSON = "j.becker@essener-lokalanzeiger.example.com"


def test_forget_leaves_no_trace_and_keeps_them_suppressed(ws_root):
    sent = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press")
    assert sent.exit_code == 0, sent.output
    campaign = _campaign(sent.output)
    files = list((ws_root / "outbox" / campaign).glob("*.eml"))
    assert len(files) == 8 and any(PERSON.encode() in f.read_bytes() for f in files)
    result = run(ws_root, "forget", PERSON.upper())
    assert result.exit_code == 0, result.output
    assert "Erased: 1 ledger row(s), 1 outbox file(s)" in result.output
    assert "recipients/press.csv:2" in result.output  # tells where else the address lives
    state = b"".join(p.read_bytes() for p in (ws_root / "state").rglob("*") if p.is_file())
    outbox = b"".join(p.read_bytes() for p in (ws_root / "outbox").rglob("*") if p.is_file())
    for needle in (PERSON.encode(), PERSON.upper().encode(), b"Becker"):
        assert needle not in state and needle not in outbox
    # the list still has the row: a new campaign must not mail them
    again = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--list", "members")
    assert again.exit_code == 0, again.output
    assert "1 suppressed" in again.output  # recorded by its keyed hash only (see test_safety)
    assert not any(PERSON.encode() in f.read_bytes()
                   for f in (ws_root / "outbox").rglob("*.eml"))
    listing = run(ws_root, "suppress", "list")
    assert "(erased, key" in listing.output and PERSON not in listing.output
    assert "not on the list (or erased)" in run(ws_root, "suppress", "remove", PERSON).output


def test_suppress_add_remove_and_report(ws_root):
    assert "suppressed" in run(ws_root, "suppress", "add", PERSON, "--reason",
                               "unsubscribe").output
    assert "already suppressed" in run(ws_root, "suppress", "add", PERSON).output
    sent = run(ws_root, "send", EXAMPLE_RELEASE, "--list", "press")
    campaign = _campaign(sent.output)
    report = run(ws_root, "report", campaign)
    assert report.exit_code == 0 and "suppressed" in report.output and "7 sent" in report.output
    csv_out = run(ws_root, "report", campaign, "--csv", "build/report.csv")
    assert csv_out.exit_code == 0, csv_out.output
    rows = list(csv.DictReader((ws_root / "build" / "report.csv").open(encoding="utf-8-sig")))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"sent", "suppressed"}
    assert run(ws_root, "suppress", "remove", PERSON).output.strip().endswith("removed")
    assert run(ws_root, "report", "nope").exit_code == 1
    assert run(ws_root, "suppress", "add", "not-an-address").exit_code == 1
    outside = run(ws_root, "report", campaign, "--csv", str(ws_root.parent / "x.csv"))
    assert outside.exit_code == 0 and (ws_root.parent / "x.csv").is_file()  # operator's path
