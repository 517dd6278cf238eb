"""Every header section we write (the confirmation mail, campaign mails in several
languages, the digest) holds our fields only, each once, whatever name or subject an
outsider chose: RFC 2047 encoded words that decode to CR/LF (CVE-2024-6923 on this
machine's Python) and display names that read as two addresses once re-folded."""

from __future__ import annotations

import re
import sys
import warnings
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

with warnings.catch_warnings():  # Starlette 1.x would rather see httpx2; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from newsletter.cli import cli
from newsletter.delivery import headers
from newsletter.delivery.keys import load_signer
from newsletter.errors import DeliveryError
from newsletter.web import create_app
from tests.conftest import EXAMPLE_RELEASE

VICTIM = "victim@example.org"
# the names of the attack runs: an encoded word hiding CR/LF and new fields; a name that
# reads as two addresses when its quotes are lost; variants of both
ATTACKS = (
    "=?utf-8?q?Max=0D=0AReply-To:_attacker=40evil.example=0D=0AX-A:_?=",
    "Team <support@evil.example>, Max Mustermann von der Geschaeftsstelle des Vereins "
    "Essen Nord",
    "=?utf-8?b?TWF4DQpCY2M6IHZpY3RpbUBleGFtcGxlLmNvbQ0KDQpLb250byBnZXNwZXJydCE=?=",
    "=?UTF-8?Q?Max?= =?UTF-8?Q?=0ABcc:_a@evil.example?=",
    '"Team" <support@evil.example>; Max',
    "Ayşe <a@evil.example>, " + " ".join(["Verein"] * 10),
    "Max =?iso-8859-1?q?=0D=0ASubject:_Konto_gesperrt?= Mustermann",
)
CAMPAIGN_FIELDS = {"From", "Reply-To", "Subject", "Date", "Content-Language", "List-Id",
                   "List-Unsubscribe-Post", "X-Newsletter-Campaign", "MIME-Version",
                   "Content-Type", "To", "Message-ID", "List-Unsubscribe"}
CONFIRMATION_FIELDS = {"From", "To", "Reply-To", "Subject", "Date", "Message-ID",
                       "Auto-Submitted", "Content-Language", "MIME-Version", "Content-Type"}
_FIELD = re.compile(rb"([!-9;-~]+):")


def assert_own_header_section(raw: bytes, fields: set[str], to: str, reply_to: str) -> None:
    """Each line of the header section continues a field (starts with a space) or starts
    one of ``fields``, each once; parsed back (as written, and as a relay re-serialising
    it with this Python writes it), To holds exactly ``to`` and Reply-To ``reply_to``."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"\n" not in head.replace(b"\r\n", b"")
    seen = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        found = _FIELD.match(line)
        assert found is not None, line
        seen.append(found.group(1).decode())
    assert sorted(seen) == sorted(fields), seen
    for data in (raw, _reserialised(raw, policy.SMTP), _reserialised(raw, policy.default)):
        msg = BytesParser(policy=policy.default).parsebytes(data)
        assert set(msg.keys()) == fields
        assert [a.addr_spec for a in msg["To"].addresses] == [to]
        assert [a.addr_spec for a in msg["Reply-To"].addresses] == [reply_to]
        assert msg.defects == []


def _reserialised(raw: bytes, how: policy.Policy) -> bytes:
    return BytesParser(policy=policy.default).parsebytes(raw).as_bytes(policy=how)


def _decoded_name(raw: bytes) -> str:
    """The To display name as a mail client shows it (RFC 2047 decoding)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n ", " ")
    value = next(line for line in head.split("\r\n") if line.startswith("To: "))[4:]
    phrase = value.rpartition("<")[0].strip()
    shown = str(make_header(decode_header(phrase)))
    return shown[1:-1].replace('\\"', '"').replace("\\\\", "\\") if shown.startswith('"') \
        else shown


def test_this_python_is_the_affected_one_or_newer():
    # the tests below must pass on 3.11.7 (CVE-2024-6923 unpatched) as on patched ones
    assert sys.version_info >= (3, 11)


@pytest.mark.parametrize("name", ATTACKS)
def test_encoder_gives_one_address_and_no_field(name):
    value = headers.address(name, VICTIM, "To")
    raw = headers.section([("To", value), ("Reply-To", "presse@verbund.example.org"),
                           ("Subject", headers.text(name, "Subject"))]) + b"\r\nx\r\n"
    assert_own_header_section(raw, {"To", "Reply-To", "Subject"}, VICTIM,
                              "presse@verbund.example.org")
    shown = _decoded_name(raw)
    assert "=?" not in shown and "\r" not in shown and "\n" not in shown
    assert shown == name.replace("=?", "= ?")  # the rest as typed


@pytest.mark.parametrize("evil", ["Max\r\nBcc: a@evil.example", "Max\nX: 1", "Max\rX: 1",
                                  "Max\x00", "Max\x85Bcc: a@evil.example",
                                  "Max\u2028Bcc: a@evil.example", "Max\tX"])
