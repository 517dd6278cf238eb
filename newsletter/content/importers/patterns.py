"""What lines of a German press release look like: dates, places, captions, contacts.

Pure functions over one line or paragraph of plain text; guess.py decides what to do
with the answers. The patterns follow the releases the association actually gets
(category line, "23.08.2018", "Donnerstag, 23.08.2018 - Haus, Straße 11, 45329 Essen",
a photo caption that names people with their roles in brackets, "Kategorie: …" at
the foot, a contact block of name, role, phone and e-mail).
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "april": 4, "mai": 5,
    "juni": 6, "juli": 7, "august": 8, "september": 9, "oktober": 10, "november": 11,
    "dezember": 12,
}
_WEEKDAY = (r"(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
            r"|Mo|Di|Mi|Do|Fr|Sa|So)\.?")
_DATE = re.compile(
    r"\b(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4}|\d{2})(?!\d)"
    r"|\b(?P<wd>\d{1,2})\.\s*(?P<wm>" + "|".join(_MONTHS) + r")\s+(?P<wy>\d{4})\b"
    r"|\b(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})\b",
    re.IGNORECASE,
)
_DATE_LINE_PREFIX = re.compile(
    rf"^(?:(?:Datum|Stand)\s*:\s*)?(?:{_WEEKDAY},?\s+)?(?:den\s+)?", re.IGNORECASE)
_WEEKDAY_WORD = re.compile(rf"\b{_WEEKDAY}(?=,|\s)")
_TIME = re.compile(r"\b\d{1,2}[.:]\d{2}\s*Uhr\b|\b\d{1,2}\s*Uhr\b")
_POSTAL_CITY = re.compile(r"\b\d{5}\s+(?P<city>[A-ZÄÖÜ][\wäöüß.-]*)")
_PLACE_LABEL = re.compile(r"^(?:Ort|Veranstaltungsort)\s*:\s*(?P<rest>.+)$", re.IGNORECASE)
_DATELINE = re.compile(
    r"^(?P<place>[A-ZÄÖÜ][\wäöüß.-]+(?:[ /-][A-ZÄÖÜ][\wäöüß.-]+)?)\s*(?:\([^)]{1,20}\))?,"
    r"\s*(?:den\s+)?(?P<date>[^–—:-]{6,22}?)\s*[-–—:]\s")
_CATEGORY = re.compile(r"^Kategorien?\s*:\s*(?P<value>.+)$", re.IGNORECASE)
_PRESS = re.compile(r"Presse(?:mitteilung|erklärung|information|meldung|notiz)", re.IGNORECASE)
_CAPTION_LABEL = re.compile(
    r"^(?:(?:Fotos?|Bild(?:er|unterschrift)?)\s*:|Im Bild\b|v\.\s?l\.\s?n\.\s?r\.|von links\b)",
    re.IGNORECASE)
_NAMED_PERSON = re.compile(
    r"^(?:(?:Dr|Prof)\.\s+)*[A-ZÄÖÜ][\w'-]+(?:\s+[A-ZÄÖÜ][\w'-]+){1,2}\s*\(")
_SENTENCE_END = re.compile(r"[.!?…][“”\"'’)]*$")
_QUOTE = re.compile(r"„[^“”]{3,}[“”]|»[^«]{3,}«")

# the contact block
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMAIL_LABEL = re.compile(r"^(?:E-?Mail|Mail)\s*:?\s*", re.IGNORECASE)
_PHONE = re.compile(
    r"^(?:(?:Tel(?:efon)?|Fon|Phone|Mobil|Handy|Mobile)\.?\s*:?\s*)?"
    r"(?P<num>\+?\(?\d[\d\s/().-]{4,}\d)$", re.IGNORECASE)
_FAX = re.compile(r"^Fax\b", re.IGNORECASE)
_CONTACT_LABEL = re.compile(
    r"^(?:Presse)?(?:kontakt|ansprechpartner(?:in)?|ansprechperson|pressesprecher(?:in)?)\b"
    r"(?:\s+für\s+(?:die\s+)?(?:Presse|Medien|Journalist\w*))?\s*:?\s*"
    r"|^(?:für\s+)?rückfragen(?:\s+an)?\s*:?\s*|^V\.\s?i\.\s?S\.\s?d\.\s?P\.\s*:?\s*",
    re.IGNORECASE)
_NAME = re.compile(
    r"^(?:(?:Dr|Prof)\.\s+)*[A-ZÄÖÜ][\w'-]+(?:\s+(?:(?:von|van|de|al|el)\s+)?[A-ZÄÖÜ][\w'-]+)"
    r"{1,3}$")
_ADDRESS = re.compile(r"\b\d{5}\b|(?:straße|str\.|weg|platz|allee|gasse|ring)\s*\d+",
                      re.IGNORECASE)
_ORG = re.compile(r"\b(?:e\.\s?V\.|gGmbH|GmbH|gUG)\s*$")
_WEB = re.compile(r"^(?:(?:Web|Internet)\s*:\s*)?(?:https?://|www\.)\S+$", re.IGNORECASE)


def find_date(text: str) -> dt.date | None:
    """The first valid date in ``text`` (23.08.2018, 23. August 2018, 2018-08-23)."""
    for m in _DATE.finditer(text):
        found = _to_date(m)
        if found is not None:
            return found
    return None


def _to_date(m: re.Match[str]) -> dt.date | None:
    if m.group("d"):
        day, month, year = int(m.group("d")), int(m.group("m")), int(m.group("y"))
    elif m.group("wd"):
        day, month = int(m.group("wd")), _MONTHS[m.group("wm").lower()]
        year = int(m.group("wy"))
    else:
        day, month, year = int(m.group("id")), int(m.group("im")), int(m.group("iy"))
    if year < 100:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def date_line(text: str) -> dt.date | None:
    """The date when the whole line is one ("23.08.2018", "Donnerstag, 23. August 2018")."""
    rest = _DATE_LINE_PREFIX.sub("", text.strip(), count=1).rstrip(".").strip()
    m = _DATE.fullmatch(rest)
    return _to_date(m) if m else None


def place(text: str) -> str | None:
    """The town of a place-and-time line ("Donnerstag, 23.08.2018 - Haus, Straße 1,
    45329 Essen" → "Essen"), or None when the line is not one."""
    labelled = _PLACE_LABEL.match(text.strip())
    postal = _POSTAL_CITY.search(text)
    if labelled:
        return postal.group("city") if postal else labelled.group("rest").split(",")[-1].strip()
    when = find_date(text) or _WEEKDAY_WORD.search(text) or _TIME.search(text)
    if postal and when and "\n" not in text.strip():
        return postal.group("city")
    return None


def dateline(text: str) -> tuple[str, dt.date] | None:
    """A news dateline opening a paragraph: "Essen, 23.08.2018 – Der Verbund …"."""
    m = _DATELINE.match(text.strip())
    if not m:
        return None
    found = date_line(m.group("date"))
    return (m.group("place"), found) if found else None


def category_footer(text: str) -> str | None:
    """"Kategorie: Verbund-News" → "Verbund-News"; a web page's doubled label counts once."""
    m = _CATEGORY.match(text.strip())
    if not m:
        return None
    words = m.group("value").split()
    half = len(words) // 2
    if len(words) % 2 == 0 and words[:half] == words[half:]:
        words = words[:half]
    return " ".join(words)


def press_word(text: str) -> str | None:
    m = _PRESS.search(text)
    return m.group(0) if m else None


def caption_like(text: str) -> bool:
    """A photo caption: "Foto: …", "v.l.n.r. …", or people named with roles in brackets."""
    line = text.strip()
    if "\n" in line:
        return False
    if _CAPTION_LABEL.match(line):
        return True
    return bool(_NAMED_PERSON.match(line)) and not line.endswith(".")


def is_prose(text: str) -> bool:
    """Body text rather than a heading, date or caption line."""
    line = " ".join(text.split())
    return len(line) > 300 or (bool(_SENTENCE_END.search(line)) and len(line.split()) >= 8)


def ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text.strip()))


