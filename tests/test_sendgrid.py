from __future__ import annotations

import csv
import json
import logging
import socket

import pytest
from click.testing import CliRunner

from newsletter.audience.selection import Selection
from newsletter.cli import cli
from newsletter.content.parser import load_release
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.sending import SendRequest, plan_send, send
from newsletter.delivery.transports import TransportStop
from newsletter.delivery.transports.sendgrid import SendGridTransport, split_budget
from newsletter.errors import ConfigError
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.fake_sendgrid import FakeSendGrid, problems

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

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
                "<https://verbund.example.org/newsletter/app/unsubscribe?t=")
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


def one_edition_list(ws_root, n: int, names: dict[int, str] | None = None) -> list[str]:
    """n German-language members (one edition, so one request of up to 1000)."""
    emails = [f"m{i}@bulk.example.org" for i in range(n)]
    with (ws_root / "recipients" / "members.csv").open("w", encoding="utf-8",
                                                       newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["email", "name", "language", "tags"])
        for i, email in enumerate(emails):
            out.writerow([email, (names or {}).get(i, f"Mitglied {i}"), "de", ""])
    return emails


def delivered(api) -> list[str]:
    return [p["to"][0]["email"] for b in api.bodies for p in b["personalizations"]]


def one_outcome_per_item(monkeypatch) -> list[bool]:
    """Checks that post() answers for every item of its batch exactly once, stop or not."""
    checked = []
    post = SendGridTransport.post

    def spy(self, batch, payload):
        try:
            outcomes = post(self, batch, payload)
        except TransportStop as stop:
            outcomes = stop.outcomes
            raise
        finally:
            checked.append(sorted(o.recipient_id for o in outcomes)
                           == sorted(i.recipient_id for i in batch.items))
        return outcomes

    monkeypatch.setattr(SendGridTransport, "post", spy)
    return checked


def ledger_rows(ws, campaign, status=None):
    return Ledger(ws.root / "state" / "ledger.sqlite3").rows(campaign, status)


def test_a_400_naming_nobody_is_bisected_and_the_batch_still_goes_out(ws_root):
    big_list(ws_root, 20)
    with FakeSendGrid(script=["400"]) as api:  # the first request refused, then all fine
        ws = configure(ws_root, api.url)
        _, result = run(ws)
    assert result.run.counts["sent"] == 20 and result.run.counts["rejected"] == 0
    assert sorted(delivered(api)) == sorted(f"m{i}@bulk.example.org" for i in range(20))


def test_a_comma_or_semicolon_in_a_name_is_quoted_and_delivered(ws_root):
    names = {0: "Müller, Hans", 1: 'Öztürk; "Ali" \\ Sohn', 2: "Hans Müller"}
    one_edition_list(ws_root, 3, names)
    with FakeSendGrid() as api:  # strict: an unquoted ',' or ';' in to.name is refused
        ws = configure(ws_root, api.url)
        _, result = run(ws)
    assert result.run.counts["sent"] == 3 and not api.refused
    to = {p["to"][0]["email"]: p for p in api.bodies[0]["personalizations"]}
    assert to["m0@bulk.example.org"]["to"][0]["name"] == '"Müller, Hans"'
    assert to["m1@bulk.example.org"]["to"][0]["name"] == '"Öztürk; \\"Ali\\" \\\\ Sohn"'
    assert to["m2@bulk.example.org"]["to"][0]["name"] == "Hans Müller"  # left as it is
    # the greeting keeps the name as written
    assert "Müller, Hans" in to["m0@bulk.example.org"]["substitutions"]["%%greeting_text%%"]
    # and the fake refuses what SendGrid refuses, naming the field
    body = {"personalizations": [{"to": [{"email": "a@x.org", "name": "A"}]},
                                 {"to": [{"email": "b@x.org", "name": "Müller, Hans"}]},
                                 {"to": [{"email": "c@x.org", "name": '"Bad "quote", x"'}]}]}
    fields = [e["field"] for e in problems(body, set(), True)]
    assert fields == ["personalizations.1.to.0.name", "personalizations.2.to.0.name"]


@pytest.mark.parametrize("name_fields", [True, False], ids=["named", "bisected"])
def test_one_bad_address_among_1000_is_the_only_one_rejected(ws_root, name_fields):
    emails = one_edition_list(ws_root, 1000)
    bad = emails[617]
    with FakeSendGrid(reject_emails={bad}, name_fields=name_fields) as api:
        ws = configure(ws_root, api.url)
        planned, result = run(ws)
    counts = result.run.counts
    assert counts["sent"] == 999 and counts["rejected"] == 1 and not result.run.stopped
    sent = delivered(api)
    assert len(sent) == len(set(sent)) == 999 and bad not in sent
    assert set(sent) == set(emails) - {bad}
    (rejected,) = ledger_rows(ws, planned.campaign, "rejected")
    assert rejected.email == bad
    assert rejected.last_error.startswith("400: Does not contain a valid address.")
    if name_fields:  # told who: one more request without them
        assert api.requests == 2 and rejected.last_error.endswith(".to.0.email)")
    else:  # halving 1000 ten times, at most two requests a step
        assert api.requests <= 1 + 2 * 10
    assert max(len(b["personalizations"]) for b in api.bodies) <= 1000


def test_several_bad_recipients_are_isolated_and_the_rest_sent_once(ws_root, monkeypatch):
    checked = one_outcome_per_item(monkeypatch)
    emails = one_edition_list(ws_root, 300, {3: "Kaya, Deniz"})
    bad = {emails[0], emails[1], emails[150], emails[299]}
    with FakeSendGrid(reject_emails=bad, name_fields=False) as api:
        ws = configure(ws_root, api.url)
        planned, _ = run(ws)
    assert checked == [True]
    assert {r.email for r in ledger_rows(ws, planned.campaign, "rejected")} == bad
    sent = delivered(api)
    assert len(sent) == len(set(sent)) == 296 and set(sent) == set(emails) - bad


