"""``newsletter init``: a new association's workspace, outside the repository, from the
source tree and from a built wheel installed in a fresh virtual environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.delivery.transports import make_transport
from newsletter.workspace.loading import load_workspace
from tests.conftest import REPO

SAMPLE = "2025-01-15-unser-newsletter-startet"
RELEASE_TEXT = """\
Vereinsleben

14.03.2024

Lesecafé im Nachbarschaftshaus eröffnet

Seit diesem Donnerstag treffen sich im Nachbarschaftshaus Menschen aus aller Welt zum \
gemeinsamen Lesen. Das Lesecafé ist an drei Nachmittagen in der Woche geöffnet.

Ehrenamtliche aus den Mitgliedsvereinen betreuen das Café und laden zu Vorlesestunden ein.
"""
OPTIONS = ["--name", "Nachbarschaftsbund Musterstadt", "--address",
           "Beispielweg 7, 12345 Musterstadt", "--sender", "news@nachbarschaft.example.org",
           "--target", "en", "--target", "tr"]


def _run(args, cwd):
    """The command line in ``cwd``, as a user types it there."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture(autouse=True)
def _no_workspace_from_the_environment(monkeypatch):
    monkeypatch.delenv("NEWSLETTER_WORKSPACE", raising=False)


def test_init_then_import_and_preview_outside_the_repository(tmp_path):
    result = _run(["init", "ws", *OPTIONS], tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "ws"
    for name in ("newsletter.toml", "recipients/members.csv", "recipients/press.csv",
                 f"releases/{SAMPLE}.md", "NEXT-STEPS.md", ".gitignore", "locales/glossary.txt"):
        assert (root / name).is_file(), name
    assert not (root / "templates").exists()  # the package's serve it
    assert "Still to fill in (TODO)" in result.output and "organization.board" in result.output
    ws = load_workspace(root)
    org = ws.config.organization
    assert org.name == "Nachbarschaftsbund Musterstadt" and org.address.city == "Musterstadt"
    assert ws.config.sender.from_address == "news@nachbarschaft.example.org"
    assert ws.config.languages.all == ("de", "en", "tr")
    assert set(ws.config.lists) == {"members", "press"}
    assert "state/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert (root / "recipients" / "members.csv").read_text(encoding="utf-8").startswith(
        "email,name,language,")
    (tmp_path / "pm.txt").write_text(RELEASE_TEXT, encoding="utf-8")
    result = _run(["import", "../pm.txt"], root)
    assert result.exit_code == 0, result.output
    (release,) = [p for p in (root / "releases").glob("*.md") if p.stem != SAMPLE]
    result = _run(["preview", release.stem], root)
    assert result.exit_code == 0, result.output
    for lang in ("de", "en", "tr"):
        html = (root / "build" / "preview" / release.stem / f"{lang}.html").read_text(
            encoding="utf-8")
        assert "Lesecafé im Nachbarschaftshaus eröffnet" in html  # en, tr: the German edition
        assert "Nachbarschaftsbund Musterstadt" in html and "12345 Musterstadt" in html
    result = _run(["preview", SAMPLE, "--lang", "de"], root)
    assert result.exit_code == 0, result.output
    assert "Unser Newsletter startet" in (root / "build" / "preview" / SAMPLE / "de.html"
                                          ).read_text(encoding="utf-8")