def quotes(text: str) -> bool:
    return bool(_QUOTE.search(text))


def short_label(text: str, words: int = 4, chars: int = 40) -> bool:
    line = text.strip()
    return ("\n" not in line and len(line) <= chars and len(line.split()) <= words
            and not ends_sentence(line))


# ---- the contact block -------------------------------------------------------------

def contact_label(line: str) -> str | None:
    """The rest of a line that opens a contact block ("Pressekontakt: Leyla Demir" →
    "Leyla Demir"), or None when it does not open one."""
    m = _CONTACT_LABEL.match(line.strip())
    return line.strip()[m.end() :].strip() if m else None


def email_in(line: str) -> str | None:
    m = EMAIL.search(_EMAIL_LABEL.sub("", line.strip()))
    return m.group(0).rstrip(".") if m else None


def phone_in(line: str) -> str | None:
    m = _PHONE.match(line.strip())
    return m.group("num").strip() if m else None


def name_like(line: str) -> bool:
    return bool(_NAME.match(line.strip()))


def other_contact_line(line: str) -> bool:
    """Address, organisation, fax or web lines that a contact block carries along."""
    line = line.strip()
    return bool(_FAX.match(line) or _ADDRESS.search(line) or _ORG.search(line)
                or _WEB.match(line))


def contact_detail(line: str) -> bool:
    """A phone number, an e-mail address (even a mistyped one) or a postal address."""
    return "@" in line or phone_in(line) is not None or other_contact_line(line)


def role_like(line: str) -> bool:
    line = line.strip()
    return (0 < len(line) <= 70 and len(line.split()) <= 7 and not any(c.isdigit() for c in line)
            and not ends_sentence(line) and "@" not in line)


def contact_line(line: str) -> bool:
    """Could this line belong to a contact block?"""
    return (contact_label(line) is not None or contact_detail(line) or name_like(line)
            or role_like(line))
