"""The line "why you receive this", per recipient and in the edition's language, and the
List-Id, one per kind of mailing (issue 12, point 5)."""

from __future__ import annotations

import sqlite3
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest

from newsletter.audience.lists import Recipient
from newsletter.audience.selection import Selection, WhyOf, make_plan
from newsletter.content.parser import load_release
from newsletter.delivery import audiences
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.sending import SendRequest, plan_send, send
from newsletter.publish import digest as digests
from newsletter.reasons import Why
from newsletter.render.renderer import Renderer, relative_asset_url
from newsletter.translation.editions import build_edition
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

NEWS = "2018-08-30-vereinsberatung"


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "why-secret-" + "w" * 32)


def _release(ws, rid=EXAMPLE_RELEASE):
    return load_release(ws.releases_dir / f"{rid}.md", ws.root)


def _by_address(ws_root, campaign):
    out = {}
    for path in (ws_root / "outbox" / campaign).glob("*.eml"):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        out[msg["To"].addresses[0].addr_spec.lower()] = msg
    return out


def _bodies(msg):
    """Plain text (whitespace and line wrapping squashed) and HTML of a message."""
    text = msg.get_body(("plain",)).get_content()
    return " ".join(text.split()), msg.get_body(("html",)).get_content()


def test_the_reason_comes_from_the_lists_that_hold_the_reader(ws):
    why = WhyOf(ws)
    assert why(Recipient("a@example.org", lists=("members",))) == "member"
    assert why(Recipient("a@example.org", lists=("press",))) == "press"
    assert why(Recipient("a@example.org", lists=("subscribers",))) == "subscriber"
    assert why(Recipient("a@example.org", lists=("web",))) == "web"
    # several lists: named, in the order of newsletter.toml whatever order they came in
    assert why(Recipient("a@example.org", lists=("web", "press", "members"))) == \
        "lists:members,press,web"
    assert Why.parse("lists:members,press,web", Why("press")) == Why(
        "lists", ("members", "press", "web"))
    assert Why.parse("", Why("press")) == Why("press")  # rows of older ledgers
    assert Why.parse("bogus", Why("subscriber")) == Why("subscriber")
    odd = Why("lists", ("a,b", "c:d"))
    assert Why.parse(odd.key, Why("press")) == odd


def test_a_send_tells_each_reader_their_own_reason_in_their_language(ws_root, ws):
    release = _release(ws)
    request = SendRequest(Selection(lists=("press", "subscribers", "members")), "outbox")
    planned = plan_send(ws, release, request)
    result = send(ws, release, request, planned)
    assert result.delivered == 38
    mails = _by_address(ws_root, planned.campaign)

    # a member club, in Turkish
    text, html = _bodies(mails["vorstand@elternverein-katernberg.example.org"])
    tr = "Bu e-postayı, derneğiniz birliğimizin üyesi olduğu için alıyorsunuz."
    assert tr in html and tr in text
    assert "basın listemizde" not in html
    # a journalist gets the German original and the press list
    text, html = _bodies(mails["j.becker@essener-lokalanzeiger.example.com"])
    assert "weil Sie in unserem Presseverteiler stehen." in html
    assert "Verein" not in html.split('class="why"')[1].split("</p>")[0]
    # a subscriber of the list 'subscribers'
    text, html = _bodies(mails["miriam.hoffmeister@example.net"])
    assert "weil Sie unseren Newsletter abonniert haben." in html
    # on two lists (members and subscribers): both named, in the edition's language
    # (Farsi falls back to English for this release)
    text, html = _bodies(mails["reza.ahmadi@example.net"])
    assert ("You receive this email because you are on these lists of ours: member clubs "
            "and newsletter list.") in html
    assert "member clubs and newsletter list." in text