def test_too_many_bad_recipients_stop_the_run_and_later_runs_go_on(ws_root, monkeypatch):
    checked = one_outcome_per_item(monkeypatch)
    emails = one_edition_list(ws_root, 1000)
    bad = set(emails[::25])  # 40, more than one request may isolate
    sent, runs = [], 0
    while runs < 10:
        runs += 1
        with FakeSendGrid(reject_emails=bad, name_fields=False) as api:
            planned, result = run(configure(ws_root, api.url))
        sent += delivered(api)
        assert api.requests <= 1 + split_budget(1000)
        if not result.run.stopped:
            break
        assert "isolating them took more than 200 extra requests" in result.run.stopped
    assert 1 < runs < 10 and all(checked)
    assert len(sent) == len(set(sent)) and set(sent) == set(emails) - bad
    ws = load_workspace(ws_root)
    assert {r.email for r in ledger_rows(ws, planned.campaign, "rejected")} == bad


@pytest.mark.sqlite_file
def test_413_splits_the_request_until_it_fits(ws_root):
    emails = one_edition_list(ws_root, 1000)
    with FakeSendGrid() as probe:  # how large the request for all 1000 is
        run(configure(ws_root, probe.url), sandbox=True)
    size = len(json.dumps(probe.bodies[0]).encode())
    (ws_root / "state").rename(ws_root / "state-probe")  # the real run starts afresh
    with FakeSendGrid(max_bytes=size // 3) as api:  # about 300 recipients fit
        ws = configure(ws_root, api.url)
        _, result = run(ws)
    assert result.run.counts["sent"] == 1000 and result.run.counts["rejected"] == 0
    assert [status for status, _ in api.refused] == [413] * len(api.refused)
    assert len(api.refused) == 3  # 1000, then both halves of 500
    assert sorted(delivered(api)) == sorted(emails)
    assert max(len(b["personalizations"]) for b in api.bodies) == 250


def test_a_request_refused_as_a_whole_stops_without_rejecting_anyone(ws_root, monkeypatch):
    checked = one_outcome_per_item(monkeypatch)
    one_edition_list(ws_root, 1000)
    with FakeSendGrid(default="400") as api:  # e.g. a bad sender: no recipient's fault
        ws = configure(ws_root, api.url)
        _, result = run(ws)
    assert "SendGrid refused every part of the request" in result.run.stopped
    assert "fake error 400" in result.run.stopped
    assert result.run.counts["pending"] == 1000 and result.run.counts["rejected"] == 0
    assert api.requests == 1 + split_budget(1000) == 201 and checked == [True]


def test_a_stop_during_bisection_keeps_what_was_answered(ws_root, monkeypatch):
    checked = one_outcome_per_item(monkeypatch)
    one_edition_list(ws_root, 8)
    # 8 refused → 0-3 refused → 0-1 sent, 2-3 time out; 4-7 never tried
    with FakeSendGrid(script=["400", "400", "ok", "stall"], stall=3) as api:
        ws = configure(ws_root, api.url, timeout=1)
        planned, result = run(ws)
    assert "did not answer in time" in result.run.stopped
    status = {r.email: r.status for r in ledger_rows(ws, planned.campaign)}
    assert status == {**{f"m{i}@bulk.example.org": "sent" for i in (0, 1)},
                      **{f"m{i}@bulk.example.org": "unknown" for i in (2, 3)},
                      **{f"m{i}@bulk.example.org": "pending" for i in range(4, 8)}}
    with FakeSendGrid(script=["400", "429:600"]) as api:
        ws = configure(ws_root, api.url)
        one_edition_list(ws_root, 8)
        planned, result = run(ws)  # the pending four: refused, then rate limited
    assert "rate limit" in result.run.stopped
    assert result.run.counts == {**result.run.counts, "sent": 2, "unknown": 2, "pending": 4}
    assert checked == [True, True]


def test_the_host_in_the_environment_is_checked_before_any_request(ws_root, monkeypatch):
    big_list(ws_root, 3)
    bad = ["http://127.0.0.1.evil.example", "http://localhost.evil.example", "http://10.0.0.1",
           "https://user:pw@api.sendgrid.com", "ftp://127.0.0.1",
           "https://api.sendgrid.com/v3?x=1"]
    with FakeSendGrid() as api:
        ws = configure(ws_root, api.url)
        for host in bad:
            monkeypatch.setenv("SENDGRID_API_HOST", host)
            with pytest.raises(ConfigError, match="SENDGRID_API_HOST") as info:
                run(ws)
            assert KEY not in str(info.value) and "pw" not in str(info.value)
            cli_result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "suppress",
                                                  "import-sendgrid"])
            assert cli_result.exit_code != 0 and "SENDGRID_API_HOST" in cli_result.output
            assert KEY not in cli_result.output and "Traceback" not in cli_result.output
        assert api.requests == 0 and not api.auth
        # a local server is fine, named as such (a trailing "/" is allowed too)
        ws = configure(ws_root, "https://api.sendgrid.com")
        monkeypatch.setenv("SENDGRID_API_HOST", api.url.replace("127.0.0.1", "localhost") + "/")
        _, result = run(ws)
    assert result.run.counts["sent"] == 3


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
    from newsletter.delivery.transports import Unsupported
    ws = load_workspace(ws_root)
    release = load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)
    request = SendRequest(Selection(lists=("press",)), "outbox", sandbox=True)
    with pytest.raises(Unsupported, match="no sandbox mode"):
        send(ws, release, request, plan_send(ws, release, request))
    assert json  # the module is used by helpers above
