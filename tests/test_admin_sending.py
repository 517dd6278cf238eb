"""The sending pages (admin/send) through Starlette's TestClient: access, the dry run
against the command line's, the typed confirmation, the embargo, a real send to the
outbox in a worker process, pause and resume, resend unknown, schedule and cancel.

The worker is a real process; tests wait for the ledger (never for the page) with a
deadline.
"""

from __future__ import annotations

import csv
import re

import pytest
from click.testing import CliRunner

from newsletter.app import accounts, audit, sending
from newsletter.app.sessions import Sessions
from newsletter.cli import cli
from newsletter.delivery import jobs
from newsletter.delivery.ledger import open_ledger
from newsletter.web import create_app
from newsletter.workspace.loading import load_workspace
from tests.admin import (
    ADMIN,
    EVIL,
    PASSWORD,
    SAME_ORIGIN,
    TestClient,
    signed_in,
)
from tests.admin import browser as _client
from tests.admin import wait_for_progress as _wait
from tests.conftest import EXAMPLE_RELEASE

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

CHOICE = {"kind": "release", "release": EXAMPLE_RELEASE, "list": ["members", "press"]}


@pytest.fixture(autouse=True)
def _outbox_secret(monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own


@pytest.fixture
def people(ws):
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    accounts.add_user(ws, "amina", "officer", (), PASSWORD)
    accounts.add_user(ws, "farid", "reviewer", ("fa",), PASSWORD)


@pytest.fixture
def app(ws, people):
    return create_app(ws, admin_sessions=Sessions(ws))


def _actions(ws) -> list[tuple[str, str, str]]:
    return [(e.user, e.action, e.object) for e in audit.entries(ws)]


def _plan(client: TestClient, **extra) -> tuple[str, int, dict[str, int]]:
    """(campaign, total, recipients per edition) as the plan page shows them."""
    page = client.get(ADMIN + "send/plan", params={**CHOICE, **extra})
    assert page.status_code == 200, page.text
    campaign = re.search(r'name="campaign" value="([^"]+)"', page.text)
    total = re.search(r'<td class="num total">(\d+)</td>', page.text)
    rows = re.findall(r'<tr data-edition="([^"]+)">.*?<td class="num">(\d+)</td>', page.text,
                      re.S)
    assert campaign and total
    return campaign.group(1), int(total.group(1)), {k: int(n) for k, n in rows}


def _start(client: TestClient, campaign: str, typed: str, headers=SAME_ORIGIN, **extra):
    return client.post(ADMIN + "send/start", headers=headers,
                       data={**CHOICE, "campaign": campaign, "confirm": typed, **extra})


def _finished(p: sending.Progress) -> bool:
    return not p.running and p.total > 0 and p.state not in ("starting", "running")


def _outbox_files(ws, campaign: str) -> list[str]:
    folder = ws.config.delivery.outbox / campaign
    return sorted(p.name for p in folder.glob("*.eml")) if folder.is_dir() else []


def _rows(ws, campaign: str) -> list[tuple[str, str, int]]:
    with open_ledger(ws.state_dir) as ledger:
        return [tuple(r) for r in ledger.db.execute(
            "SELECT recipient, status, attempts FROM deliveries WHERE campaign=?", (campaign,))]


# --- access ------------------------------------------------------------------------------

def test_without_a_session_the_pages_go_to_the_login_and_posts_get_401(app):
    client = _client(app)
    for path in ("send", "send/plan", "send/campaigns/x-1/status"):
        page = client.get(ADMIN + path)
        assert page.status_code == 303 and "/login?next=" in page.headers["location"]
    assert client.post(ADMIN + "send/start", headers=SAME_ORIGIN,
                       data={**CHOICE, "campaign": "x", "confirm": "1"}).status_code == 401
    assert client.post(ADMIN + "send/campaigns/x-1/pause",
                       headers=SAME_ORIGIN).status_code == 401


def test_a_reviewer_gets_403_everywhere_and_starts_nothing(app, ws):
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    reviewer = signed_in(app, "farid")
    for path in ("send", "send/plan", f"send/campaigns/{campaign}",
                 f"send/campaigns/{campaign}/status"):
        assert reviewer.get(ADMIN + path, params=CHOICE).status_code == 403, path
    assert _start(reviewer, campaign, str(total)).status_code == 403
    for action in ("pause", "resume", "resend-unknown"):
        assert reviewer.post(ADMIN + f"send/campaigns/{campaign}/{action}",
                             headers=SAME_ORIGIN).status_code == 403
    assert reviewer.post(ADMIN + f"send/schedules/{campaign}/cancel",
                         headers=SAME_ORIGIN).status_code == 403
    assert jobs.read_job(ws.state_dir, campaign) is None
    assert _outbox_files(ws, campaign) == []


def test_a_cross_site_post_starts_nothing(app, ws):
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    refused = _start(officer, campaign, str(total), headers=EVIL)
    assert refused.status_code == 403
    assert jobs.read_job(ws.state_dir, campaign) is None
    assert officer.post(ADMIN + f"send/campaigns/{campaign}/pause",
                        headers=EVIL).status_code == 403
    assert not any(a == "send started" for _, a, _ in _actions(ws))


# --- the dry run --------------------------------------------------------------------------

def _cli_plan(ws_root, *args: str) -> tuple[dict[str, int], int]:
    """The summary table of the command line's dry run: recipients per edition, total."""
    done = CliRunner().invoke(cli, ["--workspace", str(ws_root), *args, "--dry-run"])
    assert done.exit_code == 0, done.output
    summary = done.output[done.output.index("Plan (dry run"):]
    rows = re.findall(r"^│ (\S+)\s+│ .+? │ (\d+)\s+│", summary, re.M)
    total = re.search(r"│\s+│ total\s+│ (\d+)", summary)
    assert rows and total
    return {k: int(n) for k, n in rows}, int(total.group(1))


def test_the_dry_run_shows_the_numbers_of_the_command_line(app, ws_root):
    officer = signed_in(app, "leyla")
    _, total, editions = _plan(officer)
    cli_editions, cli_total = _cli_plan(ws_root, "send", EXAMPLE_RELEASE, "--list", "members",
                                        "--list", "press")
    assert (editions, total) == (cli_editions, cli_total)
    assert total > 20 and "en" in editions
    page = officer.get(ADMIN + "send/plan", params=CHOICE)
    assert "Rehearsal (outbox):" in page.text and "nobody receives anything" in page.text
    assert "Real send through" not in page.text
    # the fallback and its reason, in the interface language (the CLI says "fa → en (...)")
    fa, en = '<bdi lang="fa" dir="rtl">فارسی</bdi>', '<bdi lang="en" dir="ltr">English</bdi>'
    assert f"2 × readers of {fa} get {en} ({fa}: 24 of 25 entries not translated)" in page.text
    german = officer.get(ADMIN + "send/plan", params=CHOICE, headers={"accept-language": "de"})
    assert (f"2 × Leser von {fa} bekommen {en} ({fa}: 24 von 25 Einträgen nicht übersetzt)"
            in german.text)
    assert "fa → en" not in page.text + german.text
    # a narrower choice: tags and one edition, the same numbers again
    _, total, editions = _plan(officer, tags="board", lang=["tr"])
    assert (editions, total) == _cli_plan(ws_root, "send", EXAMPLE_RELEASE, "--list",
                                          "members", "--list", "press", "--tag", "board",
                                          "--lang", "tr")


def test_the_digest_plan_is_the_command_lines(app, ws_root):
    officer = signed_in(app, "leyla")
    page = officer.get(ADMIN + "send/plan", params={"kind": "digest", "month": "2018-08",
                                                     "list": "members"})
    assert page.status_code == 200, page.text
    shown = {k: int(n) for k, n in re.findall(
        r'<tr data-edition="([^"]+)">.*?<td class="num">(\d+)</td>', page.text, re.S)}
    total = int(re.search(r'<td class="num total">(\d+)</td>', page.text).group(1))
    assert (shown, total) == _cli_plan(ws_root, "digest", "2018-08", "--list", "members")


@pytest.mark.parametrize(("params", "problem"), [
    ({"kind": "release", "release": "no-such-release", "list": "members"}, "choose one of"),
    ({"kind": "digest", "month": "August", "list": "members"}, "YYYY-MM"),
    ({"kind": "digest", "month": "1999-01", "list": "members"}, "no news releases"),
    ({"kind": "release", "release": EXAMPLE_RELEASE}, "at least one list"),
    ({"kind": "release", "release": EXAMPLE_RELEASE, "list": "nobody"}, "lists of this"),
    ({"kind": "release", "release": EXAMPLE_RELEASE, "list": "members", "lang": "xx"},
     "languages of this"),
    ({"kind": "release", "release": EXAMPLE_RELEASE, "list": "members", "tags": "a b<"},
     "single words"),
    ({"kind": "letter", "release": EXAMPLE_RELEASE, "list": "members"}, "a release or"),
])
def test_bad_choices_go_back_to_the_form(app, params, problem):
    page = signed_in(app, "leyla").get(ADMIN + "send/plan", params=params)
    assert page.status_code == 422
    assert problem in page.text and 'action="' + ADMIN + 'send/plan"' in page.text


def test_invalid_rows_are_named_and_can_be_left_out(app, ws):
    with (ws.root / "recipients/members.csv").open("a", encoding="utf-8") as fh:
        fh.write("not-an-address,Somebody,tr,,Club,membership form,2017-03-14\n")
    officer = signed_in(app, "leyla")
    page = officer.get(ADMIN + "send/plan", params=CHOICE)
    assert page.status_code == 422 and "invalid row" in page.text
    assert "Leave out invalid rows" in page.text
    skipped = officer.get(ADMIN + "send/plan", params={**CHOICE, "skip_invalid": "1"})
    assert skipped.status_code == 200
    assert "Invalid rows left out" in skipped.text and "members.csv" in skipped.text


def test_unknown_and_malformed_campaigns_are_404(app):
    officer = signed_in(app, "leyla")
    assert officer.get(ADMIN + "send/campaigns/nothing-here").status_code == 404
    assert officer.get(ADMIN + "send/campaigns/..%2Fx").status_code == 404
    assert officer.get(ADMIN + "send/campaigns/nothing-here/status").status_code == 404


# --- the typed confirmation and the embargo -----------------------------------------------

@pytest.mark.parametrize("typed", ["", "24", "1,000", "all", "-1", "25 people"])
def test_a_wrong_typed_confirmation_sends_nothing(app, ws, typed):
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    assert str(total) != typed
    refused = _start(officer, campaign, typed)
    assert refused.status_code == 422
    assert "nothing was sent" in refused.text
    assert jobs.read_job(ws.state_dir, campaign) is None
    assert not (ws.state_dir / "sends").exists()
    assert _outbox_files(ws, campaign) == []
    assert ("leyla", "send refused", campaign) in _actions(ws)


def test_a_confirmation_for_another_plan_sends_nothing(app, ws):
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    refused = _start(officer, campaign[:-1] + "0", str(total))
    assert refused.status_code == 422 and "plan changed" in refused.text
    assert not (ws.state_dir / "sends").exists()


def test_an_embargoed_release_cannot_be_sent(app, ws):
    path = ws.releases_dir / f"{EXAMPLE_RELEASE}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "kind: press\n", "kind: press\nembargo: 2099-01-01T09:00:00+01:00\n"), encoding="utf-8")
    officer = signed_in(app, "leyla")
    page = officer.get(ADMIN + "send/plan", params=CHOICE)
    assert "until 2099-01-01 09:00" in page.text and 'value="now"' not in page.text
    campaign, total, _ = _plan(officer)
    refused = _start(officer, campaign, str(total), when="now")
    assert refused.status_code == 409 and "under embargo" in refused.text
    assert not (ws.state_dir / "sends").exists()
    assert _outbox_files(ws, campaign) == []
    # a schedule before the embargo ends is refused too
    early = _start(officer, campaign, str(total), when="schedule", at="2098-12-31T09:00")
    assert early.status_code in (409, 422) and "embargo" in early.text
    assert sending.schedules(ws) == []


# --- sending, progress, pause, resume -------------------------------------------------------

def test_a_send_started_from_the_page_reaches_every_recipient(app, ws):
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    started = _start(officer, campaign, f"{total:,}")  # with a thousands separator
    assert started.status_code == 303
    assert started.headers["location"] == ADMIN + f"send/campaigns/{campaign}?done=started"
    done = _wait(ws, campaign, lambda p: _finished(p) and p.open == 0, "100 %")
    assert done.percent == 100 and done.state == "done"
    assert done.counts["sent"] == total
    assert len(_outbox_files(ws, campaign)) == total
    page = officer.get(ADMIN + f"send/campaigns/{campaign}")
    assert page.status_code == 200 and "100 %" in page.text and "Rehearsal" in page.text
    assert 'value="100"' in page.text and "Nothing left to do." in page.text
    status = officer.get(ADMIN + f"send/campaigns/{campaign}/status").json()
    assert status["percent"] == 100 and status["counts"]["sent"] == total
    assert not status["running"]
    entry = next(e for e in audit.entries(ws) if e.action == "send started")
    assert (entry.user, entry.object) == ("leyla", campaign)
    assert f"{total} recipients" in entry.detail and "@" not in entry.detail
    # the plan page now says the ledger has it, and nobody would get it twice
    assert "in the ledger already" in officer.get(ADMIN + "send/plan", params=CHOICE).text


def _many_recipients(ws, n: int) -> None:
    with (ws.root / "recipients/members.csv").open("a", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        langs = ["tr", "ar", "ru", "uk", "pl", "fa", "ku", "en", "de"]
        for i in range(n):
            out.writerow([f"person{i}@club{i % 40}.example.org", f"Person {i}", langs[i % 9],
                          "board", "Club", "membership form", "2017-03-14"])


def test_pause_and_resume_send_to_everybody_exactly_once(app, ws):
    _many_recipients(ws, 3000)
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    assert _start(officer, campaign, str(total)).status_code == 303
    _wait(ws, campaign, lambda p: p.running and p.counts.get("sent", 0) > 0, "first batch")
    # a second officer starting the same campaign: told so, no second sender
    other = signed_in(app, "amina")
    pid = jobs.read_job(ws.state_dir, campaign).pid
    again = _start(other, campaign, str(total))
    assert again.status_code == 409 and "being sent already" in again.text
    assert jobs.read_job(ws.state_dir, campaign).pid == pid
    paused = officer.post(ADMIN + f"send/campaigns/{campaign}/pause", headers=SAME_ORIGIN)
    assert paused.status_code == 303
    halted = _wait(ws, campaign, _finished, "the pause")
    assert halted.state == "paused", halted
    assert 0 < halted.counts["sent"] < total and halted.unknown == 0
    page = officer.get(ADMIN + f"send/campaigns/{campaign}")
    assert "Resume" in page.text and "paused" in page.text
    # pausing what does not run is refused with a reason
    assert officer.post(ADMIN + f"send/campaigns/{campaign}/pause",
                        headers=SAME_ORIGIN).status_code == 409
    resumed = officer.post(ADMIN + f"send/campaigns/{campaign}/resume", headers=SAME_ORIGIN)
    assert resumed.status_code == 303
    done = _wait(ws, campaign, lambda p: _finished(p) and p.open == 0, "100 % after resume")
    assert done.state == "done" and done.counts["sent"] == total
    rows = _rows(ws, campaign)
    assert len(rows) == total and {(s, a) for _, s, a in rows} == {("sent", 1)}
    files = _outbox_files(ws, campaign)
    assert len(files) == total == len(set(files))
    assert {f.removesuffix(".eml") for f in files} == {r for r, _, _ in rows}
    log = _actions(ws)
    for action in ("send started", "send paused", "send resumed"):
        assert ("leyla", action, campaign) in log


def test_unknown_rows_are_sent_again_only_when_asked(app, ws):
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    _start(officer, campaign, str(total))
    _wait(ws, campaign, lambda p: _finished(p) and p.open == 0, "100 %")
    with open_ledger(ws.state_dir) as ledger, ledger.transaction() as db:
        # as a crash leaves them: in flight when the worker died
        db.execute("UPDATE deliveries SET status='sending' WHERE (campaign, recipient) IN"
                   " (SELECT campaign, recipient FROM deliveries WHERE campaign=? LIMIT 2)",
                   (campaign,))
    page = officer.get(ADMIN + f"send/campaigns/{campaign}")
    assert "2 messages are of unknown fate" in page.text
    unticked = officer.post(ADMIN + f"send/campaigns/{campaign}/resend-unknown",
                            headers=SAME_ORIGIN)
    assert unticked.status_code == 422 and "twice" in unticked.text
    assert sorted(a for _, _, a in _rows(ws, campaign)).count(2) == 0
    ticked = officer.post(ADMIN + f"send/campaigns/{campaign}/resend-unknown",
                          headers=SAME_ORIGIN, data={"understood": "1"})
    assert ticked.status_code == 303
    done = _wait(ws, campaign, lambda p: _finished(p) and p.unknown == 0 and p.open == 0,
                 "the resend")
    assert done.counts["sent"] == total
    assert sorted(a for _, _, a in _rows(ws, campaign)).count(2) == 2
    assert ("leyla", "resend unknown", campaign) in _actions(ws)


def test_a_schedule_is_made_listed_and_cancelled(app, ws):
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer)
    past = _start(officer, campaign, str(total), when="schedule", at="2001-01-01T09:00")
    assert past.status_code == 422 and "not in the future" in past.text
    wrong = _start(officer, campaign, "3", when="schedule", at="2099-01-01T09:00")
    assert wrong.status_code == 422 and sending.schedules(ws) == []
    done = _start(officer, campaign, str(total), when="schedule", at="2099-01-01T09:00")
    assert done.status_code == 303 and done.headers["location"].endswith("send?done=scheduled")
    [waiting] = sending.schedules(ws)
    assert waiting.campaign == campaign and waiting.send_at.startswith("2099-01-01T09:00")
    index = officer.get(ADMIN + "send")
    assert campaign in index.text and "2099-01-01 09:00" in index.text
    assert not (ws.state_dir / "sends").exists()  # nothing was started
    cancelled = officer.post(ADMIN + f"send/schedules/{campaign}/cancel", headers=SAME_ORIGIN)
    assert cancelled.status_code == 303
    assert sending.schedules(ws) == []
    again = officer.post(ADMIN + f"send/schedules/{campaign}/cancel", headers=SAME_ORIGIN)
    assert again.status_code == 409 and "already cancelled" in again.text
    log = _actions(ws)
    assert ("leyla", "send scheduled", campaign) in log
    assert ("leyla", "schedule cancelled", campaign) in log


def test_the_worker_refuses_a_release_edited_after_the_confirmation(app, ws):
    officer = signed_in(app, "leyla")
    campaign, _, _ = _plan(officer)
    job = jobs.Job(campaign, "release", EXAMPLE_RELEASE, ("members", "press"), (), (),
                   False, False, False, "leyla")
    jobs.write_job(ws.state_dir, job)
    path = ws.releases_dir / f"{EXAMPLE_RELEASE}.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nNoch ein Satz.\n", encoding="utf-8")
    from newsletter.app.sendworker import run

    assert run(str(ws.root), campaign) == 1
    assert jobs.read_job(ws.state_dir, campaign).state == "failed"
    assert _outbox_files(ws, campaign) == []
    assert load_workspace(ws.root)  # the workspace is still whole


