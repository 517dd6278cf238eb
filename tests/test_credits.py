"""The photo credit is labelled once: "Foto: X", never "Foto: Foto: X" or "Foto: © X"."""

from __future__ import annotations

import pytest

from newsletter.content.parser import load_release
from newsletter.render.credits import credit_text
from newsletter.render.renderer import Renderer, relative_asset_url
from newsletter.translation.editions import build_edition
from tests.conftest import EXAMPLE_RELEASE


@pytest.mark.parametrize(("credit", "shown"), [
    ("© Max Muster", "Max Muster"),
    ("Foto: © Max Muster", "Max Muster"),
    ("Foto © Max Muster", "Max Muster"),
    ("foto:Max Muster", "Max Muster"),
    ("Fotos: Max Muster, Erika Beispiel", "Max Muster, Erika Beispiel"),
    ("Bild: Verbund", "Verbund"),
    ("(c) Verbund", "Verbund"),
    ("Photo: Verbund", "Verbund"),
    ("Verbund (Beispielbild)", "Verbund (Beispielbild)"),
    ("Fotostudio Essen", "Fotostudio Essen"),
    ("Bildungswerk Essen", "Bildungswerk Essen"),
])
def test_credit_text(credit, shown):
    assert credit_text(credit) == shown


@pytest.mark.parametrize(("lang", "label"), [("de", "Foto"), ("tr", "Fotoğraf")])
def test_rendered_credit_has_one_label(ws, lang, label):
    path = ws.releases_dir / f"{EXAMPLE_RELEASE}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "credit: Essener Verbund der Immigrantenvereine (Beispielbild)",
        "credit: 'Foto: © Essener Verbund der Immigrantenvereine (Beispielbild)'"),
        encoding="utf-8")
    release = load_release(path, ws.root)
    out = Renderer(ws, relative_asset_url(ws.build_dir)).render(
        build_edition(release, ws, lang))
    for doc in (out.html, out.text):
        assert f"{label}: Essener Verbund der Immigrantenvereine (Beispielbild)" in doc
        assert "©" not in doc and "Foto: Foto" not in doc
