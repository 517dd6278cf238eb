"""A short release full of left-to-right runs, with reviewed Arabic and Farsi catalogs.

Phone numbers with digit groups, a date, e-mail addresses, a URL, Latin names, a
hashtag, a table and a contact list with line breaks: what goes wrong in
right-to-left editions. Used by the bidi unit tests and the browser test.
"""

from __future__ import annotations

from babel.messages.pofile import read_po

from newsletter.content.parser import load_release
from newsletter.content.release import Release
from newsletter.translation.catalog import extract_release, po_path, write_catalog
from newsletter.workspace.config import Workspace

RELEASE_ID = "2018-09-23-aktionstag"
PHONE = "0 23 07 / 9 24 88-77"
DATE = "23.08.2018"

SOURCE = f"""---
title: Aktionstag #StarkeMigrationsberatung im Verbundhaus
date: 2018-09-23
category: Verbund-News
location: Essen
contact:
  name: Leyla Demir
  role: Presse- und Öffentlichkeitsarbeit
  phone: "+49 201 88-0"
  email: presse@verbund.example.org
---

23. September 2018 – Tag der offenen Tür für Migrant*innen und Vertreter*innen der Vereine.

Anmeldung bis zum {DATE} unter {PHONE} oder an anmeldung@verbund.example.org.

| Uhrzeit | Programm | Ort |
|:--|:--|:--|
| 10:00 | Begrüßung | Karl-Denkhaus-Straße 11 |
| 14:00 | Beratung | Raum 2 |

- Leyla Demir
  Tel. +49 201 88-0
  presse@verbund.example.org

Mehr unter https://verbund.example.org/aktionstag/
"""

_MAIL = "anmeldung@verbund.example.org"
_CONTACT = "Leyla Demir<1/>{} +49 201 88-0<2/>presse@verbund.example.org"
# (msgctxt, msgid): (Arabic, Farsi)
TRANSLATIONS: dict[tuple[str | None, str], tuple[str, str]] = {
    ("title", "Aktionstag #StarkeMigrationsberatung im Verbundhaus"): (
        "يوم العمل #StarkeMigrationsberatung في بيت الاتحاد",
        "روز اقدام #StarkeMigrationsberatung در خانهٔ اتحادیه"),
    ("category", "Verbund-News"): ("أخبار الاتحاد", "اخبار اتحادیه"),
    ("location", "Essen"): ("إيسن", "اسن"),
    ("contact role", "Presse- und Öffentlichkeitsarbeit"): (
        "الإعلام والعلاقات العامة", "روابط عمومی و مطبوعات"),
    (None, "23. September 2018 – Tag der offenen Tür für Migrant*innen und Vertreter*innen der "
           "Vereine."): (
        "23 سبتمبر 2018 – يوم الأبواب المفتوحة للمهاجرين والمهاجرات ولممثلي وممثلات الجمعيات.",
        "23 سپتامبر 2018 – روز درهای باز برای مهاجران و نمایندگان انجمن‌ها."),
    (None, f"Anmeldung bis zum {DATE} unter {PHONE} oder an {_MAIL}."): (
        f"التسجيل حتى {DATE} على الرقم {PHONE} أو عبر {_MAIL}.",
        f"ثبت‌نام تا {DATE} با شمارهٔ {PHONE} یا از طریق {_MAIL}."),
    ("table header", "Uhrzeit"): ("الساعة", "ساعت"),
    ("table header", "Programm"): ("البرنامج", "برنامه"),
    ("table header", "Ort"): ("المكان", "مکان"),
    ("table cell", "10:00"): ("10:00", "10:00"),
    ("table cell", "Begrüßung"): ("كلمة الترحيب", "خوشامدگویی"),
    ("table cell", "Karl-Denkhaus-Straße 11"): ("Karl-Denkhaus-Straße 11",
                                                "Karl-Denkhaus-Straße 11"),
    ("table cell", "14:00"): ("14:00", "14:00"),
    ("table cell", "Beratung"): ("الاستشارة", "مشاوره"),
    ("table cell", "Raum 2"): ("الغرفة 2", "اتاق 2"),
    (None, _CONTACT.format("Tel.")): (_CONTACT.format("الهاتف:"), _CONTACT.format("تلفن:")),
    (None, "Mehr unter https://verbund.example.org/aktionstag/"): (
        "المزيد على https://verbund.example.org/aktionstag/",
        "اطلاعات بیشتر در https://verbund.example.org/aktionstag/"),
}


def write_rtl_release(ws: Workspace) -> Release:
    """Write the release into ``ws``, extract it and review its Arabic and Farsi catalogs."""
    path = ws.releases_dir / f"{RELEASE_ID}.md"
    path.write_text(SOURCE, encoding="utf-8")
    release = load_release(path, ws.root)
    extract_release(release, ws)
    for column, lang in enumerate(("ar", "fa")):
        po = po_path(ws, RELEASE_ID, lang)
        with po.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        for msg in cat:
            if msg.id:
                msg.string = TRANSLATIONS[(msg.context, msg.id)][column]
                msg.flags.discard("fuzzy")
        write_catalog(po, cat)
    return release
