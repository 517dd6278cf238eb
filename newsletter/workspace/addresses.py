"""Email address checks shared by the config, releases and recipient lists."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """Raised with the validator's reason; callers wrap it with file and line."""


# A plain ASCII dot-atom local part: what almost every list holds. Anything else
# (quoted, non-ASCII, unusual) takes email-validator's full path.
_SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalize_address(value: str) -> str:
    """Check syntax only (no DNS: tests and offline use) and return the normalised form.

    email-validator spends most of its time on the domain (IDNA rules per character);
    lists repeat few domains, so each distinct domain is checked by email-validator once
    and remembered, while plain local parts are checked by the same dot-atom rule it uses.
    """
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if at and local and len(local) <= 64 and len(value) <= 254 and _SIMPLE_LOCAL.fullmatch(local):
        return f"{local}@{_domain(domain)}"
    return _full(value)


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    return _full(f"postmaster@{domain}").rpartition("@")[2]


def _full(value: str) -> str:
    try:
        # no SMTPUTF8: every hop between us and the reader must accept the address
        info = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as err:
        raise AddressError(str(err)) from err
    return info.ascii_email or info.normalized  # international domains in punycode