def test_line_breaks_and_control_characters_are_refused(evil):
    for build in (lambda: headers.address(evil, VICTIM, "To"),
                  lambda: headers.text(evil, "Subject"),
                  lambda: headers.phrase(evil, "List-Id"),
                  lambda: headers.plain(evil, "To name")):
        with pytest.raises(DeliveryError, match="line break or control character"):
            build()


def test_section_refuses_a_value_that_would_start_a_field():
    for value in ("a\nBcc: x@evil.example", "a\r\n Bcc", "ä", "a\n", "a\n\tb"):
        with pytest.raises(DeliveryError):
            headers.section([("Subject", value)])
    with pytest.raises(DeliveryError):
        headers.section([("Bcc: x@evil.example\nSubject", "a")])


# --- the mails we write ----------------------------------------------------------------


@pytest.fixture
def outbox_secret(monkeypatch, state_db):  # every mail test: on SQLite and PostgreSQL
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own


@pytest.mark.parametrize("name", ATTACKS)
def test_sign_up_with_an_attack_name_gives_one_clean_confirmation_mail(ws, outbox_secret,
                                                                       name):
    site = "https://verbund.example.org"
    client = TestClient(create_app(ws), base_url=site)
    answer = client.post("/newsletter/app/subscribe", headers={
        "origin": site, "sec-fetch-site": "same-origin"}, data={
        "email": VICTIM, "name": name, "language": "de", "consent": "yes", "lang": "de",
        "website": ""})
    assert answer.status_code == 200, answer.text
    rid = load_signer(ws.state_dir, allow_state_secret=True).recipient_id(VICTIM)
    raw = (ws.config.delivery.outbox / "confirmations" / f"{rid}.eml").read_bytes()
    assert_own_header_section(raw, CONFIRMATION_FIELDS, VICTIM, ws.config.sender.reply_to)
    assert "=?" not in _decoded_name(raw)


def _add_recipients(ws_root: Path, langs: tuple[str, ...]) -> dict[str, str]:
    """One member per attack name, in the languages given (round robin)."""
    path = ws_root / "recipients" / "members.csv"
    added = {}
    with path.open("a", encoding="utf-8", newline="") as fh:
        for n, name in enumerate(ATTACKS):
            email = f"attack{n}@example.org"
            added[email] = name
            quoted = '"' + name.replace('"', '""') + '"'
            fh.write(f"{email},{quoted},{langs[n % len(langs)]},,,form,2018-01-01\r\n")
    return added


def _outbox_messages(ws_root: Path, output: str) -> list[bytes]:
    campaign = next(line.split()[1].rstrip(":") for line in output.splitlines()
                    if line.startswith("Campaign "))
    return [p.read_bytes() for p in sorted((ws_root / "outbox" / campaign).glob("*.eml"))]


@pytest.mark.parametrize("command", [["send", EXAMPLE_RELEASE], ["digest", "2018-08"]])
def test_campaign_and_digest_mails_in_every_language_hold_our_fields_only(ws_root, ws,
                                                                           outbox_secret,
                                                                           command):
    added = _add_recipients(ws_root, ("de", "ar", "ru", "tr", "fa", "uk", "en"))
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), *command, "--list",
                                      "members", "--transport", "outbox"])
    assert result.exit_code == 0, result.output
    messages = _outbox_messages(ws_root, result.output)
    assert len(messages) >= 25 + len(ATTACKS)
    languages, attacked = set(), 0
    for raw in messages:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        to = msg["To"].addresses[0].addr_spec
        assert_own_header_section(raw, CAMPAIGN_FIELDS, to, ws.config.sender.reply_to)
        languages.add(msg["Content-Language"])
        if to in added:
            attacked += 1
            assert _decoded_name(raw) == added[to].replace("=?", "= ?")
    assert attacked == len(ATTACKS)
    assert {"de", "ar", "ru", "tr", "uk"} <= languages  # fa readers get a fallback


def test_sendgrid_gets_names_without_line_breaks_or_encoded_words(ws_root, monkeypatch,
                                                                  state_db):
    """SendGrid writes the headers itself from plain fields: those are checked and
    neutralised the same way (headers.plain)."""
    from tests.fake_sendgrid import FakeSendGrid
    from tests.test_sendgrid import configure, one_edition_list
    from tests.test_sendgrid import run as send_through

    monkeypatch.setenv("NEWSLETTER_SECRET", "security-headers-" + "h" * 30)
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.security-headers-key-0123456789")
    names = dict(enumerate(ATTACKS))
    one_edition_list(ws_root, len(ATTACKS), names)
    with FakeSendGrid() as api:
        _, result = send_through(configure(ws_root, api.url))
    assert result.run.counts["sent"] == len(ATTACKS), result.run.counts
    body = api.bodies[0]
    shown = [p["to"][0]["name"] for p in body["personalizations"]]
    for value in [*shown, body["subject"], body["from"]["name"]]:
        assert "=?" not in value and headers.problem(value) is None, value
    assert [" ".join(n.split()).replace("=?", "= ?") for n in ATTACKS] == [
        n[1:-1].replace('\\"', '"') if n.startswith('"') else n for n in shown]
