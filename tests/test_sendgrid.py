from __future__ import annotations

import json
import logging
import socket

import pytest
from click.testing import CliRunner

from newsletter.audience import Selection
from newsletter.cli import cli
from newsletter.config import load_workspace
from newsletter.errors import ConfigError
from newsletter.ledger import Ledger
from newsletter.release import load_release
from newsletter.sending import SendRequest, plan_send, send
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_sendgrid import FakeSendGrid

KEY = "SG.test-key-must-never-leak-0123456789"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-" + "x" * 32)
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)


def big_list(ws_root, n: int) -> None:
    """A list of n synthetic members in the languages of the workspace."""
    langs = ["de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku"]
    rows = ["email,name,language,tags"]
    rows += [f"m{i}@bulk.example.org,Mitglied {i},{langs[i % 9]}," for i in range(n)]
    (ws_root / "recipients" / "members.csv").write_text("\n".join(rows) + "\n",
                                                         encoding="utf-8")


def configure(ws_root, url, *, max_wait=5, retries=2, timeout=2):
    path = ws_root / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[delivery.sendgrid]")
    end = text.index("# Machine drafts")
    block = (f'[delivery.sendgrid]\nhost = "{url}"\ncategories = ["verbund-news", "press"]\n'
             f"asm_group_id = 42\nmax_wait = {max_wait}\nretries = {retries}\n"
             f"timeout = {timeout}\n\n")
    path.write_text(text[:start] + block + text[end:], encoding="utf-8")
    return load_workspace(ws_root)


def run(ws, lists=("members",), **kw):
    release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    request = SendRequest(Selection(lists=lists), "sendgrid", **kw)
    planned = plan_send(ws, release, request)
    return planned, send(ws, release, request, planned)


def test_requests_of_at_most_1000_unique_recipients_per_edition(ws_root):
    big_list(ws_root, 2500)
    with FakeSendGrid() as api:
        ws = configure(ws_root, api.url)
        planned, result = run(ws, sandbox=True)
    assert result.run.counts["sent"] == 2500
    sizes = [len(b["personalizations"]) for b in api.bodies]
    assert max(sizes) <= 1000 and sum(sizes) == 2500
    editions = {b["headers"]["Content-Language"] for b in api.bodies}
    assert editions == {"de", "en", "tr", "ar", "ru", "uk", "pl"}  # fa → en, ku → de
    seen = set()
    for body in api.bodies:
        emails = [p["to"][0]["email"] for p in body["personalizations"]]
        assert len(emails) == len(set(emails))
        seen.update(emails)
        assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}
        assert body["categories"] == ["verbund-news", "press"] and body["asm"] == {"group_id": 42}
        assert body["from"]["email"] == "newsletter@verbund.example.org"
        html = body["content"][1]["value"]
        assert body["content"][0]["type"] == "text/plain" and "%%greeting_text%%" in \
            body["content"][0]["value"]
        assert "%%greeting_html%%" in html and "%%unsubscribe_url_html%%" in html
        for p in body["personalizations"]:
            subs = p["substitutions"]
            size = sum(len(k.encode()) + len(v.encode()) for k, v in subs.items())
            assert size <= 10_000
            assert p["custom_args"]["campaign"] == planned.campaign
            assert p["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert p["headers"]["List-Unsubscribe"].startswith(
                "<https://verbund.example.org/newsletter/abmelden?t=")
            name = p["to"][0]["name"]
            assert name in subs["%%greeting_text%%"] and name in subs["%%greeting_html%%"]
        if body["headers"]["Content-Language"] == "tr":
            assert body["subject"].startswith("Göçmen dernekleri birliği")
    assert len(seen) == 2500
    assert set(api.auth) == {f"Bearer {KEY}"}
    rows = Ledger(ws.root / "state" / "ledger.sqlite3").rows(planned.campaign)
    assert {r.provider_id for r in rows} == {f"sg-{n}" for n in range(1, len(api.bodies) + 1)}


def test_rate_limit_waits_as_told_and_stops_when_too_long(ws_root):
    big_list(ws_root, 30)
    said = []
    with FakeSendGrid(script=["429:1"]) as api:
        ws = configure(ws_root, api.url, max_wait=5)
        release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
        request = SendRequest(Selection(lists=("members",)), "sendgrid")
        planned = plan_send(ws, release, request)
        result = send(ws, release, request, planned, say=said.append)
    assert result.run.counts["sent"] == 30 and any("rate limit" in s for s in said)
    first = [p["to"][0]["email"] for b in api.bodies for p in b["personalizations"]]
    # ten more people join the list; the same campaign goes on for them only
    big_list(ws_root, 40)
    with FakeSendGrid(script=["ok", "429:600"]) as api:
        ws = configure(ws_root, api.url, max_wait=5)
        planned, result = run(ws)
        assert "rate limit" in result.run.stopped and "run again later" in result.run.stopped
        counts = result.run.counts
        assert counts["sent"] > 30 and counts["pending"] > 0 and counts["unknown"] == 0
        planned, again = run(ws)  # the next run continues where it stopped
    assert again.run.counts["sent"] == 40
    sent = first + [p["to"][0]["email"] for b in api.bodies for p in b["personalizations"]]
    assert len(sent) == len(set(sent)) == 40


