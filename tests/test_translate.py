from __future__ import annotations

import socket
import subprocess
import time

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.content.parser import load_release
from newsletter.errors import ConfigError
from newsletter.translation.catalog import extract_release, po_path, read_catalog
from newsletter.translation.drafting import translate_release
from newsletter.translation.engines import LibreEngine, RetryPolicy, split_text
from tests.conftest import require_msgfmt
from tests.fake_libre import FakeLibre

NEWS = "2018-08-09-sprachcafe"
FAST = RetryPolicy(timeout=2.0, retries=2, backoff=0.01, cap=0.02, sleep=lambda s: None)


@pytest.fixture(autouse=True)
def _memory_of_the_press_release_only(ws_root):
    """The counts below are of a memory that holds the press release's catalogs: the
    example news with an event (reviewed in every language) would answer some entries."""
    for path in (ws_root / "locales").glob("*/LC_MESSAGES/2018-08-30-vereinsberatung.po"):
        path.unlink()


@pytest.fixture
def news(ws):
    return load_release(ws.releases_dir / f"{NEWS}.md", ws.root)


def _engine(url, policy=FAST):
    return LibreEngine(url, policy)


def _entries(ws, rid, lang):
    return [m for m in read_catalog(po_path(ws, rid, lang)) if m.id]


def test_drafts_are_fuzzy_with_an_engine_comment(ws, news):
    with FakeLibre() as server:
        report = translate_release(news, ws, _engine(server.url), ("tr", "ar"))
    # category and location are one-word exact matches in the memory: offered as fuzzy
    assert [(lr.machine, lr.memory_fuzzy) for lr in report.languages] == [(5, 2), (5, 2)]
    assert report.failed == 0
    for msg in _entries(ws, NEWS, "tr"):
        assert msg.fuzzy
        if msg.context in ("category", "location"):
            assert msg.user_comments[-1].startswith("tm: same text in 2018-08-23-")
            continue
        assert msg.string.startswith("[tr] ")
        assert msg.user_comments[-1].startswith("mt: libre ")
    link = next(m for m in _entries(ws, NEWS, "tr") if "<1>sprachcafe@" in m.id)
    assert "<1>sprachcafe@verbund.example.org</1>" in link.string  # tags restored exactly
    sent = [c["q"] for c in server.calls]
    assert all("<1>" not in q and "@" not in q for q in sent)  # masked on the wire
    assert report.calls == 10
    msgfmt = require_msgfmt()
    for lang in ("tr", "ar"):
        proc = subprocess.run([msgfmt, "-c", "-o", "/dev/null", str(po_path(ws, NEWS, lang))],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr


def test_second_run_makes_no_engine_calls(ws, news):
    with FakeLibre() as server:
        translate_release(news, ws, _engine(server.url), ("pl",))
        first = len(server.calls)
        engine = _engine(server.url)
        report = translate_release(news, ws, engine, ("pl",))
    assert first == 5 and len(server.calls) == 5 and engine.calls == 0
    assert report.languages[0].kept == 7


def test_translation_memory_before_the_engine(ws):
    path = ws.releases_dir / "tm-test.md"
    path.write_text(
        "---\ntitle: Ein neuer Titel für den Test\ndate: 2018-08-31\ncategory: Verbund-News\n"
        "---\n\n## Der Vertrag auf einen Blick\n\n"
        "Die Stadt Essen fördert den Verbund seit seiner Gründung strukturell. Mit Unterstützung"
        " von Oberbürgermeister Kufen wird diese Förderung jetzt auf eine solidere Grundlage"
        " gestellt.\n", encoding="utf-8")
    rel = load_release(path, ws.root)
    with FakeLibre() as server:
        report = translate_release(rel, ws, _engine(server.url), ("tr",))
    lr = report.languages[0]
    assert (lr.memory_reviewed, lr.memory_fuzzy, lr.machine) == (1, 2, 1)
    assert len(server.calls) == 1  # only the new title went to the engine
    cat = read_catalog(po_path(ws, "tm-test", "tr"))
    heading = cat.get("Der Vertrag auf einen Blick")
    assert heading.string == "Sözleşmenin ana hatları" and not heading.fuzzy
    assert heading.user_comments == ["tm: reviewed translation from 2018-08-23-kooperationsvertrag"]
    category = cat.get("Verbund-News", context="category")
    assert category.fuzzy  # one word: offered, not approved
    near = next(m for m in cat if m.id.startswith("Die Stadt Essen"))
    assert near.fuzzy and "similar text" in near.user_comments[0]


def test_429_is_retried(ws, news):
    slept = []
    policy = RetryPolicy(timeout=2.0, retries=3, backoff=0.5, cap=8.0, sleep=slept.append)
    with FakeLibre("429-once") as server:
        report = translate_release(news, ws, _engine(server.url, policy), ("tr",))
    assert report.languages[0].machine == 5 and len(server.calls) == 6
    assert len(slept) == 1 and 0.25 <= slept[0] <= 0.5  # jittered backoff


def test_a_stalled_server_times_out_and_the_run_stops(ws, news):
    policy = RetryPolicy(timeout=0.3, retries=1, backoff=0.01, cap=0.01, sleep=lambda s: None)
    start = time.monotonic()
    with FakeLibre("stall", stall=2.0) as server:
        report = translate_release(news, ws, _engine(server.url, policy), ("tr", "ar"))
    assert time.monotonic() - start < 1.9
    assert report.stopped.startswith("engine unreachable")
    assert [lr.language for lr in report.languages] == ["tr"]  # stopped at once
    assert len(server.calls) == 2


@pytest.mark.parametrize(("mode", "problem"), [("drop", "lost <1>"), ("dup", "doubled <1>")])
def test_lost_or_doubled_tokens_are_not_stored(ws, news, mode, problem):
    with FakeLibre(mode) as server:
        report = translate_release(news, ws, _engine(server.url), ("tr",))
    lr = report.languages[0]
    assert lr.failed >= 1 and any(problem in f for f in lr.failures)
    failed = [m for m in _entries(ws, NEWS, "tr") if not m.string]
    assert failed and all(m.user_comments[-1].startswith("mt failed") for m in failed)
    assert any(problem in m.user_comments[-1] for m in failed)


def test_spaces_inside_tokens_are_tolerated(ws, news):
    with FakeLibre("spaces") as server:
        report = translate_release(news, ws, _engine(server.url), ("tr",))
    assert report.failed == 0 and report.languages[0].machine == 5


def test_unreachable_engine_loses_nothing(ws, news):
    with FakeLibre() as server:
        translate_release(news, ws, _engine(server.url), ("tr",))
    before = {m.id: m.string for m in _entries(ws, NEWS, "tr")}
    news.path.write_text(news.path.read_text(encoding="utf-8") + "\nEin neuer Absatz.\n",
                         encoding="utf-8")
    rel = load_release(news.path, ws.root)
    report = translate_release(rel, ws, _engine(_closed_port_url()), ("tr",))
    assert report.stopped
    after = {m.id: m.string for m in _entries(ws, NEWS, "tr")}
    assert {k: after[k] for k in before} == before
    assert after["Ein neuer Absatz."] == ""


def test_unsupported_language_is_reported_before_any_call(ws, news):
    with FakeLibre() as server, pytest.raises(ConfigError, match="cannot translate uk, fa"):
        translate_release(news, ws, _engine(server.url), ("tr", "uk", "fa"))
    assert server.calls == []


def test_keys_are_read_when_calling(ws, news, monkeypatch):
    with FakeLibre() as server:
        engine = _engine(server.url)
        monkeypatch.setenv("LIBRETRANSLATE_API_KEY", "k-123")
        translate_release(news, ws, engine, ("tr",))
    assert {c.get("api_key") for c in server.calls} == {"k-123"}


def test_long_segments_are_split_at_sentences(ws, news):
    with FakeLibre() as server:
        engine = _engine(server.url)
        engine.max_chars = 60
        translate_release(news, ws, engine, ("tr",))
    assert max(len(c["q"]) for c in server.calls) <= 60
    assert len(server.calls) > 5
    assert split_text("Eins zwei. Drei vier fünf. Sechs.", 12) == [
        "Eins zwei.", "Drei vier", "fünf. Sechs."]
    assert all(len(c) <= 12 for c in split_text("Ein sehr langer Satz ohne Punkt " * 3, 12))


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _cli(ws_root, *args, env=None):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args], env=env)


