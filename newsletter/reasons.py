"""Reasons the tool gives (why a fallback, why not publishable) as data and as English,
and why a reader receives a mailing (``Why``).

A ``Reason`` is the English sentence the command line prints (it *is* a ``str``, so
tables, counters and tests keep working) and also a code with parameters, so that
the web pages can say the same in the officer's or the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote


class Reason(str):
    code: str
    params: Mapping[str, Any]

    def __new__(cls, code: str, text: str, **params: Any) -> Reason:
        obj = super().__new__(cls, text)
        obj.code = code
        obj.params = params
        return obj

    def __repr__(self) -> str:
        return f"Reason({self.code!r}, {str(self)!r})"


# Coverage of one language's catalog
def untranslated(missing: int, total: int) -> Reason:
    return Reason("untranslated", f"{missing} of {total} entries not translated",
                  missing=missing, total=total)


def unreviewed(drafts: int, total: int) -> Reason:
    return Reason("unreviewed", f"{drafts} of {total} entries not reviewed",
                  drafts=drafts, total=total)


def failing_entry(entry: str, problem: Reason) -> Reason:
    """An entry (the start of its text) and the first problem a check finds in it."""
    return Reason("failing_entry", f"{entry!r}: {problem}", entry=entry, problem=problem)


def fails_check(failing: Reason) -> Reason:
    return Reason("fails_check", f"fails a check: {failing}", failing=failing)


def catalog_note(note: str) -> Reason:
    return Reason("catalog_note", note, note=note)


# Why a language of the chain was passed over, and why a reader gets another language
def passed_over(language: str, problems: tuple[Reason, ...]) -> Reason:
    return Reason("passed_over", f"{language}: {'; '.join(problems)}", language=language,
                  problems=problems)


def no_language(source: str) -> Reason:
    return Reason("no_language", f"no language given → {source}", source=source)


def not_offered(language: str, source: str) -> Reason:
    return Reason("not_offered", f"{language} is not offered → {source}", language=language,
                  source=source)


def press_original(reader: str, edition: str) -> Reason:
    return Reason("press_original", f"press: {reader} → {edition} (journalists get the "
                  "original, and English readers the English edition with it)",
                  reader=reader, edition=edition)


def fallback(reader: str, edition: str, passed: tuple[Reason, ...]) -> Reason:
    return Reason("fallback", f"{reader} → {edition} ({'; '.join(passed)})", reader=reader,
                  edition=edition, passed=passed)


# Why a reader receives a mailing: the footer says it to each of them, in the edition's
# language. The plan decides it from the lists that hold the reader; the ledger keeps
# it as ``Why.key``, so a resumed run says the same.
MEMBER = "member"  # a member club (a list with reason = "member")
PRESS = "press"  # a journalist on the press list
WEB = "web"  # signed up on the website (the built-in list 'web')
SUBSCRIBER = "subscriber"  # asked for our news in another way
LISTS = "lists"  # on several lists: they are named
WHY_CODES = (MEMBER, PRESS, WEB, SUBSCRIBER, LISTS)


@dataclass(frozen=True, slots=True)
class Why:
    """Why a reader receives a mailing: a code, and the lists named with ``LISTS``."""

    code: str
    lists: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """One short string (``member``, ``lists:members,press``) for plans and the ledger."""
        if not self.lists:
            return self.code
        return self.code + ":" + ",".join(quote(name, safe="") for name in self.lists)

    @classmethod
    def parse(cls, key: str, default: Why) -> Why:
        """The reason a key stands for; ``default`` for an empty or unknown one (rows
        of ledgers from before reasons were recorded)."""
        code, _, names = key.partition(":")
        if code not in WHY_CODES:
            return default
        return cls(code, tuple(unquote(n) for n in names.split(",")) if names else ())
