"""JSON that comes from outside (webhook batches, Inbound Parse envelopes), its nesting
bounded before the parser sees it: ``json.loads`` recurses once per level, and a
batch nested 100,000 deep would end in a RecursionError (a 500) instead of a 400."""

from __future__ import annotations

import json
import re
from typing import Any

from newsletter.errors import HookError

MAX_DEPTH = 32  # SendGrid's events nest 3 deep; an envelope 2
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)  # brackets inside strings do not nest
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPEN = frozenset(b"[{")


def depth(data: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep the arrays and objects of ``data`` nest, counted up to ``limit + 1``
    (a cheap scan over the brackets outside strings; it stops once past ``limit``)."""
    level = deepest = 0
    for byte in _NOT_BRACKET.sub(b"", _STRING.sub(b"", data)):
        level += 1 if byte in _OPEN else -1
        if level > deepest:
            deepest = level
            if deepest > limit:
                break
    return deepest


def loads(data: bytes | str, what: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` of a body from outside; HookError when it is not JSON or nests
    deeper than ``max_depth``."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if depth(raw, max_depth) > max_depth:
        raise HookError(f"{what} nests deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise HookError(f"{what} is not JSON ({err})") from None