def test_5xx_is_retried_then_stops_cleanly(ws_root):
    big_list(ws_root, 20)
    with FakeSendGrid(script=["500"]) as api:
        ws = configure(ws_root, api.url, retries=2)
        _, result = run(ws)
    assert result.run.counts["sent"] == 20
    with FakeSendGrid(default="500") as api:
        ws = configure(ws_root, api.url, retries=1)
        big_list(ws_root, 25)  # five more people, same campaign
        _, result = run(ws)
    assert "SendGrid answered 500" in result.run.stopped
    assert result.run.counts["unknown"] == 0 and result.run.counts["pending"] == 5


def test_400_rejects_the_batch_and_goes_on(ws_root):
    big_list(ws_root, 20)
    with FakeSendGrid(script=["400"]) as api:
        ws = configure(ws_root, api.url)
        planned, result = run(ws)
    counts = result.run.counts
    assert counts["rejected"] > 0 and counts["sent"] > 0
    assert counts["rejected"] + counts["sent"] == 20
    rejected = Ledger(ws.root / "state" / "ledger.sqlite3").rows(planned.campaign, "rejected")
    assert rejected[0].last_error == "400: fake error 400"


def test_refused_connection_and_stall(ws_root):
    big_list(ws_root, 10)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    ws = configure(ws_root, closed, retries=1)
    _, result = run(ws)
    assert "cannot reach SendGrid" in result.run.stopped
    assert result.run.counts["pending"] == 10  # certainly not sent: a rerun sends them
    with FakeSendGrid(default="stall", stall=3) as api:
        ws = configure(ws_root, api.url, timeout=1)
        _, result = run(ws)
    assert "did not answer in time" in result.run.stopped
    assert result.run.counts["unknown"] > 0  # the request may have arrived: not guessed


def test_the_key_never_leaks(ws_root, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    big_list(ws_root, 12)
    with FakeSendGrid(script=["400", "429:600"]) as api:
        configure(ws_root, api.url)
        result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "send",
                                          EXAMPLE_RELEASE, "--list", "members",
                                          "--transport", "sendgrid"])
        campaign = next(line.split()[1].rstrip(":") for line in result.output.splitlines()
                        if line.startswith("Campaign "))
        report = CliRunner().invoke(cli, ["--workspace", str(ws_root), "report", campaign,
                                          "--csv", "build/report.csv"])
    texts = [result.output, report.output, caplog.text, capsys.readouterr().out,
             (ws_root / "build" / "report.csv").read_text(encoding="utf-8")]
    data = b"".join(p.read_bytes() for p in (ws_root / "state").rglob("*") if p.is_file())
    assert KEY not in "".join(texts) and KEY.encode() not in data
    assert "Traceback" not in result.output


def test_missing_key_is_a_clear_error(ws_root, monkeypatch):
    monkeypatch.delenv("SENDGRID_API_KEY")
    ws = configure(ws_root, "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="set SENDGRID_API_KEY"):
        run(ws)


def test_import_suppressions_from_sendgrid(ws_root):
    lists = {"bounces": ["b@example.com"], "blocks": ["c@example.com"],
             "spam_reports": ["d@example.com"],
             "unsubscribes": [f"u{i}@example.com" for i in range(600)]}
    with FakeSendGrid(suppressions=lists) as api:
        configure(ws_root, api.url)
        result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "suppress",
                                          "import-sendgrid"])
        again = CliRunner().invoke(cli, ["--workspace", str(ws_root), "suppress",
                                         "import-sendgrid"])
    assert result.exit_code == 0, result.output
    assert "1 new from bounces" in result.output and "600 new from unsubscribes" in result.output
    assert "0 new from unsubscribes" in again.output
    listing = CliRunner().invoke(cli, ["--workspace", str(ws_root), "suppress", "list"])
    assert "b@example.com" in listing.output and "complaint" in listing.output


def test_unsupported_options_say_so(ws_root):
    from newsletter.transports import Unsupported
    ws = load_workspace(ws_root)
    release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    request = SendRequest(Selection(lists=("press",)), "outbox", sandbox=True)
    with pytest.raises(Unsupported, match="no sandbox mode"):
        send(ws, release, request, plan_send(ws, release, request))
    assert json  # the module is used by helpers above
