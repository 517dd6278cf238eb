"""Photo credits as the templates show them: after the reader's own "Photo:" label."""

from __future__ import annotations

import re
from dataclasses import replace

from newsletter.content.release import Release
from newsletter.translation.editions import Edition

# What offices put in front of a credit that the template's label says already:
# "Foto: ", "Bild: ", "Photo: ", a copyright sign, "Foto ©". Stripped one after the
# other, so "Foto: © Max Muster" shows as "Foto: Max Muster" (in Turkish "Fotoğraf: ...").
_LEADING = re.compile(
    r"^(?:(?:fotos?|bild(?:er)?|photos?|bildnachweis|fotonachweis)\s*:|©|\(c\)|copyright\b"
    r"|(?:fotos?|bild(?:er)?|photos?)(?=\s*(?:©|\(c\))))\s*",
    re.IGNORECASE,
)


def credit_text(credit: str) -> str:
    """The credit without a label or copyright sign of its own (the label is the
    template's, in the reader's language)."""
    text = credit.strip()
    while (match := _LEADING.match(text)) and match.end():
        text = text[match.end():]
    return text


def _clean(release: Release) -> Release:
    image = release.image
    if not image or not image.credit:
        return release
    credit = credit_text(image.credit)
    return release if credit == image.credit else replace(
        release, image=replace(image, credit=credit))


def with_clean_credits(edition: Edition) -> Edition:
    """The edition with its photo credits (and those of the original sent along) cleaned."""
    release = _clean(edition.release)
    original = _clean(edition.original) if edition.original else None
    if release is edition.release and original is edition.original:
        return edition
    return replace(edition, release=release, original=original)
