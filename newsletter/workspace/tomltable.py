"""Typed access to one table of a TOML file: every error names the file and the dotted key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from newsletter.errors import ConfigError, LanguageError
from newsletter.workspace.languages import language


class TableReader:
    """Typed access to a TOML table that names the file and the dotted key in every error."""

    def __init__(self, file: Path, data: Mapping[str, Any], prefix: str = ""):
        self.file = file
        self.data = data
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"{self.key(name)}: {message}", path=self.file)

    def only(self, *allowed: str) -> None:
        for name in self.data:
            if name not in allowed:
                raise self.fail(name, f"unknown key (allowed: {', '.join(allowed)})")

    def table(self, name: str, *, required: bool = True) -> TableReader:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "missing table")
            value = {}
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a table, got {type_name(value)}")
        return TableReader(self.file, value, f"{self.key(name)}.")

    def str(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "missing")
            return default
        if not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {type_name(value)}")
        if required and not value.strip():
            raise self.fail(name, "must not be empty")
        if "\r" in value or "\n" in value:
            raise self.fail(name, "must be a single line")
        return value.strip()

    def str_list(self, name: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "missing")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected a list of strings, got {type_name(value)}")
        return tuple(v.strip() for v in value)

    def lang(self, name: str, value: str) -> str:
        try:
            return language(value).code
        except LanguageError as err:
            raise self.fail(name, err.message) from err


def type_name(value: object) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