def test_placeholders_stay_visible_and_no_real_mail_goes_out_while_one_is_left(tmp_path):
    assert _run(["init", "ws"], tmp_path).exit_code == 0
    root = tmp_path / "ws"
    text = (root / "newsletter.toml").read_text(encoding="utf-8")
    assert 'name = "TODO: name of the association"' in text
    ws = load_workspace(root)
    assert {"organization.name", "sender.from_address", "web.unsubscribe_mailto",
            "organization.address.street", "web.source_url"} <= set(ws.config.placeholders)
    # the web pages' source link (AGPL) is the association's to name, not a stray default
    assert ws.config.web.source_url == "https://TODO.example.org/newsletter-source"
    with open(root / "recipients" / "members.csv", "a", encoding="utf-8") as fh:
        fh.write("leser@example.net,Lea Leser,de,,,membership form,2024-01-01\n")
    for transport in ("smtp", "sendgrid"):
        result = _run(["send", SAMPLE, "--list", "members", "--transport", transport], root)
        assert result.exit_code == 1, result.output
        assert "no real mail while placeholders (TODO) are left: organization.name" in (
            result.output)
        assert not (root / "outbox").exists()
    result = _run(["send", SAMPLE, "--list", "members"], root)  # the file outbox: a trial
    assert result.exit_code == 0, result.output
    assert len(list((root / "outbox").rglob("*.eml"))) == 1
    # filled in, the mail server may be used
    (root / "newsletter.toml").write_text(re.sub(r'"[^"\n]*TODO[^"\n]*"', lambda m: (
        '"https://verein.example.org/"' if "https" in m.group(0) else
        '"info@verein.example.org"' if "@" in m.group(0) else '"Musterverein"'), text),
        encoding="utf-8")
    ws = load_workspace(root)
    assert ws.config.placeholders == ()
    make_transport(ws, "smtp", "trial")  # no error: connecting waits for the first message


def test_init_refuses_an_existing_workspace_and_force_keeps_the_recipients(tmp_path):
    assert _run(["init", "ws"], tmp_path).exit_code == 0
    root = tmp_path / "ws"
    members = root / "recipients" / "members.csv"
    members.write_text("email\nvorstand@verein.example.org\n", encoding="utf-8")
    result = _run(["init", "ws", "--name", "Anders"], tmp_path)
    assert result.exit_code == 1
    assert f"error: {root / 'newsletter.toml'}: a workspace is already here" in result.output
    assert "Anders" not in (root / "newsletter.toml").read_text(encoding="utf-8")
    result = _run(["init", "ws", "--name", "Anders", "--force"], tmp_path)
    assert result.exit_code == 0, result.output
    assert 'name = "Anders"' in (root / "newsletter.toml").read_text(encoding="utf-8")
    assert members.read_text(encoding="utf-8") == "email\nvorstand@verein.example.org\n"
    assert re.search(r"recipients/members\.csv\s+kept", result.output)
    # a folder with files init would write, but no workspace: named, nothing written
    other = tmp_path / "other"
    (other / "recipients").mkdir(parents=True)
    (other / "recipients" / "press.csv").write_text("email\n", encoding="utf-8")
    result = _run(["init", "other"], tmp_path)
    assert result.exit_code == 1 and "press.csv" in result.output
    assert not (other / "newsletter.toml").exists()


def test_init_never_writes_outside_its_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "ws"
    root.mkdir()
    (root / "recipients").symlink_to(outside, target_is_directory=True)
    result = _run(["init", "ws"], tmp_path)
    assert result.exit_code == 1 and "leaves the workspace" in result.output, result.output
    assert list(outside.iterdir()) == [] and not (root / "newsletter.toml").exists()
    for bad in ("../x", "a/b", "Mitglieder", "web", "x:vip"):
        result = _run(["init", "ws2", "--list", bad], tmp_path)
        assert result.exit_code == 1 and "error: --list" in result.output, bad
    assert not (tmp_path / "ws2").exists()
    for args, problem in ((["--sender", "news@"], "--sender"),
                          (["--address", "Beispielweg 7"], "--address"),
                          (["--target", "de"], "--target"), (["--target", "xx"], "--target")):
        result = _run(["init", "ws3", *args], tmp_path)
        assert result.exit_code == 1 and f"error: {problem}" in result.output, args
    assert not (tmp_path / "ws3").exists()


