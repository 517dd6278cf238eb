"""Campaign reports as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from newsletter.delivery.ledger import Row
from newsletter.workspace.files import atomic_write

COLUMNS = ("email", "language", "reason", "status", "attempts", "last_error", "message_id",
           "provider_id", "updated_at")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ tab or CR gets a '."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def write_report_csv(path: Path, rows: list[Row]) -> None:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([cell(getattr(r, c)) for c in COLUMNS])
    # owner-only: the report lists addresses
    atomic_write(path, buf.getvalue().encode("utf-8-sig"), mode=0o600)
