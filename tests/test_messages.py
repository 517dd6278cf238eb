from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest

from newsletter.audience.lists import Recipient
from newsletter.audience.selection import Selection, load_audience, make_plan
from newsletter.audience.tokens import Signer
from newsletter.content.parser import load_release
from newsletter.delivery import headers
from newsletter.delivery.mime import MessageBuilder, prepare
from newsletter.errors import DeliveryError
from newsletter.render.renderer import Renderer
from tests.conftest import EXAMPLE_RELEASE

SIGNER = Signer(b"0123456789abcdef0123456789abcdef", b"address-key-0123456789abcdef", "test")
NOW = dt.datetime(2018, 8, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


@pytest.fixture
def release(ws):
    return load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)


def _message(ws, release, recipient, campaign="c-1"):
    plan = make_plan(release, ws, (recipient,))
    edition = plan.assignments[0].edition
    prepared = prepare(Renderer(ws, lambda p: f"https://img.example.org/{p.name}"), edition, ws)
    env = MessageBuilder(ws, SIGNER, campaign, now=NOW).build(prepared, recipient)
    return env, message_from_bytes(env.as_bytes(), policy=policy.default)


def test_headers_parse_back(ws, release):
    r = Recipient(email="ayse@example.org", name="Ayşe Korkmaz", language="tr")
    env, msg = _message(ws, release, r)
    assert msg["From"].addresses[0].display_name == "Essener Verbund der Immigrantenvereine e.V."
    assert msg["From"].addresses[0].addr_spec == "newsletter@verbund.example.org"
    assert str(msg["To"]) == "Ayşe Korkmaz <ayse@example.org>"
    assert msg["Reply-To"].addresses[0].addr_spec == "presse@verbund.example.org"
    assert msg["Subject"].startswith("Göçmen dernekleri birliği ile Essen Belediyesi")
    assert msg["Date"].datetime == NOW
    assert msg["Message-ID"] == env.message_id
    assert re.fullmatch(r"<c-1\.[0-9a-f]{20}@verbund\.example\.org>", env.message_id)
    assert msg["Content-Language"] == "tr"
    assert msg["List-Id"] == ('"Essener Verbund der Immigrantenvereine e.V.: Pressemitteilungen"'
                              ' <press.verbund.example.org>')
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = SIGNER.unsubscribe_token("ayse@example.org")
    assert msg["List-Unsubscribe"] == (
        f"<https://verbund.example.org/newsletter/app/unsubscribe?t={token}>, "
        f"<mailto:abmelden@verbund.example.org?subject=unsubscribe%20{token}>")
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert token in body  # the unsubscribe link
        assert "Künye" in body and "Amtsgericht Essen" in body  # the imprint
        assert "https://verbund.example.org/newsletter/2018-08-23-kooperationsvertrag/tr.html" \
            in body
    assert text.startswith("Merhaba Ayşe Korkmaz,")
    assert "https://img.example.org/2018-08-23-unterzeichnung.png" in html


def test_message_id_is_stable_when_built_again(ws, release):
    r = Recipient(email="a@example.org", language="de")
    first, _ = _message(ws, release, r)
    second, _ = _message(ws, release, r)
    other, _ = _message(ws, release, Recipient(email="b@example.org", language="de"))
    again_other_campaign, _ = _message(ws, release, r, campaign="c-2")
    assert first.message_id == second.message_id
    assert len({first.message_id, other.message_id, again_other_campaign.message_id}) == 3


def test_arabic_recipient_gets_rtl_html_and_arabic_subject(ws, release):
    r = Recipient(email="karim@example.org", name="كريم حداد", language="ar")
    env, msg = _message(ws, release, r)
    raw = env.as_bytes().decode("ascii")  # every header is ASCII on the wire
    assert "=?utf-8?" in raw.split("\r\n\r\n")[0]
    assert msg["Subject"] == ("اتحاد جمعيات المهاجرين ومدينة إيسن يرسّخان شراكتهما "
                              "باتفاقية تعاون جديدة")
    assert msg["To"].addresses[0].display_name == "كريم حداد"
    html = msg.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    assert 'مرحبًا <span dir="auto">\u2068كريم حداد\u2069</span>،' in html


