"""The command line and the release files it reads: ids that would collide with the
workspace's own names, ids no file system takes, YAML built to explode, and a finished
campaign sent again with workers. Each is one clear line, never a traceback."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.content import ids
from newsletter.content.parser import load_release
from newsletter.errors import ReleaseError
from newsletter.translation import about
from newsletter.translation.uistrings import UI_DOMAINS
from newsletter.workspace.defaults import package_locales
from tests.conftest import EXAMPLE_RELEASE

TEXT = "Aktionstag in Essen\n\nEssen, 1. März 2019 – Der Verbund lädt ein.\n"


def run(ws_root, *args: str):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args])


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_every_ui_domain_is_reserved():
    assert {*UI_DOMAINS, about.DOMAIN} <= set(ids.RESERVED)


def _ui_pot(ws_root, domain: str) -> bytes:
    """The UI strings' template a workspace uses: its own if it has one, else the package's
    (a release of that name would have become the workspace's own, cut to its entries)."""
    own = ws_root / "locales" / f"{domain}.pot"
    return (own if own.exists() else package_locales() / f"{domain}.pot").read_bytes()


@pytest.mark.parametrize("rid", ["messages", "web", "admin", "Messages", "ADMIN",
                                 "releases", "index.html", "archive.css", "digest-2019-03"])
def test_import_refuses_a_reserved_id(ws_root, rid):
    source = ws_root / "t.txt"
    source.write_text(TEXT, encoding="utf-8")
    pot = _ui_pot(ws_root, "messages")
    line = _one_line_error(run(ws_root, "import", str(source), "--id", rid))
    assert f"release id {rid!r} is reserved" in line
    assert not (ws_root / "releases" / f"{rid}.md").exists()
    # and nothing it would have cut: the UI strings' catalog is whole
    assert run(ws_root, "extract", "--ui").exit_code == 0
    assert _ui_pot(ws_root, "messages").count(b"msgid") >= pot.count(b"msgid") > 10


@pytest.mark.parametrize("rid", ["messages", "web", "admin", "about"])
def test_a_release_file_with_a_reserved_name_is_refused_when_loaded(ws_root, rid):
    src = ws_root / "releases" / f"{EXAMPLE_RELEASE}.md"
    (ws_root / "releases" / f"{rid}.md").write_bytes(src.read_bytes())
    pot = _ui_pot(ws_root, rid)
    line = _one_line_error(run(ws_root, "preview", rid))
    assert f"releases/{rid}.md" in line and "is reserved" in line
    line = _one_line_error(run(ws_root, "extract", rid))  # refused, not cut to 3 entries
    assert "is reserved" in line
    assert _ui_pot(ws_root, rid) == pot


@pytest.mark.parametrize(("rid", "said"), [
    ("x\n", "use only letters, digits"),
    ("2019-03-01-aktionstag\n", "use only letters, digits"),
    ("x\r", "use only letters, digits"),
    ("x\x00y", "use only letters, digits"),
    ("a" * 300, "300 characters long; at most 100"),
    ("a" * (ids.MAX_LENGTH + 1), "characters long"),
])
def test_import_refuses_ids_no_file_name_takes(ws_root, rid, said):
    source = ws_root / "t.txt"
    source.write_text(TEXT, encoding="utf-8")
    before = sorted((ws_root / "releases").iterdir())
    line = _one_line_error(run(ws_root, "import", str(source), "--id", rid))
    assert said in line
    assert sorted((ws_root / "releases").iterdir()) == before


def test_an_id_of_the_longest_length_is_taken(ws_root):
    source = ws_root / "t.txt"
    source.write_text(TEXT, encoding="utf-8")
    rid = "a" * ids.MAX_LENGTH
    result = run(ws_root, "import", str(source), "--id", rid)
    assert result.exit_code == 0, result.output
    assert (ws_root / "releases" / f"{rid}.md").is_file()


@pytest.mark.parametrize("ref", ["a" * 300, "x\n", "releases/" + "b" * 400 + ".md"])
def test_commands_answer_one_line_for_names_over_the_limit(ws_root, ref):
    line = _one_line_error(run(ws_root, "preview", ref))
    assert line.startswith("error: no release")


# --- YAML ------------------------------------------------------------------------------


def _bomb(depth: int = 7) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]"
              for i in range(1, depth + 1)]
    return "---\ntitle: Aktionstag\ndate: 2019-03-01\n" + "\n".join(lines) + \
        f"\nsummary: *a{depth}\n---\n\nText.\n"


def test_a_yaml_alias_bomb_is_refused_at_once_naming_file_and_line(ws_root):
    path = ws_root / "releases" / "2019-03-01-bomb.md"
    path.write_text(_bomb(), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ReleaseError) as err:
        load_release(path, ws_root)
    assert time.monotonic() - started < 1.0
    assert str(err.value).startswith(f"{path}:4: front matter is not valid YAML: anchors "
                                     "and aliases")
    line = _one_line_error(run(ws_root, "preview", "2019-03-01-bomb"))
    assert "2019-03-01-bomb.md:4:" in line and "anchors and aliases" in line


def test_a_single_alias_is_refused_too_and_plain_ampersands_stay_text(ws_root):
    path = ws_root / "releases" / "2019-03-01-alias.md"
    path.write_text("---\ntitle: &t Aktionstag\ndate: 2019-03-01\nsummary: *t\n---\n\nText.\n",
                    encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"alias\.md:2: .*anchors and aliases"):
        load_release(path, ws_root)
    path.write_text('---\ntitle: "Tom & Jerry *live*"\ndate: 2019-03-01\n---\n\nText.\n',
                    encoding="utf-8")
    assert load_release(path, ws_root).title.plain == "Tom & Jerry *live*"


# --- a finished campaign ---------------------------------------------------------------


def test_send_with_workers_of_a_finished_campaign_says_it_is_finished(ws_root, state_db,
                                                                      monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own
    args = ("send", EXAMPLE_RELEASE, "--list", "press", "--transport", "outbox")
    first = run(ws_root, *args)
    assert first.exit_code == 0, first.output
    again = run(ws_root, *args, "--workers", "2")
    assert again.exit_code == 0, again.output
    assert "is finished: nothing was left to send" in again.output
    assert "same command again" not in again.output and "worker" not in again.output
    plain = run(ws_root, *args)
    assert plain.exit_code == 0 and "is finished" in plain.output
