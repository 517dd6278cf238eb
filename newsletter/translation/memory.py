"""Translation memory: reviewed translations from every catalog of the workspace."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from newsletter.content.segments import PSEUDO_TAG, Segment, Tag, check_tags
from newsletter.errors import CatalogError
from newsletter.translation.about import DOMAIN as ABOUT_DOMAIN
from newsletter.translation.catalog import is_reviewed, read_catalog
from newsletter.translation.checks import check_translation
from newsletter.translation.uistrings import UI_DOMAINS
from newsletter.workspace.config import Workspace

NEAR = 0.85
MIN_WORDS_REVIEWED = 3  # shorter exact matches ("Kontakt") are offered, not approved


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


@dataclass(frozen=True)
class Pair:
    source: str
    target: str
    release: str  # the catalog (release id) it came from


@dataclass(frozen=True)
class Hit:
    pair: Pair
    exact: bool
    ratio: float

    def approved(self, segment: Segment) -> bool:
        """Exact matches of three words or more count as reviewed; everything else fuzzy."""
        return self.exact and len(segment.plain.split()) >= MIN_WORDS_REVIEWED


class TranslationMemory:
    def __init__(self, pairs: list[Pair]):
        self.exact: dict[str, Pair] = {}
        for pair in pairs:
            self.exact.setdefault(normalize(pair.source), pair)
        self.pairs = list(self.exact.values())

    @classmethod
    def load(cls, ws: Workspace, lang: str) -> TranslationMemory:
        return cls(list(reviewed_pairs(ws, lang)))

    def lookup(self, segment: Segment) -> Hit | None:
        key = normalize(segment.text)
        pair = self.exact.get(key)
        if pair is not None and not _unusable(segment, pair.target):
            return Hit(pair, True, 1.0)
        best: Hit | None = None
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(key)
        for pair in self.pairs:
            matcher.set_seq1(normalize(pair.source))
            if matcher.real_quick_ratio() < NEAR or matcher.quick_ratio() < NEAR:
                continue
            ratio = matcher.ratio()
            if ratio >= NEAR and (best is None or ratio > best.ratio) and not _unusable(
                    segment, pair.target):
                best = Hit(pair, False, ratio)
        return best


def _unusable(segment: Segment, target: str) -> bool:
    """A remembered translation must fit this segment's pseudo-tags."""
    return bool(check_tags(target, segment.tags))


def reviewed_pairs(ws: Workspace, lang: str):
    """Reviewed, check-passing pairs from every release catalog of ``lang`` (obsolete too)."""
    folder = ws.locales_dir / lang / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")) if folder.exists() else []:
        # UI strings are English, not pairs from the source language; About-us is no release
        if path.stem in UI_DOMAINS or path.stem == ABOUT_DOMAIN:
            continue
        try:
            cat = read_catalog(path, locale=lang)
        except CatalogError:
            continue  # a broken catalog is reported by status; the memory just skips it
        messages = [m for m in cat if m.id] + list(cat.obsolete.values())
        for msg in messages:
            if is_reviewed(msg) and not check_translation(_segment_of(msg.id), msg.string):
                yield Pair(msg.id, msg.string, path.stem)  # the catalog is named by release


def _segment_of(msgid: str) -> Segment:
    """Rebuild the tag list of a stored msgid, enough for checking a remembered pair."""
    tags = []
    for match in PSEUDO_TAG.finditer(msgid):
        if not match.group(1):
            kind = "code" if match.group(3) else "em"
            tags.append(Tag(int(match.group(2)), kind))
    return Segment(msgid, tuple(tags))

