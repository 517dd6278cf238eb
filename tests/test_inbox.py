"""Mails at the unsubscribe address, without a server: tokens, headers, the officer's notes."""

from __future__ import annotations

import json
import stat

from newsletter.app import people
from newsletter.delivery.inbox import Mail, Notes, read_mail, read_notes, tokens_in

MAILTO = "abmelden@verbund.example.org"
CANDIDATE = "AcQ3b6YhV0x2ZkT1rM9pWq4sN8u"  # 28 characters of base64url, like a token


def _mail(subject: str = "", recipients: tuple[str, ...] = (), sender: str = "a@example.com",
          message_id: str = "<1@example.com>") -> Mail:
    return Mail("1", sender, subject, "Wed, 25 Nov 2026 10:00:00 +0100", message_id, recipients)


def test_the_subject_and_the_address_tag_give_candidates():
    assert tokens_in(_mail(f"Re: unsubscribe {CANDIDATE}"), MAILTO) == [CANDIDATE]
    assert tokens_in(_mail(f"AW: unsubscribe <{CANDIDATE}>"), MAILTO) == [CANDIDATE]
    tagged = (f"Abmelden+{CANDIDATE}@Verbund.Example.org",)  # the address part is case-blind
    assert tokens_in(_mail("Abmelden", tagged), MAILTO) == [CANDIDATE]
    assert tokens_in(_mail(f"unsubscribe {CANDIDATE}", tagged), MAILTO) == [CANDIDATE]  # once


def test_tags_of_other_addresses_and_short_words_are_no_candidates():
    assert tokens_in(_mail("", (f"info+{CANDIDATE}@verbund.example.org",)), MAILTO) == []
    assert tokens_in(_mail("", (f"abmelden+{CANDIDATE}@evil.example",)), MAILTO) == []
    assert tokens_in(_mail("", ("abmelden+@verbund.example.org",)), MAILTO) == []
    assert tokens_in(_mail("Bitte abmelden, danke"), MAILTO) == []


def test_headers_are_decoded_and_cleaned():
    raw = (b"From: =?utf-8?q?Ay=C5=9Fe?= <ayse@example.org>\r\n"
           b"To: Verband <abmelden@verbund.example.org>, x@example.com\r\n"
           b"Delivered-To: abmelden+tag@verbund.example.org\r\n"
           b"Subject: =?utf-8?b?2KfZhNi62KfYoQ==?= \x1b[31mrot\r\n"
           b"Message-ID: <m1@example.org>\r\n\r\n")
    mail = read_mail("7", raw)
    assert mail.uid == "7" and mail.sender == "ayse@example.org"
    assert mail.subject == "الغاء [31mrot"  # the escape character is gone
    assert mail.recipients == ("abmelden@verbund.example.org", "x@example.com",
                               "abmelden+tag@verbund.example.org")
    assert mail.message_id == "<m1@example.org>"


def test_raw_8bit_headers_are_read_as_utf8_else_latin1():
    utf8 = read_mail("9", "From: Jürgen <j@example.org>\r\nSubject: Grüße\r\n\r\n".encode())
    assert utf8.subject == "Grüße"
    latin1 = read_mail("9", "Subject: Grüße\r\n\r\n".encode("latin-1"))
    assert latin1.subject == "Grüße"


def test_broken_headers_give_empty_fields():
    mail = read_mail("8", b"From: <<<\r\nSubject: =?x-unknown?q?abc?=\r\nTo: ,,,\r\n\r\n")
    assert mail.recipients == ()
    assert "abc" in mail.subject or mail.subject.startswith("=?")


def test_each_mail_is_noted_once_owner_only(tmp_path):
    notes = Notes(tmp_path)
    assert notes.add(_mail("Frage"), "2026-11-25T10:00:00+00:00") is True
    assert notes.add(_mail("Frage"), "2026-11-25T11:00:00+00:00") is False
    again = Notes(tmp_path)  # the next poll remembers it from the file
    assert again.add(_mail("Frage"), "2026-11-25T12:00:00+00:00") is False
    assert again.add(_mail("Frage", message_id=""), "2026-11-25T12:00:00+00:00") is True
    assert [n.subject for n in read_notes(notes.path)] == ["Frage", "Frage"]
    assert stat.S_IMODE(notes.path.stat().st_mode) == 0o600


def test_forget_removes_a_persons_notes(ws):
    notes = Notes(ws.state_dir)
    notes.add(_mail("Hallo", sender="Gone@Example.com", message_id="<a@x>"), "t")
    notes.add(_mail("Hallo", sender="stays@example.com", message_id="<b@x>"), "t")
    done = people.forget(ws, "gone@example.com")
    assert done.notes == 1
    lines = notes.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["sender"] for line in lines] == ["stays@example.com"]
    assert stat.S_IMODE(notes.path.stat().st_mode) == 0o600
