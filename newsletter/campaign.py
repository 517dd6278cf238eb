"""Campaign ids: the same release, content and audience selection give the same id."""

from __future__ import annotations

import hashlib

from newsletter.audience import Selection
from newsletter.release import Release


def campaign_id(release: Release, selection: Selection) -> str:
    """``<release-id>-<8 hex>`` from the release file's bytes and the selection.

    Running the same send again yields the same id, so its outbox folder (and, later,
    its ledger rows) are recognised; an edited release or another audience is a new
    campaign. Reviewed translations arriving later do not change the id: the campaign
    is the same mailing, now in more languages.
    """
    digest = hashlib.sha256()
    digest.update(release.path.read_bytes())
    digest.update(b"\0" + selection.key().encode())
    return f"{release.id}-{digest.hexdigest()[:8]}"
