"""TMX export: valid TMX 1.4, our pseudo-tags as placeables CAT tools protect."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import lxml.etree
import pytest

from newsletter.translation.memory import reviewed_pairs
from newsletter.translation.progress import export_tmx, write_seg

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# The TMX 1.4b content model (LISA OSCAR), for the elements an export of ours contains.
TMX_DTD = """
<!ENTITY % segtypes "block|paragraph|sentence|phrase">
<!ELEMENT tmx (header, body)>
<!ATTLIST tmx version CDATA #FIXED "1.4">
<!ELEMENT header (note|prop|ude)*>
<!ATTLIST header creationtool CDATA #REQUIRED creationtoolversion CDATA #REQUIRED
          segtype (%segtypes;) #REQUIRED o-tmf CDATA #REQUIRED adminlang CDATA #REQUIRED
          srclang CDATA #REQUIRED datatype CDATA #REQUIRED>
<!ELEMENT body (tu*)>
<!ELEMENT prop (#PCDATA)>
<!ATTLIST prop type CDATA #REQUIRED>
<!ELEMENT tu ((note|prop)*, tuv+)>
<!ELEMENT tuv ((note|prop)*, seg)>
<!ATTLIST tuv xml:lang CDATA #REQUIRED>
<!ELEMENT seg (#PCDATA|bpt|ept|ph|it|hi|ut)*>
<!ELEMENT bpt (#PCDATA|sub)*>
<!ATTLIST bpt i CDATA #REQUIRED x CDATA #IMPLIED type CDATA #IMPLIED>
<!ELEMENT ept (#PCDATA|sub)*>
<!ATTLIST ept i CDATA #REQUIRED>
<!ELEMENT it (#PCDATA|sub)*>
<!ATTLIST it pos (begin|end) #REQUIRED x CDATA #IMPLIED type CDATA #IMPLIED>
<!ELEMENT ph (#PCDATA|sub)*>
<!ATTLIST ph x CDATA #IMPLIED assoc CDATA #IMPLIED type CDATA #IMPLIED>
"""


def _native(seg: ET.Element) -> str:
    """The segment as we write it: text, and each placeable's native code."""
    return (seg.text or "") + "".join((c.text or "") + (c.tail or "") for c in seg)


def test_export_is_valid_tmx_with_placeables(ws, tmp_path):
    out = tmp_path / "de-ar.tmx"
    count = export_tmx(ws, "ar", out)
    doc = lxml.etree.parse(str(out))
    dtd = lxml.etree.DTD(io.StringIO(TMX_DTD))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    units = ET.parse(out).getroot().findall("body/tu")  # noqa: S314 - our own file
    # the reviewed pairs of both translated releases, each distinct pair once
    assert len(units) == count == 37
    pairs = list(dict.fromkeys((p.source, p.target) for p in reviewed_pairs(ws, "ar")))
    got = [tuple(_native(tuv.find("seg")) for tuv in tu.findall("tuv")) for tu in units]
    assert got == pairs  # nothing lost or added: the native codes are our pseudo-tags
    tagged = [tu for tu in units if tu.find("tuv/seg/bpt") is not None]
    assert tagged, "the example release has bold text: <1>…</1>"
    for tu in tagged:
        src, dst = (tuv.find("seg") for tuv in tu.findall("tuv"))
        for seg in (src, dst):
            assert "<1>" not in (seg.text or "") + "".join(c.tail or "" for c in seg)
            begins = {b.get("i"): b for b in seg.iter("bpt")}
            ends = {e.get("i") for e in seg.iter("ept")}
            assert set(begins) == ends  # every bpt has its ept in the same segment
        # the same placeable in source and target: CAT tools pair them by x
        assert [b.get("x") for b in src.iter("bpt")] == [b.get("x") for b in dst.iter("bpt")]


@pytest.mark.parametrize(("text", "xml"), [
    ("Lies <1>das</1> jetzt.",
     '<seg>Lies <bpt i="1" x="1">&lt;1&gt;</bpt>das<ept i="1">&lt;/1&gt;</ept> jetzt.</seg>'),
    ("Zeile<2/>zwei", '<seg>Zeile<ph x="2">&lt;2/&gt;</ph>zwei</seg>'),
    ("<1>a <2>b</2></1><3/>",
     '<seg><bpt i="1" x="1">&lt;1&gt;</bpt>a <bpt i="2" x="2">&lt;2&gt;</bpt>b'
     '<ept i="2">&lt;/2&gt;</ept><ept i="1">&lt;/1&gt;</ept><ph x="3">&lt;3/&gt;</ph></seg>'),
    ("ohne </4> Anfang", '<seg>ohne <it pos="end" x="4">&lt;/4&gt;</it> Anfang</seg>'),
    ("a < b & c", "<seg>a &lt; b &amp; c</seg>"),
])
def test_pseudo_tags_become_tmx_inline_elements(text, xml):
    seg = ET.Element("seg")
    write_seg(seg, text)
    assert ET.tostring(seg, encoding="unicode") == xml
    assert _native(seg) == text