# --- erasure and the worker's files ------------------------------------------------------------

def _addresses(ws) -> set[str]:
    out = set()
    for path in (ws.root / "recipients").glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8")):
            out |= {cell.casefold() for cell in row if "@" in cell}
    return out


def test_the_workers_files_hold_no_address_and_forget_cleans_one_an_error_quoted(app, ws):
    with (ws.root / "recipients/members.csv").open("a", encoding="utf-8") as fh:
        fh.write("broken@@club.example.org,Somebody,tr,,Club,membership form,2017-03-14\n")
    officer = signed_in(app, "leyla")
    campaign, total, _ = _plan(officer, skip_invalid="1")  # the failing row left out
    assert _start(officer, campaign, str(total), skip_invalid="1").status_code == 303
    _wait(ws, campaign, lambda p: _finished(p) and p.open == 0, "100 %")
    folder = ws.state_dir / jobs.FOLDER
    written = {p.name: p.read_text(encoding="utf-8").casefold() for p in folder.iterdir()}
    assert set(written) >= {f"{campaign}.json", f"{campaign}.log"}
    addresses = _addresses(ws)
    assert "broken@@club.example.org" in addresses and len(addresses) > total
    assert not [a for a in addresses for text in written.values() if a in text]
    # an error's own words may quote an address (a provider's answer, a traceback)
    person = next(a for a in sorted(addresses) if a.startswith("j.becker"))
    jobs.update_job(ws.state_dir, campaign, state=jobs.JobState.FAILED,
                    message=f"the provider refused {person.upper()}; run again later")
    log = jobs.log_path(ws.state_dir, campaign)
    log.write_text(f"Traceback (most recent call last):\nValueError: {person}\n",
                   encoding="utf-8")
    done = CliRunner().invoke(cli, ["--workspace", str(ws.root), "forget", person])
    assert done.exit_code == 0, done.output
    assert "Removed the address from 2 record(s) of sends" in done.output
    job = jobs.read_job(ws.state_dir, campaign)
    assert job.message == "the provider refused [erased]; run again later"
    assert job.state == jobs.JobState.FAILED and job.started_by == "leyla"
    assert log.read_text(encoding="utf-8").endswith("ValueError: [erased]\n")
    assert person not in "".join(p.read_text(encoding="utf-8").casefold()
                                 for p in folder.iterdir())
