"""Campaign ids: the same release, content and audience selection give the same id."""

from __future__ import annotations

import hashlib

from newsletter.audience.selection import Selection
from newsletter.content.release import Release

REHEARSALS = ("outbox", "sandbox")


def release_campaign_id(release: Release, selection: Selection, rehearsal: str = "") -> str:
    """``<release-id>-<8 hex>`` from the release file's bytes and the selection;
    a rehearsal (``outbox`` or ``sandbox``) appends its name.

    Running the same send again yields the same id, so its ledger rows are recognised
    and nobody gets it twice; an edited release or another audience is a new campaign.
    Reviewed translations arriving later do not change the id: the campaign is the same
    mailing, now in more languages. A rehearsal is never the real campaign: after an
    outbox run, the real send still reaches everyone.
    """
    digest = hashlib.sha256()
    digest.update(release.path.read_bytes())
    digest.update(b"\0" + selection.key().encode())
    return with_rehearsal(f"{release.id}-{digest.hexdigest()[:8]}", rehearsal)


def with_rehearsal(campaign: str, rehearsal: str) -> str:
    if rehearsal and rehearsal not in REHEARSALS:
        raise ValueError(f"unknown rehearsal {rehearsal!r}")
    return f"{campaign}-{rehearsal}" if rehearsal else campaign


def rehearsal_of(transport: str, sandbox: bool) -> str:
    """Which rehearsal a send is ("" for a real one): the outbox reaches nobody, and
    SendGrid's sandbox validates without delivering."""
    if transport == "outbox":
        return "outbox"
    return "sandbox" if sandbox else ""
