"""`newsletter import`: writes releases/<id>.md, reports its guesses, never overwrites."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from newsletter.app.importing import import_release
from newsletter.cli import cli
from newsletter.content.parser import load_release
from tests.conftest import DATA

FIXTURE = DATA / "imports" / "pressemitteilung.txt"
RID = "2024-03-14-nachbarschaftsbund-stadtbibliothek-eroeffnen"


def run(ws_root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args])


def test_import_writes_the_release_and_prints_guesses_and_checks(ws_root):
    result = run(ws_root, "import", str(FIXTURE))
    assert result.exit_code == 0, result.output
    written = ws_root / "releases" / f"{RID}.md"
    release = load_release(written, ws_root)
    assert release.kind == "press"
    out = result.output
    for expected in (f"releases/{RID}.md", "Nachbarschaftsbund und Stadtbibliothek", "2024-03-14",
                     "press (“Pressemitteilung” (line 10))", "Musterstadt", "Mira Muster",
                     "Check these:", "photo caption without a photo file",
                     f"newsletter extract releases/{RID}.md"):
        assert expected in out, expected


def test_extract_accepts_the_imported_release(ws_root):
    assert run(ws_root, "import", str(FIXTURE)).exit_code == 0
    result = run(ws_root, "extract", f"releases/{RID}.md")
    assert result.exit_code == 0, result.output
    pot = (ws_root / "locales" / f"{RID}.pot").read_text(encoding="utf-8")
    assert 'msgctxt "title"' in pot and "Programm im ersten Monat" in pot


def test_import_never_overwrites_without_force(ws_root):
    assert run(ws_root, "import", str(FIXTURE)).exit_code == 0
    target = ws_root / "releases" / f"{RID}.md"
    target.write_text(target.read_text(encoding="utf-8") + "\nEdited by hand.\n",
                      encoding="utf-8")
    again = run(ws_root, "import", str(FIXTURE))
    assert again.exit_code == 1
    lines = [ln for ln in again.output.splitlines() if ln.strip()]
    assert lines == [f"error: releases/{RID}.md: already exists: pass --force to replace it, "
                     "or --id to choose another name"]
    assert "Edited by hand." in target.read_text(encoding="utf-8")
    forced = run(ws_root, "import", str(FIXTURE), "--force")
    assert forced.exit_code == 0, forced.output
    assert "Edited by hand." not in target.read_text(encoding="utf-8")


def test_id_and_kind_options(ws_root):
    result = run(ws_root, "import", str(FIXTURE), "--id", "lesecafe", "--kind", "news")
    assert result.exit_code == 0, result.output
    release = load_release(ws_root / "releases" / "lesecafe.md", ws_root)
    assert release.kind == "news" and "news (--kind)" in result.output


def test_relative_file_is_taken_from_the_workspace(ws_root, monkeypatch, tmp_path):
    shutil.copy(FIXTURE, ws_root / "eingang.txt")
    monkeypatch.chdir(tmp_path)
    result = run(ws_root, "import", "eingang.txt", "--id", "eingang")
    assert result.exit_code == 0, result.output
    assert (ws_root / "releases" / "eingang.md").is_file()


def test_user_errors_are_one_line(ws_root, tmp_path):
    missing = run(ws_root, "import", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 1 and "nope.txt: file not found" in missing.output
    (tmp_path / "x.odt").write_text("x", encoding="utf-8")
    odt = run(ws_root, "import", str(tmp_path / "x.odt"))
    assert odt.exit_code == 1 and "cannot import .odt" in odt.output
    bad_kind = run(ws_root, "import", str(FIXTURE), "--kind", "blog")
    assert bad_kind.exit_code == 2


def test_app_result_names_the_written_files(ws):
    done = import_release(ws, FIXTURE, release_id="lesecafe")
    assert done.path == ws.releases_dir / "lesecafe.md"
    assert done.images == () and done.release.id == "lesecafe"


def test_import_help():
    result = CliRunner().invoke(cli, ["import", "--help"])
    assert result.exit_code == 0 and "--force" in result.output and ".docx" in result.output
