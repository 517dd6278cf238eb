"""Word and HTML files from outside (finding 5): a 330 KiB .docx took the server from 155
to 717 MiB, 20,000 short paragraphs took 123 s of processor time, and a malformed or
entity-bomb document gave a 500. Each hostile file is built here; the upload page
answers 413 or 422 with the reason, ``newsletter import`` one line, both quickly."""

from __future__ import annotations

import functools
import io
import time
import zipfile

import docx
import pytest
from click.testing import CliRunner

from newsletter.app import accounts
from newsletter.app.sessions import Sessions
from newsletter.cli import cli
from newsletter.content.importers import import_file, limits
from newsletter.errors import ImportRefused, ImportTooLarge
from newsletter.web import create_app
from tests.admin import ADMIN, PASSWORD, SAME_ORIGIN, signed_in

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
QUICK = 20.0  # seconds: a refusal comes long before the old minutes (a loaded machine)


@pytest.fixture(autouse=True)
def _outbox_secret(monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)


@pytest.fixture
def officer(ws):
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    return signed_in(create_app(ws, admin_sessions=Sessions(ws)), "leyla")


# --- hostile files, built here ----------------------------------------------------------

def _template() -> bytes:
    document = docx.Document()
    document.add_paragraph("Verbund lädt ein", style="Title")
    document.add_paragraph("Essen, 4. September 2018 – ein Absatz.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _word(document_xml: bytes | None = None, *, chunks: int = 0, chunk: bytes = b"",
          extra: int = 0) -> bytes:
    """A real .docx with its word/document.xml replaced; ``chunks`` x ``chunk`` bytes
    are streamed into a body paragraph (a zip bomb), ``extra`` empty parts added."""
    source = zipfile.ZipFile(io.BytesIO(_template()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info, source.read(info))
            elif chunks:
                with target.open("word/document.xml", "w", force_zip64=True) as part:
                    part.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document '
                               f'xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode())
                    for _ in range(chunks):
                        part.write(chunk)
                    part.write(b"</w:t></w:r></w:p></w:body></w:document>")
            else:
                target.writestr("word/document.xml", document_xml or source.read(info))
        for n in range(extra):
            target.writestr(f"customXml/item{n}.bin", b"")
    return out.getvalue()


def _body(inner: str, prefix: str = "w") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<{prefix}:document xmlns:{prefix}="{W}"><{prefix}:body>{inner}'
            f'</{prefix}:body></{prefix}:document>').encode()


def _paragraphs(n: int, prefix: str = "w") -> bytes:
    one = f"<{prefix}:p><{prefix}:r><{prefix}:t>Absatz</{prefix}:t></{prefix}:r></{prefix}:p>"
    return _body(one * n, prefix)


