"""The event of a release as an iCalendar file (RFC 5545) that calendar programs open.

Written here rather than with a library: one VEVENT needs little, and what matters is
exact: CRLF line ends, lines folded at 75 octets (never inside a UTF-8 character),
``\\ ; ,`` and line breaks escaped in text, a UID that stays the same for a release
(so a second mailing updates the event instead of adding one), DTSTAMP in UTC, and
times in UTC (``Z``), which every calendar reads without a VTIMEZONE block. An event
of whole days uses dates, its DTEND the day after the last (RFC 5545 ends are
exclusive).
"""

from __future__ import annotations

import datetime as dt

from newsletter.content.release import Event, Release

CONTENT_TYPE = "text/calendar; charset=utf-8; method=PUBLISH"
PRODID = "-//newsletter//release events//EN"
_LIMIT = 75  # octets per line, CRLF not counted


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, ';', ',' escaped, line breaks as \\n."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Fold a content line into lines of at most 75 octets (RFC 5545 3.1): every further
    line starts with one space; a multi-octet UTF-8 character is never cut."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > _LIMIT:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _times(event: Event) -> list[str]:
    start, end = event.start, event.end
    if isinstance(start, dt.datetime):
        lines = [f"DTSTART:{_utc(start)}"]
        if isinstance(end, dt.datetime):
            lines.append(f"DTEND:{_utc(end)}")
        return lines
    last = end if isinstance(end, dt.date) else start
    return [f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{last + dt.timedelta(days=1):%Y%m%d}"]


def event_ics(release: Release, *, domain: str, lang: str, stamp: dt.datetime,
              url: str = "") -> bytes:
    """The .ics file of ``release``'s event, its texts as ``release`` has them (the
    edition's language); ``url`` is linked when the event has no link of its own."""
    event = release.event
    if event is None:
        raise ValueError(f"release {release.id} has no event")
    summary = event.title.plain if event.title else release.title.plain
    place = ", ".join(p for p in (event.venue.plain if event.venue else "", event.address) if p)
    link = event.url or url
    description = "\n\n".join(p for p in (release.summary.plain if release.summary else "",
                                          link) if p)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{release.id}@{domain}",
        f"DTSTAMP:{_utc(stamp)}",
        *_times(event),
        f"SUMMARY;LANGUAGE={lang}:{escape_text(summary)}",
    ]
    if place:
        lines.append(f"LOCATION;LANGUAGE={lang}:{escape_text(place)}")
    if description:
        lines.append(f"DESCRIPTION;LANGUAGE={lang}:{escape_text(description)}")
    if link:
        lines.append(f"URL:{link}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")
