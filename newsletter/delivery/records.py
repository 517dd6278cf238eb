"""What the ledger holds, as typed values: delivery statuses, rows, campaigns, schedules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


def now() -> str:
    """A ledger timestamp: UTC, to the second, ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Status(StrEnum):
    """A delivery's state: the SQL CHECK, the transports and the send loop use these."""

    PENDING = "pending"  # planned, not handed over
    SENDING = "sending"  # committed right before its request left
    SENT = "sent"  # the server accepted it
    REJECTED = "rejected"  # refused for good (5xx, invalid), or left the lists
    FAILED = "failed"  # deferred (4xx): tried again
    UNKNOWN = "unknown"  # a run died while its request was in flight
    SUPPRESSED = "suppressed"  # on the suppression list when its batch was due
    CANCELLED = "cancelled"  # a scheduled send that was cancelled


class ScheduleState(StrEnum):
    """A schedule's state (not a delivery's): the SQL CHECK of schedules uses these."""

    SCHEDULED = "scheduled"  # waiting for 'newsletter dispatch'
    HANDED_OVER = "handed over"  # SendGrid holds the messages until send_at
    SENT = "sent"
    CANCELLED = "cancelled"


STATUSES = tuple(s.value for s in Status)
SCHEDULE_STATES = tuple(s.value for s in ScheduleState)
REASONS = ("unsubscribe", "bounce", "complaint", "block", "manual", "erased")


@dataclass(frozen=True, slots=True)
class Row:
    campaign: str
    recipient: str
    email: str
    name: str
    language: str
    reason: str
    message_id: str
    status: str
    attempts: int
    last_error: str
    provider_id: str
    updated_at: str
    why: str = ""  # why the recipient gets the mailing (reasons.Why.key)


@dataclass(frozen=True)
class Suppression:
    key: str
    email: str | None
    reason: str
    source: str
    created_at: str


@dataclass(frozen=True)
class Campaign:
    id: str
    release: str
    transport: str
    kind: str  # "real" or "rehearsal"
    created_at: str


@dataclass(frozen=True)
class Schedule:
    campaign: str
    release: str  # the release file, relative to the workspace
    request: str  # the send request as JSON
    send_at: str  # ISO time with offset
    transport: str
    batch_id: str
    status: ScheduleState
