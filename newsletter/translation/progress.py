"""Translation status per release and language, and the TMX export of reviewed pairs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from newsletter import __version__
from newsletter.content.release import Release
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
    count = 0
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
            ET.SubElement(tuv, "seg").text = text
        count += 1
    ET.indent(tmx)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tmx, encoding="utf-8")
    atomic_write(out, data + b"\n")
    return count
