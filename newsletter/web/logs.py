"""The server's access log without secrets: every query value is masked.

Readers' links carry their tokens in the query (``unsubscribe?t=…``, ``confirm?t=…``,
``preferences?t=…``; the admin pages' file links too), and a token in a log file is a
key to someone's subscription for as long as the file lives. The access log keeps the
method, the path, the names of the query's fields and the status; never a value.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

ACCESS_LOGGER = "uvicorn.access"
MASK = "***"


def mask_query(path: str) -> str:
    """``/unsubscribe?t=abc&x=1`` → ``/unsubscribe?t=***&x=***``."""
    base, mark, query = path.partition("?")
    if not mark:
        return path
    names = [part.partition("=")[0] for part in query.split("&") if part]
    return base + "?" + "&".join(f"{name}={MASK}" for name in names)


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