def test_several_lists_in_arabic_are_joined_the_arabic_way(ws_root, ws):
    members = ws_root / "recipients" / "members.csv"
    press = ws_root / "recipients" / "press.csv"
    press.write_text(press.read_text(encoding="utf-8")
                     + "karim.haddad@kulturhaus.example.org,Karim Haddad,ar,,,,,,\n",
                     encoding="utf-8")
    assert "karim.haddad" in members.read_text(encoding="utf-8")
    release = _release(ws)
    request = SendRequest(Selection(lists=("press", "members")), "outbox")
    planned = plan_send(ws, release, request)
    send(ws, release, request, planned)
    text, html = _bodies(_by_address(ws_root, planned.campaign)[
        "karim.haddad@kulturhaus.example.org"])
    line = "تتلقّون هذه الرسالة لأنكم مدرجون في قوائمنا التالية: الجمعيات الأعضاء والقائمة الصحفية."
    assert line in html
    assert line in text


def test_the_list_web_and_lists_without_names(ws_root):
    # a list written the short way is a subscriber list, named by its key
    path = ws_root / "newsletter.toml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("[lists.subscribers]"), text.index("[delivery]")
    path.write_text(text[:start] + '[lists]\nnewcomers = "recipients/subscribers.csv"\n\n'
                    + text[end:], encoding="utf-8")
    ws = load_workspace(ws_root)
    assert ws.config.list_of("newcomers").reason == "subscriber"
    renderer = Renderer(ws, relative_asset_url(ws.build_dir))
    out = renderer.render(build_edition(_release(ws), ws, "de"))
    line = out.whys.text("lists:members,newcomers,web")
    assert max(len(row) for row in line.splitlines()) <= 72  # wrapped like the footer
    assert " ".join(line.split()) == (
        "Sie erhalten diese E-Mail, weil Sie in folgenden Verteilern bei uns eingetragen "
        "sind: Mitgliedsvereine, newcomers und Newsletter-Anmeldungen auf unserer Website.")
    assert str(out.whys.html("web")) == ("Sie erhalten diese E-Mail, weil Sie sich auf "
                                         "unserer Website für unseren Newsletter angemeldet "
                                         "haben.")
    # a preview has no reader: the mailing's usual reason
    assert "Presseverteiler" in out.whys.text()


def test_list_names_are_escaped_and_isolated_in_right_to_left_editions(ws_root):
    path = ws_root / "newsletter.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'ar = "القائمة الصحفية"', 'ar = "Presse <b>&</b> Medien"'), encoding="utf-8")
    ws = load_workspace(ws_root)
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(
        build_edition(_release(ws), ws, "ar"))
    html = str(out.whys.html("lists:members,press"))
    assert "<b>" not in html and "&lt;/" in html and "&amp;" in html
    assert '<span dir="ltr">\u2066Presse\u2069</span>' in html  # Latin runs isolated
    assert "\u2066Presse\u2069 <\u2066b\u2069>&</\u2066b\u2069> \u2066Medien\u2069" in \
        out.whys.text("lists:members,press")


def _list_id(msg):
    return str(make_header(decode_header(msg["List-Id"])))


def test_list_id_is_one_per_kind_of_mailing(ws_root, ws):
    press_rel, news_rel = _release(ws), _release(ws, NEWS)
    ids = {}
    for name, rel, lists in (("press", press_rel, ("members", "press")),
                             ("news", news_rel, ("members", "subscribers"))):
        request = SendRequest(Selection(lists=lists), "outbox")
        planned = plan_send(ws, rel, request)
        send(ws, rel, request, planned)
        ids[name] = {_list_id(m) for m in _by_address(ws_root, planned.campaign).values()}
    # the same for every recipient, language and edition of a kind
    assert ids["press"] == {'"Essener Verbund der Immigrantenvereine e.V.: Pressemitteilungen" '
                            '<press.verbund.example.org>'}
    assert ids["news"] == {'"Essener Verbund der Immigrantenvereine e.V.: Nachrichten" '
                           '<news.verbund.example.org>'}
    # the digest: its own id; a non-ASCII phrase travels as encoded words
    digest = digests.collect(ws, digests.parse_month("2018-08"))
    plan, _audience, items = digests.digest_plan(digest, ws, Selection(lists=("members",)),
                                                 skip_invalid=False)
    renderer = Renderer(ws, relative_asset_url(ws.build_dir))
    prepared = {lang: digests.prepare_digest(renderer, ws, ed, items[lang])
                for lang, ed in plan.editions.items()}
    raw = {p.list_id for p in prepared.values()}
    assert len(raw) == 1 and raw.pop().isascii()
    msg = _digest_message(ws, plan, prepared)
    assert _list_id(msg) == ('Essener Verbund der Immigrantenvereine e.V.: Monatsübersicht '
                             '<digest.verbund.example.org>')