def test_a_language_the_package_has_no_strings_for_gets_catalogs_to_translate(tmp_path):
    result = _run(["init", "ws", "--target", "it", "--list", "news"], tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "ws"
    for domain in ("messages", "web", "admin"):
        assert (root / "locales" / "it" / "LC_MESSAGES" / f"{domain}.po").is_file()
        assert not (root / "locales" / f"{domain}.pot").exists()  # the package's templates
    assert "it: the package has no interface strings in this language" in result.output
    assert "it (italiano)" in (root / "NEXT-STEPS.md").read_text(encoding="utf-8")
    ws = load_workspace(root)
    assert ws.config.list_of("news").reason == "subscriber"


# --- the wheel, installed where no checkout is near -----------------------------------------

def _source_tree(dest: Path) -> Path:
    """What the wheel is built from, copied: building in the checkout would write build/
    and *.egg-info into it."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "newsletter", dest / "newsletter",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
    return dest


def test_a_built_wheel_in_a_fresh_venv_outside_the_checkout_starts_a_workspace(tmp_path):
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "NEWSLETTER_", "VIRTUAL_ENV"))}
    # no index, no machine's pip configuration: nothing is fetched
    env.update(PIP_NO_INDEX="1", PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(_source_tree(tmp_path / "src"))],
                   check=True, cwd=tmp_path, env=env, capture_output=True)
    (wheel,) = wheels.glob("newsletter-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   env=env)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()
    # the test environment's third-party packages, as one path line: a path added by a .pth
    # line does not run that folder's own .pth files, so the editable checkout stays out
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n",
                                         encoding="utf-8")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, cwd=tmp_path, env=env, capture_output=True)
    where = subprocess.run([python, "-c", "import newsletter; print(newsletter.__file__)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path,
                           env=env).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(REPO), where
    newsletter = venv / "bin" / "newsletter"

    def run(*args, cwd):
        done = subprocess.run([str(newsletter), *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("init", "ws", *OPTIONS, cwd=tmp_path)
    root = tmp_path / "ws"
    (tmp_path / "pm.txt").write_text(RELEASE_TEXT, encoding="utf-8")
    assert "Imported pm.txt" in run("import", str(tmp_path / "pm.txt"), cwd=root)
    (release,) = [p for p in (root / "releases").glob("*.md") if p.stem != SAMPLE]
    run("preview", release.stem, cwd=root)
    html = (root / "build" / "preview" / release.stem / "tr.html").read_text(encoding="utf-8")
    assert "Lesecafé im Nachbarschaftshaus eröffnet" in html
    assert "Nachbarschaftsbund Musterstadt" in html and 'lang="de"' in html
    assert "Abmelden" in html  # the UI strings the package ships
    # measured for the record: the whole round trip, build included
    print(f"wheel round trip: {time.monotonic() - started:.1f} s")


def test_the_suggested_preview_works_with_a_language_the_package_has_no_strings_for(
        tmp_path):
    # Spanish: no interface strings in the package, so previews refuse it until they are
    # translated; the command init suggests must still run as printed
    result = _run(["init", "ws", *OPTIONS, "--target", "es"], tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "ws"
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("Try it: ")]
    command = line.partition(" && ")[2]
    assert command == f"newsletter preview {SAMPLE} --lang de --lang en --lang tr"
    note = " ".join((root / "NEXT-STEPS.md").read_text(encoding="utf-8").split())
    assert f"`{command}`" in note
    result = _run(command.split()[1:], root)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (root / "build" / "preview" / SAMPLE).glob("*.html")) == [
        "de.html", "en.html", "tr.html"]
    # without the limit, Spanish is refused in one line, as the note says
    result = _run(["preview", SAMPLE], root)
    assert result.exit_code == 1 and "UI strings not reviewed for 'es'" in result.output


def test_the_suggested_preview_is_plain_when_every_language_has_strings(tmp_path):
    result = _run(["init", "ws", *OPTIONS], tmp_path)
    assert f"&& newsletter preview {SAMPLE}\n" in result.output


def test_the_sample_release_is_dated_in_the_associations_own_city(tmp_path):
    result = _run(["init", "ws", "--address", 'Am Markt 1, 06108 Halle (Saale): "Mitte"'],
                  tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "ws"
    result = _run(["preview", SAMPLE, "--lang", "de"], root)
    assert result.exit_code == 0, result.output
    text = (root / "build" / "preview" / SAMPLE / "de.txt").read_text(encoding="utf-8")
    assert 'Halle (Saale): "Mitte", 15. Januar 2025' in text and "Musterstadt" not in text


def test_every_install_the_readme_shows_takes_the_pinned_versions():
    # unpinned, pip takes the newest releases the ranges allow (Babel 2.19 once broke the
    # catalogs): what an association installs is what the tests passed with
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    installs = re.findall(r"pip install ((?:-\S+ )*(?:\S+ )?)", text)
    assert len(installs) >= 3, installs  # .venv, an association's own, the server's
    for options in installs:
        assert re.match(r"-c \S*constraints\.txt ", options), f"pip install {options}"
