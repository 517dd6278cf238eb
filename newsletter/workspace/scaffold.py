"""The newsletter.toml of a new workspace: the package's commented template, filled in.

The template (newsletter/defaults/newsletter.toml) is valid TOML whose placeholders say
TODO; what the officer gave on the command line replaces single values in it, and the
lists replace its [lists.*] tables. Comments and order stay as the template has them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from newsletter.errors import ConfigError
from newsletter.workspace.config import Address

_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(?:#.*)?$")
LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # a TOML bare key and a file name


@dataclass(frozen=True)
class ListSpec:
    name: str
    reason: str  # member, press or subscriber

    @property
    def file(self) -> str:
        return f"recipients/{self.name}.csv"


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def toml_value(value: str | tuple[str, ...]) -> str:
    if isinstance(value, str):
        return toml_string(value)
    return "[" + ", ".join(toml_string(v) for v in value) + "]"


def set_value(text: str, table: str, key: str, value: str | tuple[str, ...]) -> str:
    """``text`` with the one-line ``key = ...`` of ``[table]`` set to ``value``."""
    lines = text.split("\n")
    current = ""
    pattern = re.compile(rf"^{re.escape(key)}\s*=")
    for number, line in enumerate(lines):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).strip()
        elif current == table and pattern.match(line):
            lines[number] = f"{key} = {toml_value(value)}"
            return "\n".join(lines)
    raise ValueError(f"the template has no {table}.{key}")  # a bug in the template


def set_lists(text: str, lists: tuple[ListSpec, ...]) -> str:
    """``text`` with its [lists.*] tables replaced by one table per list."""
    lines = text.split("\n")
    starts = [n for n, line in enumerate(lines)
              if (m := _HEADER.match(line)) and m.group(1).strip().startswith("lists.")]
    if not starts:
        raise ValueError("the template has no [lists.*] table")  # a bug in the template
    end = next(n for n in range(starts[0], len(lines))
               if (m := _HEADER.match(lines[n])) and not m.group(1).strip().startswith("lists."))
    blocks = [f'[lists.{spec.name}]\nfile = {toml_string(spec.file)}\n'
              f'reason = {toml_string(spec.reason)}\n' for spec in lists]
    return "\n".join([*lines[:starts[0]], "\n".join(blocks), *lines[end:]])


def parse_address(text: str) -> Address:
    """"Street 1, 12345 City", or with a building first: "Centre, Street 1, 12345 City"."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(f"--address {text!r}: write it as 'Street 1, 12345 City' (or with "
                          "a building or centre first: 'Centre, Street 1, 12345 City')")
    postal_code, _, city = parts[-1].partition(" ")
    if not city.strip():
        raise ConfigError(f"--address {text!r}: the last part is the postal code and the "
                          "city, e.g. '45329 Essen'")
    return Address(street=parts[-2], postal_code=postal_code, city=city.strip(),
                   extra=parts[0] if len(parts) == 3 else "")


def fill_config(template: str, *, name: str = "", address: Address | None = None,
                sender: str = "", source: str = "de", targets: tuple[str, ...] = (),
                lists: tuple[ListSpec, ...] = ()) -> str:
    """The template with what was given; everything else keeps its placeholder."""
    text = template
    if name:
        text = set_value(text, "organization", "name", name)
        text = set_value(text, "sender", "from_name", name)
    if address is not None:
        if address.extra:
            text = text.replace('# extra = "a building or centre name printed above the '
                                'street"', f"extra = {toml_string(address.extra)}")
        text = set_value(text, "organization.address", "street", address.street)
        text = set_value(text, "organization.address", "postal_code", address.postal_code)
        text = set_value(text, "organization.address", "city", address.city)
    if sender:
        text = set_value(text, "sender", "from_address", sender)
        text = set_value(text, "sender", "reply_to", sender)
    text = set_value(text, "languages", "source", source)
    text = set_value(text, "languages", "targets", targets)
    return set_lists(text, lists) if lists else text
