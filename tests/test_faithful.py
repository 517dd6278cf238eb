"""German press texts as they really are: every character the author wrote reaches the reader."""

from __future__ import annotations

from newsletter.content.parser import load_release
from newsletter.content.release import Paragraph
from newsletter.content.segments import to_html, to_text

FRONT = "---\ntitle: Titel\ndate: 2018-09-23\n---\n"


def _parse(ws, text: str, name: str = "faithful"):
    path = ws.root / "releases" / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return load_release(path, ws.root)


def _body(ws, body: str):
    return _parse(ws, FRONT + body).blocks


# --- gender-inclusive forms ---------------------------------------------------------------

def test_gender_star_colon_and_underscore_are_text(ws):
    body = ("Wir laden Migrant*innen, Vertreter*innen der Vereine, Lehrer:innen und "
            "Bürger_innen ein; auch Schüler*innen und Student*innen.\n")
    (par,) = _body(ws, body)
    assert par.text.text == body.strip()
    assert par.text.tags == ()
    assert to_text(par.text, []) == body.strip()
    assert "<em>" not in to_html(par.text)


def test_deliberate_emphasis_still_works(ws):
    (par,) = _body(ws, "Das ist *wichtig* und **fett** für Kolleg*innen und *alle* Schüler*innen.\n")
    assert par.text.text == ("Das ist <1>wichtig</1> und <2>fett</2> für Kolleg*innen und "
                             "<3>alle</3> Schüler*innen.")
    assert [t.kind for t in par.text.tags] == ["em", "strong", "em"]


def test_gender_star_inside_emphasis_and_code(ws):
    (par,) = _body(ws, "**Alle Teilnehmer*innen** und `a*b*c` bleiben.\n")
    assert par.text.text == "<1>Alle Teilnehmer*innen</1> und <2/> bleiben."
    assert par.text.tags[1].code == "a*b*c"
    assert isinstance(par, Paragraph)