def _laughs() -> bytes:
    """The billion laughs: ten entities, each ten of the one before, 10^9 "lol"s."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [' + "".join(entities)
            + f']>\n<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r>'
            '</w:p></w:body></w:document>').encode()


LAUGHS = _laughs()

HOSTILE = {
    # name: (file bytes, refusal, status on the upload page, words of the reason)
    "zip bomb": (lambda: _word(chunks=300, chunk=b"A" * (1024 * 1024)), ImportTooLarge, 413,
                 "MiB"),
    "20,000 paragraphs": (lambda: _word(_paragraphs(20_000)), ImportTooLarge, 413,
                          "more than 5000 paragraphs"),
    "billion laughs": (lambda: _word(LAUGHS), ImportRefused, 422, "DTD"),
    "truncated": (lambda: _word()[:1500], ImportRefused, 422, "not a Word file"),
    "broken XML": (lambda: _word(_body("<w:p><w:r><w:t>open")), ImportRefused, 422,
                   "be read"),
    "UTF-16": (lambda: _word(_paragraphs(3).decode().replace("UTF-8", "UTF-16")
                             .encode("utf-16")), ImportRefused, 422, "UTF-8"),
    "too many parts": (lambda: _word(extra=1200), ImportTooLarge, 413, "parts"),
}


@functools.cache
def _built(name: str) -> bytes:
    return HOSTILE[name][0]()


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request, tmp_path):
    _, refusal, status, words = HOSTILE[request.param]
    path = tmp_path / f"{request.param.replace(' ', '-').replace(',', '')}.docx"
    path.write_bytes(_built(request.param))
    return path, refusal, status, words


def test_the_zip_bomb_is_small_and_unpacks_to_300_mib():
    data = _built("zip bomb")
    assert len(data) < 400 * 1024  # as small as the file of the finding
    declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert declared > 300 * 1024 * 1024


# --- refused, quickly, everywhere ---------------------------------------------------------

def test_a_hostile_word_file_is_refused_by_the_importer(hostile):
    path, refusal, _, words = hostile
    start = time.monotonic()
    with pytest.raises(refusal, match=words):
        import_file(path)
    assert time.monotonic() - start < QUICK


def test_a_hostile_upload_gets_413_or_422_with_the_reason(officer, ws, hostile):
    path, _, status, words = hostile
    start = time.monotonic()
    got = officer.post(ADMIN + "upload", headers=SAME_ORIGIN, data={"id": "x"},
                       files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
    assert time.monotonic() - start < QUICK
    assert got.status_code == status, got.text[-2000:]
    assert words in got.text
    assert not (ws.releases_dir / "x.md").exists()
    assert list((ws.state_dir / "uploads").iterdir()) == []


def test_newsletter_import_says_one_line(ws_root, hostile):
    path, _, _, words = hostile
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "import", str(path)])
    assert result.exit_code == 1, result.output
    assert words in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


# --- the limits behind the checks -----------------------------------------------------------

def test_paragraphs_the_byte_scan_cannot_see_are_counted_while_reading(tmp_path):
    # another prefix for Word's namespace: the archive check counts only "w:p"
    path = tmp_path / "prefixed.docx"
    path.write_bytes(_word(_paragraphs(6000, prefix="x")))
    limits.check_word(path)  # passes the scan
    with pytest.raises(ImportTooLarge, match="more than 5000 paragraphs"):
        import_file(path)


def test_a_long_but_allowed_document_is_read_quickly(tmp_path):
    path = tmp_path / "long.docx"
    path.write_bytes(_word(_paragraphs(4000)))
    start = time.monotonic()
    imported = import_file(path)
    assert time.monotonic() - start < QUICK  # style lookups once per style, not per run
    assert imported.text.count("Absatz") >= 3990


def test_an_html_page_of_20000_paragraphs_is_refused(tmp_path, officer):
    page = ("<html><body>" + "<p>Absatz</p>" * 20_000 + "</body></html>").encode()
    path = tmp_path / "many.html"
    path.write_bytes(page)
    with pytest.raises(ImportTooLarge, match="paragraphs"):
        import_file(path)
    got = officer.post(ADMIN + "upload", headers=SAME_ORIGIN,
                       files={"file": ("many.html", page, "text/html")})
    assert got.status_code == 413


def _allocate(path, **_):
    return bytearray(2 * 1024 ** 3)  # 2 GiB


def _spin(path, **_):
    while True:
        pass


def _answer(path, **kwargs):
    return (path.name, kwargs)


def test_the_child_process_runs_under_memory_and_time_limits(tmp_path, monkeypatch):
    path = tmp_path / "any.docx"
    path.write_bytes(b"")
    assert limits.run_limited(_answer, path, kind="press") == ("any.docx", {"kind": "press"})
    with pytest.raises(ImportTooLarge, match="MiB of memory"):
        limits.run_limited(_allocate, path)
    monkeypatch.setattr(limits, "CPU_SECONDS", 1)
    start = time.monotonic()
    with pytest.raises(ImportTooLarge, match="processor time"):
        limits.run_limited(_spin, path)
    assert time.monotonic() - start < QUICK
    monkeypatch.setattr(limits, "CPU_SECONDS", 60)
    monkeypatch.setattr(limits, "WALL_SECONDS", 1)
    with pytest.raises(ImportRefused, match="longer than 1 s"):
        limits.run_limited(_spin, path)


def test_python_docx_does_not_resolve_entities():
    # the child's last line of defence if a DTD got past the check: three levels, a
    # thousand "lol"s, are under libxml2's own amplification limit, and stay unexpanded
    from docx.oxml.parser import parse_xml

    small = LAUGHS.replace(b"&lol9;", b"&lol3;")
    element = parse_xml(small)
    assert len("".join(element.itertext())) < 100  # resolved, it would be 3,000 characters
