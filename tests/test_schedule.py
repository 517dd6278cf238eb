from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from newsletter.audience.selection import Selection
from newsletter.cli import cli
from newsletter.content.parser import load_release
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.scheduling import cancel, dispatch, parse_at, schedule_send
from newsletter.delivery.sending import SendRequest
from newsletter.errors import DeliveryError, EmbargoError
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_sendgrid import FakeSendGrid
from tests.test_sendgrid import configure

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

NOW = dt.datetime(2030, 1, 10, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "schedule-secret-" + "s" * 30)
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.schedule-test")


@pytest.fixture
def release(ws):
    return load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)


def test_parse_at_uses_the_workspace_time_zone():
    at = parse_at("2026-12-01 09:00", "Europe/Berlin")
    assert at.utcoffset() == dt.timedelta(hours=1)
    assert parse_at("2026-12-01T09:00+00:00", "Europe/Berlin").utcoffset() == dt.timedelta(0)
    with pytest.raises(DeliveryError, match="--at 'morgen'"):
        parse_at("morgen", "Europe/Berlin")


def test_outbox_schedule_waits_for_dispatch(ws, release):
    request = SendRequest(Selection(lists=("press",)), "outbox")
    done = schedule_send(ws, release, request, NOW + dt.timedelta(hours=1), now=NOW)
    assert done.result is None and not (ws.root / "outbox").exists()
    assert dispatch(ws, now=NOW + dt.timedelta(minutes=30)) == []  # not due yet
    sent = dispatch(ws, now=NOW + dt.timedelta(hours=1, minutes=5))
    assert [c for c, _ in sent] == [done.campaign] and sent[0][1].delivered == 8
    assert len(list((ws.root / "outbox" / done.campaign).glob("*.eml"))) == 8
    assert dispatch(ws, now=NOW + dt.timedelta(hours=2)) == []  # once
    with pytest.raises(DeliveryError, match="already sent"):
        cancel(ws, done.campaign)


def test_schedules_respect_time_and_embargo(ws, release):
    request = SendRequest(Selection(lists=("press",)), "outbox")
    with pytest.raises(DeliveryError, match="not in the future"):
        schedule_send(ws, release, request, NOW - dt.timedelta(minutes=1), now=NOW)
    path = release.path
    path.write_text(path.read_text(encoding="utf-8").replace(
        "kind: press\n", "kind: press\nembargo: 2030-01-10T12:00:00+01:00\n"), encoding="utf-8")
    embargoed = load_release(path, ws.root)
    with pytest.raises(EmbargoError, match="under embargo until 2030-01-10 12:00"):
        schedule_send(ws, embargoed, request, NOW + dt.timedelta(hours=2), now=NOW)
    ok = schedule_send(ws, embargoed, request, NOW + dt.timedelta(hours=3), now=NOW)
    assert cancel(ws, ok.campaign).startswith(f"{ok.campaign} cancelled")
    assert dispatch(ws, now=NOW + dt.timedelta(hours=4)) == []


def test_sendgrid_holds_the_messages_and_cancels_the_batch(ws_root, release, monkeypatch):
    with FakeSendGrid() as api:
        ws = configure(ws_root, api.url)
        release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
        request = SendRequest(Selection(lists=("press",)), "sendgrid")
        with pytest.raises(DeliveryError, match="at most 72 hours ahead"):
            schedule_send(ws, release, request, NOW + dt.timedelta(hours=73), now=NOW)
        at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        done = schedule_send(ws, release, request, at)
        assert done.batch_id == "batch-123" and done.result.delivered == 8
        assert {b["send_at"] for b in api.bodies} == {int(at.timestamp())}
        assert {b["batch_id"] for b in api.bodies} == {"batch-123"}
        with pytest.raises(DeliveryError, match="already scheduled"):
            schedule_send(ws, release, request, at)
        cancel(ws, done.campaign)
        assert api.cancelled == [{"batch_id": "batch-123", "status": "cancel"}]
    counts = Ledger(ws.root / "state" / "ledger.sqlite3").counts(done.campaign)
    assert counts["cancelled"] == 8


def test_cli_send_at_and_cancel(ws_root):
    runner = CliRunner()
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    result = runner.invoke(cli, ["--workspace", str(ws_root), "send", EXAMPLE_RELEASE,
                                 "--list", "press", "--at", later])
    assert result.exit_code == 0, result.output
    assert "'newsletter dispatch'" in result.output
    campaign = result.output.split()[1]
    assert runner.invoke(cli, ["--workspace", str(ws_root), "dispatch"]).output.strip() \
        == "Nothing is due."
    out = runner.invoke(cli, ["--workspace", str(ws_root), "cancel", campaign])
    assert out.exit_code == 0 and "cancelled" in out.output
    again = runner.invoke(cli, ["--workspace", str(ws_root), "cancel", campaign])
    assert again.exit_code == 1 and "already cancelled" in again.output
