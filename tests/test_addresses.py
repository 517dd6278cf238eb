from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from newsletter.workspace.addresses import AddressError, normalize_address

CASES = [
    "Ayse.Korkmaz@Example.ORG", "a+tag@sub.example.com", "x@example.net", "o'brien@example.org",
    "a@localhost", "a@example.test", "a@example.invalid", "a@-example.org", "a@exa_mple.org",
    "a..b@example.org", ".a@example.org", "a.@example.org", "a@example", "a@example.123",
    "\"quoted\"@example.org", "ä@example.org", "a@bücher.example", "a b@example.org",
    "a@" + "x" * 64 + ".org", "x" * 65 + "@example.org", "a@example..org", "@example.org",
    "a@", "a", "a@[127.0.0.1]", "a@example.org.", "user@xn--bcher-kva.example",
]


@pytest.mark.parametrize("value", CASES)
def test_same_verdict_as_email_validator(value):
    try:
        info = validate_email(value, check_deliverability=False, allow_smtputf8=False)
        expected = info.ascii_email or info.normalized
    except EmailNotValidError:
        expected = None
    try:
        got = normalize_address(value)
    except AddressError:
        got = None
    assert got == expected
