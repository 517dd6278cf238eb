"""Translation status per release and language, and the TMX export of reviewed pairs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from newsletter import __version__
from newsletter.content.release import Release
from newsletter.content.segments import PSEUDO_TAG
from newsletter.translation.editions import Coverage, coverage
from newsletter.translation.memory import reviewed_pairs
from newsletter.workspace.config import Workspace
from newsletter.workspace.files import atomic_write


@dataclass(frozen=True)
class ReleaseStatus:
    release: Release
    languages: tuple[Coverage, ...]


def release_status(release: Release, ws: Workspace) -> ReleaseStatus:
    return ReleaseStatus(release, tuple(coverage(release, ws, lang)
                                        for lang in ws.config.languages.targets))


def export_tmx(ws: Workspace, lang: str, out: Path) -> int:
    """Write a TMX 1.4 file of the reviewed pairs source -> ``lang``; returns the count."""
    source = ws.config.languages.source
    tmx = ET.Element("tmx", version="1.4")
    ET.SubElement(tmx, "header", {
        "creationtool": "newsletter", "creationtoolversion": __version__,
        "segtype": "paragraph", "o-tmf": "PO", "adminlang": "en",
        "srclang": source, "datatype": "plaintext",
    })
    body = ET.SubElement(tmx, "body")
    segs: list[tuple[ET.Element, str]] = []
    seen: set[tuple[str, str]] = set()
    for pair in reviewed_pairs(ws, lang):
        if (pair.source, pair.target) in seen:
            continue
        seen.add((pair.source, pair.target))
        tu = ET.SubElement(body, "tu")
        prop = ET.SubElement(tu, "prop", type="x-release")
        prop.text = pair.release
        for code, text in ((source, pair.source), (lang, pair.target)):
            tuv = ET.SubElement(tu, "tuv", {"xml:lang": code.replace("_", "-")})
            segs.append((ET.SubElement(tuv, "seg"), text))
    ET.indent(tmx)  # before the segments are filled: indenting would add to their text
    for seg, text in segs:
        write_seg(seg, text)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tmx, encoding="utf-8")
    atomic_write(out, data + b"\n")
    return len(seen)


def write_seg(seg: ET.Element, text: str) -> None:
    """Fill a TMX ``<seg>``: our pseudo-tags become inline elements that CAT tools show as
    protected placeables, with the pseudo-tag itself as their native code: ``<1>…</1>``
    as ``<bpt i="1">`` and ``<ept i="1">``, ``<2/>`` as ``<ph>``, a tag whose partner is
    not in the segment as ``<it>``. ``x`` pairs the same tag in source and target."""
    opened = {m.group(2) for m in PSEUDO_TAG.finditer(text) if not m.group(1) and not m.group(3)}
    paired = {m.group(2) for m in PSEUDO_TAG.finditer(text) if m.group(1)} & opened
    last: ET.Element | None = None
    pos = 0
    for match in PSEUDO_TAG.finditer(text):
        _add_text(seg, last, text[pos:match.start()])
        closing, number, empty = match.groups()
        if empty and not closing:
            last = ET.SubElement(seg, "ph", x=number)
        elif number in paired:
            last = (ET.SubElement(seg, "ept", i=number) if closing
                    else ET.SubElement(seg, "bpt", i=number, x=number))
        else:
            last = ET.SubElement(seg, "it", pos="end" if closing else "begin", x=number)
        last.text = match.group(0)
        pos = match.end()
    _add_text(seg, last, text[pos:])


def _add_text(seg: ET.Element, last: ET.Element | None, text: str) -> None:
    if not text:
        return
    if last is None:
        seg.text = (seg.text or "") + text
    else:
        last.tail = (last.tail or "") + text
