from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import EXAMPLE_RELEASE

COMMANDS = ["extract", "preview", "translate", "status", "send", "digest", "dispatch", "cancel",
            "report", "forget", "archive"]


def run(ws_root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args])


def test_preview_writes_every_edition_and_prints_the_table(ws_root):
    result = run(ws_root, "preview", f"releases/{EXAMPLE_RELEASE}.md")
    assert result.exit_code == 0, result.output
    out_dir = ws_root / "build" / "preview" / EXAMPLE_RELEASE
    for lang in ("de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku"):
        assert (out_dir / f"{lang}.html").stat().st_size > 1000
        assert (out_dir / f"{lang}.txt").stat().st_size > 500
    assert "fallback → en (English)" in result.output
    assert "fallback → de (Deutsch)" in result.output
    assert "العربية" in result.output and "rtl" in result.output
    html = (out_dir / "ar.html").read_text(encoding="utf-8")
    assert 'src="../../../releases/images/2018-08-23-unterzeichnung.png"' in html
    assert "%%" not in html  # preview fills the per-recipient placeholders


def test_preview_selected_languages_and_out_folder(ws_root):
    result = run(ws_root, "preview", EXAMPLE_RELEASE, "--lang", "tr", "--out", "site/p")
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (ws_root / "site" / "p" / EXAMPLE_RELEASE).iterdir())
    assert files == ["tr.html", "tr.txt"]


def test_extract_prints_what_it_did(ws_root):
    result = run(ws_root, "extract", EXAMPLE_RELEASE, "--ui")
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output and "(template)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["preview", "releases/nope.md"], "no release 'releases/nope.md'"),
        (["preview", EXAMPLE_RELEASE, "--lang", "xx"], "unknown language code 'xx'"),
        (["preview", EXAMPLE_RELEASE, "--lang", "es"], "not a language of this workspace"),
        (["preview", "/etc/hostname"], "leaves the workspace"),
    ],
)
def test_user_errors_exit_1_without_traceback(ws_root, args, message):
    result = run(ws_root, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_broken_release_error_names_file_and_line(ws_root):
    (ws_root / "releases" / "bad.md").write_text("---\ntitle: x\ndate: 2018-13-01\n---\n")
    result = run(ws_root, "preview", "releases/bad.md")
    assert result.exit_code == 1
    assert "bad.md:3: bad date '2018-13-01'" in result.output


def test_usage_errors_exit_2(ws_root):
    assert run(ws_root, "preview").exit_code == 2
    assert run(ws_root, "extract").exit_code == 2
    assert run(ws_root, "frobnicate").exit_code == 2


def test_missing_workspace_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path), "preview", "x"])
    assert result.exit_code == 1 and "no newsletter.toml" in result.output


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_for_every_command(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_python_dash_m_works(ws_root):
    proc = subprocess.run([sys.executable, "-m", "newsletter", "--help"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0 and "preview" in proc.stdout


@pytest.mark.parametrize("group", [["recipients", "check"], ["suppress", "add"],
                                   ["suppress", "list"], ["suppress", "import-sendgrid"],
                                   ["tm", "export"]])
def test_help_for_every_subcommand(group):
    result = CliRunner().invoke(cli, [*group, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_preview_out_may_point_outside_the_workspace(ws_root, tmp_path):
    target = tmp_path / "elsewhere"
    result = run(ws_root, "preview", EXAMPLE_RELEASE, "--lang", "ar", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert (target / EXAMPLE_RELEASE / "ar.html").is_file()


def test_error_lines_are_printed_as_they_are(ws_root):
    release = ws_root / "releases" / "broken.md"
    release.write_text("---\ntitle: x\n" + "\n" * 97 + "nope: 1\n---\nText\n",
                       encoding="utf-8")
    result = run(ws_root, "preview", "broken")
    assert result.exit_code == 1
    assert "broken.md:100:" in result.output and "💯" not in result.output
