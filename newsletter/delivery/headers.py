"""Header values with user text: the one encoder every mail we write goes through.

Names (of readers, of the association, of a list), subjects and topics reach headers
only through ``checked``, ``text``, ``phrase`` and ``address``, and a header section
only through ``section``. The email package's folder is never asked: on Python before
3.11.10 / 3.12.5 (CVE-2024-6923) it writes the CR/LF an RFC 2047 encoded word decodes
to raw into the header, and on every version a long display name loses its quotes when
it is re-folded, so that ``Team <x@evil.example>, Max`` reads as two addresses.

So, on any Python:

* a value with a line break or another control character is refused;
* encoded-word syntax typed by someone is neutralised: every ``=?`` (what opens an
  encoded word) becomes ``= ?``, so that no decoder, however lenient and however
  often it decodes (a relay that decodes and parses again), finds an encoded word in
  the text; what we encode ourselves is verified to decode to exactly that text;
* an ASCII display name or phrase that fits on its line is one quoted-string; any
  other (non-ASCII, long) is a run of RFC 2047 encoded words, which no folding can
  split into several addresses (``,`` and ``<`` are encoded inside);
* ``section`` joins the values and refuses any line that would start a field of its
  own: a continuation line always begins with a space.

Transports that take a plain name and build the header themselves (SendGrid) get
``plain``: the same checked and neutralised text.
"""

from __future__ import annotations

import re
import textwrap
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.headerregistry import Address

from newsletter.errors import DeliveryError

LINE = 76  # the soft limit for a folded line; RFC 5322 allows 78
# C0 controls (tab too: it is folding whitespace), DEL, C1 controls, and the Unicode
# line and paragraph separators some clients render as a line break
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_OPENER = "=?"  # what starts an encoded word (RFC 2047)
_ATEXT_OR_SPACE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*")
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII but ':' (RFC 5322 ftext)


def problem(value: str) -> str | None:
    """Why ``value`` may not be put in a header, or None when it may."""
    if _CONTROL.search(value):
        return "contains a line break or control character"
    return None


def checked(value: str, what: str) -> str:
    """``value`` unchanged, or a DeliveryError naming ``what`` and the reason."""
    reason = problem(value)
    if reason is not None:
        raise DeliveryError(f"{what} {reason}: {value!r}")
    return value


def plain(value: str, what: str) -> str:
    """User text as it may go into a header: checked, and with every ``=?`` broken up
    (``= ?``), so that no decoder finds an encoded word in it. Transports that write
    the header themselves (SendGrid) get names and subjects this way."""
    return checked(value, what).replace(_OPENER, "= ?")


def text(value: str, header: str) -> str:
    """An unstructured value (Subject): folded ASCII words, or RFC 2047 encoded words."""
    value = plain(value, header)
    if value.isascii():
        return "\n ".join(textwrap.wrap(value, LINE - len(header) - 2, break_long_words=False,
                                        break_on_hyphens=False)) or value
    return _encoded_words(value, header)


def phrase(value: str, header: str, *, room: int = LINE, linesep: str = "\n") -> str:
    """A display name or List-Id phrase: one quoted-string when it is ASCII and fits in
    ``room`` characters, else encoded words (folded with ``linesep``)."""
    value = plain(value, header)
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value.isascii() and len(quoted) <= room:
        return quoted
    return _encoded_words(value, header, linesep)


def address(name: str, addr: str, header: str) -> str:
    """``"Name" <addr>``, or ``=?utf-8?...?= <addr>`` for other names, or the bare
    address without a name."""
    name = plain(name, f"{header} name")
    checked(addr, f"{header} address")
    try:
        spec = Address(addr_spec=addr).addr_spec
    except (ValueError, IndexError) as err:  # headerregistry's own checks
        raise DeliveryError(f"{header}: invalid address {addr!r}: {err}") from None
    if spec != addr or not addr.isascii() or " " in addr or addr.count("@") != 1:
        raise DeliveryError(f"{header}: invalid address {addr!r}")
    if not name:
        return addr
    room = LINE - len(header) - 2 - len(addr) - 3  # "Header: " ... " <addr>"
    if name.isascii() and _ATEXT_OR_SPACE.fullmatch(name) and len(name) <= room:
        return f"{name} <{addr}>"  # nothing to quote: the name as people read it
    shown = phrase(name, header, room=room)  # plain(name) again: a no-op
    return f"{shown}\n <{addr}>" if shown.startswith("=?") else f"{shown} <{addr}>"


def _encoded_words(value: str, header: str, linesep: str = "\n") -> str:
    # Header splits at character boundaries and keeps every space inside the encoded
    # text (Python's own folder drops or adds spaces between words); its q-encoding
    # encodes ',', '<', '"' and the rest that would be structure in a phrase
    out = Header(value, "utf-8", header_name=header).encode(linesep=linesep, maxlinelen=LINE)
    try:  # what a mail client shows after decoding: the checked text, nothing else
        decoded = str(make_header(decode_header(out)))
    except (HeaderParseError, LookupError, ValueError):
        decoded = None
    if decoded != value:
        raise DeliveryError(f"{header}: the encoded value does not decode to {value!r}")
    return out


def section(headers: list[tuple[str, str]]) -> bytes:
    """The header lines, CRLF-terminated, from values made by this module (or fixed
    ASCII): a fold is '\\n' plus a space; anything that could start a field is refused."""
    out = []
    for name, value in headers:
        if not _FIELD_NAME.fullmatch(name):
            raise DeliveryError(f"not a header name: {name!r}")
        if not value.isascii() or _CONTROL.search(value.replace("\n", "")):
            raise DeliveryError(f"header {name} must be encoded ASCII on folded lines")
        if any(not line.startswith(" ") or not line.strip()
               for line in value.split("\n")[1:]):
            raise DeliveryError(f"header {name}: a folded line must start with a space "
                                "and hold text")
        out.append(f"{name}: {value}".replace("\n", "\r\n"))
    return ("\r\n".join(out) + "\r\n").encode("ascii")