def _digest_message(ws, plan, prepared):
    from newsletter.audience.tokens import Signer
    from newsletter.delivery.mime import MessageBuilder

    signer = Signer(b"0123456789abcdef0123456789abcdef", b"address-key-0123456789abcdef", "t")
    a = next(iter(plan))
    env = MessageBuilder(ws, signer, "digest-c").build(prepared[a.edition_lang], a.recipient,
                                                       why=a.why)
    msg = message_from_bytes(env.as_bytes(), policy=policy.default)
    assert "Bu e-postayı, derneğiniz birliğimizin üyesi olduğu için alıyorsunuz." in \
        _bodies(msg)[1]
    return msg


def test_the_ledger_keeps_the_reason_and_older_ledgers_are_migrated(ws_root, ws):
    state = ws_root / "state"
    state.mkdir()
    db = sqlite3.connect(state / "ledger.sqlite3")
    db.execute("CREATE TABLE deliveries (campaign TEXT NOT NULL, recipient TEXT NOT NULL,"
               " email TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', language TEXT NOT NULL,"
               " reason TEXT NOT NULL DEFAULT '', message_id TEXT NOT NULL, status TEXT NOT"
               " NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT"
               " '', provider_id TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, plan_mark"
               " INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT"
               " NULL, PRIMARY KEY (campaign, recipient))")
    db.commit()
    db.close()
    with Ledger(state / "ledger.sqlite3") as ledger:
        ledger.add_campaign("c", "rel", "outbox", "sel",
                            [("r1", "a@example.org", "A", "de", "", "<m1>", "member"),
                             ("r2", "b@example.org", "B", "de", "", "<m2>")])
        rows = {r.recipient: r.why for r in ledger.pending("c")}
    assert rows == {"r1": "member", "r2": ""}


def test_sendgrid_gets_the_reason_as_a_substitution_and_the_list_id(ws_root, monkeypatch):
    from tests.fake_sendgrid import FakeSendGrid
    from tests.test_sendgrid import configure

    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key-0123456789")
    with FakeSendGrid() as api:
        ws = configure(ws_root, api.url)
        release = _release(ws)
        request = SendRequest(Selection(lists=("members", "subscribers")), "sendgrid",
                              sandbox=True)
        planned = plan_send(ws, release, request)
        send(ws, release, request, planned)
    subs = {p["to"][0]["email"]: p["substitutions"] for b in api.bodies
            for p in b["personalizations"]}
    assert subs["reza.ahmadi@example.net"]["%%why_text%%"].startswith(
        "You receive this email because you are on these lists of ours:")
    assert "Mitglied in unserem Verbund" in subs["sabine.krueger@example.org"]["%%why_html%%"]
    for body in api.bodies:
        assert "%%why_html%%" in body["content"][1]["value"]
        assert "%%why_text%%" in body["content"][0]["value"]
        assert body["headers"]["List-Id"].endswith("<press.verbund.example.org>")


def test_the_audience_of_the_web_list_is_told_they_signed_up(ws):
    web = Recipient("new@example.org", language="uk", lists=("web",))
    plan = make_plan(_release(ws), ws, (web,))
    (a,) = plan.assignments
    assert a.why == "web"
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(a.edition)
    assert " ".join(out.whys.text(a.why).split()) == (
        "Ви отримуєте цей лист, оскільки підписалися на нашу розсилку на нашому сайті.")
    assert audiences.WEB_LIST == "web"
