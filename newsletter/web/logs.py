"""The server's access log without secrets: every query value is masked.

Readers' links carry their tokens in the query (``unsubscribe?t=…``, ``confirm?t=…``,
``preferences?t=…``; the admin pages' file links too), and a token in a log file is a
key to someone's subscription for as long as the file lives. The access log keeps the
method, the path, the names of the query's fields and the status; never a value.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

ACCESS_LOGGER = "uvicorn.access"
MASK = "***"
# a field's name as our pages use them (short, small letters); anything else in a name's
# place (a token a mail client moved there: "?<token>", "?t%3D<token>") is masked too
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,19}")
# a path segment that may be a token (a link mangled into ".../unsubscribe/<token>"):
# 20 or more base64url characters mixing capitals, small letters and digits. Release ids
# and page names are words with hyphens; one masked by chance only hides a name.
_TOKENISH = re.compile(r"(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])"
                       r"(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}")


def mask_query(path: str) -> str:
    """``/unsubscribe?t=abc&x=1`` → ``/unsubscribe?t=***&x=***``; token-like path
    segments and query names that are no field names are masked too."""
    base, mark, query = path.partition("?")
    base = "/".join(MASK if _TOKENISH.fullmatch(seg) else seg for seg in base.split("/"))
    if not mark:
        return base
    names = [part.partition("=")[0] for part in query.split("&") if part]
    return base + "?" + "&".join(f"{name if _NAME.fullmatch(name) else MASK}={MASK}"
                                 for name in names)


class MaskQueries(logging.Filter):
    """Masks the path of uvicorn's access records: (client, method, path, version,
    status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask_query(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, its access handler masking query values."""
    from uvicorn.config import LOGGING_CONFIG  # only `serve` needs the server

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_queries"] = {"()": MaskQueries}
    config["handlers"]["access"].setdefault("filters", []).append("mask_queries")
    return config