def test_cli_offline_run_ends_quickly_with_exit_1(ws_root):
    start = time.monotonic()
    result = _cli(ws_root, "translate", NEWS, "--engine", "libre", "--lang", "tr",
                  "--lang", "ar", env={"LIBRETRANSLATE_URL": _closed_port_url()})
    assert time.monotonic() - start < 15
    assert result.exit_code == 1, result.output
    assert "14 entries in 2 languages could not be translated: engine unreachable" \
        in result.output
    assert "run again later" in result.output and "Traceback" not in result.output


def test_cli_dry_run_counts_and_changes_nothing(ws_root):
    po = ws_root / "locales" / "tr" / "LC_MESSAGES" / f"{NEWS}.po"
    before = po.read_bytes()
    with FakeLibre() as server:
        result = _cli(ws_root, "translate", NEWS, "--engine", "libre", "--lang", "tr",
                      "--dry-run", env={"LIBRETRANSLATE_URL": server.url})
    assert result.exit_code == 0, result.output
    assert "5 segment(s)" in result.output and server.calls == []
    assert po.read_bytes() == before


def test_cli_status_check(ws_root):
    ok = _cli(ws_root, "status", "2018-08-23-kooperationsvertrag")
    assert ok.exit_code == 0 and "yes" in ok.output and "no" in ok.output
    result = _cli(ws_root, "status", "2018-08-23-kooperationsvertrag", "--check")
    assert result.exit_code == 1
    assert "2018-08-23-kooperationsvertrag:fa" in result.output


def test_cli_tm_export(ws_root):
    import xml.etree.ElementTree as ET
    result = _cli(ws_root, "tm", "export", "--lang", "ar")
    assert result.exit_code == 0, result.output
    tree = ET.parse(ws_root / "build" / "tm" / "de-ar.tmx")  # noqa: S314 - our own file
    root = tree.getroot()
    assert root.get("version") == "1.4" and root.find("header").get("srclang") == "de"
    units = root.findall("body/tu")
    assert len(units) == 25
    langs = [t.get("{http://www.w3.org/XML/1998/namespace}lang") for t in units[0].findall("tuv")]
    assert langs == ["de", "ar"]


def test_extract_keeps_drafts(ws, news):
    with FakeLibre() as server:
        translate_release(news, ws, _engine(server.url), ("tr",))
    extract_release(news, ws)
    assert all(m.string and m.fuzzy for m in _entries(ws, NEWS, "tr"))
