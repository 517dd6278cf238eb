"""Email address checks shared by the config, releases and recipient lists."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """Raised with the validator's reason; callers wrap it with file and line."""


def normalize_address(value: str) -> str:
    """Check syntax only (no DNS: tests and offline use) and return the normalised form."""
    try:
        # no SMTPUTF8: every hop between us and the reader must accept the address
        info = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as err:
        raise AddressError(str(err)) from err
    return info.ascii_email or info.normalized  # international domains in punycode
