"""Runs to Markdown: what our parser reads back is the text, formatting where possible."""

from __future__ import annotations

from newsletter.content.importers.inline import render_list, render_runs, render_table
from newsletter.content.importers.model import Run
from newsletter.content.release import Table
from tests.importing import read_back


def body_of(markdown: str, ws_root):
    release = read_back(f"---\ntitle: T\ndate: 2024-01-01\n---\n\n{markdown}\n", ws_root)
    return release.blocks


def test_formatting_that_markdown_cannot_say_is_dropped_not_leaked(ws_root):
    notes: list[str] = []
    markdown = render_runs([Run("Sie sagte"), Run("„Willkommen“", bold=True), Run(" und ging.")],
                           notes)
    assert "*" not in markdown
    assert notes and "formatting dropped" in notes[0]
    (block,) = body_of(markdown, ws_root)
    assert block.text.plain == "Sie sagte„Willkommen“ und ging."


def test_spaces_move_outside_emphasis_and_neighbours_merge():
    runs = [Run("Ein "), Run("fettes ", bold=True), Run("Wort", bold=True), Run(" hier")]
    assert render_runs(runs) == "Ein **fettes Wort** hier"
    assert render_runs([Run("a", italic=True, bold=True)]) == "***a***"


def test_links_keep_safe_schemes_only():
    assert render_runs([Run("Seite", href="https://example.org/a b")]) == (
        "[Seite](https://example.org/a%20b)")
    assert render_runs([Run("Mail", href="mailto:x@example.org")]) == "[Mail](mailto:x@example.org)"
    assert render_runs([Run("böse", href="javascript:alert(1)")]) == "böse"
    assert render_runs([Run("relativ", href="/seite")]) == "relativ"


def test_hard_breaks_and_line_starts(ws_root):
    markdown = render_runs([Run("Zeile eins\n# zwei\n1. drei\n- vier")])
    assert markdown == "Zeile eins\\\n\\# zwei\\\n1\\. drei\\\n\\- vier"
    (block,) = body_of(markdown, ws_root)
    assert block.text.plain == "Zeile eins # zwei 1. drei - vier"


def test_nested_lists_and_tables_read_back(ws_root):
    listing = render_list([(0, True, "eins"), (1, False, "unter"), (0, True, "zwei")])
    assert listing == "1. eins\n   - unter\n2. zwei"
    (block,) = body_of(listing, ws_root)
    assert [(i.depth, i.parts[0].text) for i in block.items] == [(0, "eins"), (1, "unter"),
                                                                (0, "zwei")]
    table = render_table([["A", "B"], ["1 | 2"]])
    assert table == "| A | B |\n|---|---|\n| 1 \\| 2 |  |"
    (block,) = body_of(table, ws_root)
    assert isinstance(block, Table)
    assert [c.plain for c in block.header] == ["A", "B"]
    assert [[c.plain for c in row] for row in block.rows] == [["1 | 2", ""]]