def test_long_non_ascii_names_survive_folding():
    name = "محمد بالابان رئيس اتحاد جمعيات المهاجرين في إيسن الطويل جدا جدا جدا"
    header = headers.address(name, "m@example.org", "To")
    phrase, _, addr = header.rpartition("<")
    assert addr == "m@example.org>"
    # RFC 2047 decoding (what mail clients do). CPython's structured-header parser
    # turns the folding between two encoded words of a display name into an extra
    # space, so it is not the referee for names longer than one encoded word.
    assert str(make_header(decode_header(phrase))) == name
    assert all(len(line) <= 78 for line in header.split("\n"))
    short = headers.address("كريم حداد", "k@example.org", "To")
    parsed = message_from_bytes(f"To: {short}\n\nx".encode(), policy=policy.default)
    assert parsed["To"].addresses[0].display_name == "كريم حداد"
    subject = "Ölçüm " * 30
    parsed = message_from_bytes(f"Subject: {headers.text(subject.strip(), 'Subject')}\n\nx"
                                .encode(), policy=policy.default)
    assert parsed["Subject"] == subject.strip()


def test_list_unsubscribe_stays_readable_with_a_long_token(ws_root, release):
    from newsletter.workspace.loading import load_workspace
    path = ws_root / "newsletter.toml"
    text = path.read_text(encoding="utf-8").replace(
        'unsubscribe_mailto =',
        'unsubscribe_url = "https://verbund.example.org/newsletter/abmelden/'
        + "sehr-lange-adresse-" * 6 + 'ende"\nunsubscribe_mailto =')
    path.write_text(text, encoding="utf-8")
    ws = load_workspace(ws_root)
    env, msg = _message(ws, release, Recipient(email="a@example.org", language="de"))
    raw = env.as_bytes().decode("ascii")
    header = re.search(r"^List-Unsubscribe: .*?(?=\r\n\S)", raw, re.S | re.M).group(0)
    assert len(header.split("\r\n")[0]) > 100  # a line longer than the 78 soft limit ...
    assert "=?" not in header  # ... is still not an encoded word
    assert msg["List-Unsubscribe"].startswith("<https://verbund.example.org/newsletter/abmelden/")


@pytest.mark.parametrize("evil", ["Eve\r\nBcc: victim@example.com", "Eve\nX-Injected: 1",
                                  "Eve\rX: 1", "Eve\x00"])
def test_header_injection_is_refused(evil):
    with pytest.raises(DeliveryError):
        headers.address(evil, "eve@example.org", "To")
    with pytest.raises(DeliveryError):
        headers.text(evil, "Subject")
    with pytest.raises(DeliveryError):
        headers.address("Eve", "eve@example.org\r\nBcc: victim@example.com", "To")


def test_injection_through_a_list_never_reaches_a_header(ws, release, tmp_path):
    path = ws.root / "recipients" / "members.csv"
    path.write_text('email,name,language\n"a@example.org","Eve\r\nBcc: v@example.com",de\n'
                    "b@example.org,Bob,de\n", encoding="utf-8")
    aud = load_audience(ws, Selection(lists=("members",)), skip_invalid=True)
    assert [r.email for r in aud.recipients] == ["b@example.org"]
    assert "name: contains a line break" in str(aud.skipped[0])


def test_mime_structure_is_standard(ws, release):
    r = Recipient(email="olga@example.net", name="Ольга Петренко", language="uk")
    env, msg = _message(ws, release, r)
    raw = env.as_bytes()
    lines = raw.split(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF everywhere, no bare LF
    assert max(len(line) for line in lines) <= 998
    head, _, _ = raw.partition(b"\r\n\r\n")
    assert head.isascii()
    boundary = msg.get_boundary()
    assert raw.count(f"--{boundary}\r\n".encode()) == 2 and raw.endswith(
        f"--{boundary}--\r\n".encode())
    assert msg.defects == [] and all(p.defects == [] for p in msg.iter_parts())
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert text.startswith("Добрий день, Ольга Петренко!")
    assert "<bdi>" not in text and "Добрий день, Ольга Петренко!" in html
    assert msg.get_body(("plain",))["Content-Transfer-Encoding"] == "base64"
    assert msg["MIME-Version"] == "1.0" and msg.get_content_type() == "multipart/alternative"
