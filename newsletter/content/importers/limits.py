"""What an imported file may cost: checks before it is read, and the reading itself in a
child process with limits on memory and processor time.

Uploads come from outside (the admin page takes a Word or HTML file from whoever holds
an officer's session), and a small file can be expensive: a .docx is a zip archive, so
330 KiB unpacked to hundreds of MiB; 20,000 short paragraphs took two minutes of
processor time; XML may declare entities that expand a billion-fold. So before reading:
the file's size, the archive's parts and their unpacked sizes (declared sizes bound what
``zipfile`` will inflate), and no DTD in any XML part (Word never writes one; python-docx
already parses with ``resolve_entities=False``). While reading: a paragraph limit in the
readers, and the whole import in a child process whose address space and processor time
are capped (``resource.setrlimit``) and whose wall time the parent watches. Whatever goes
wrong in the child comes back as an ImportRefused or ImportTooLarge, one line.
"""

from __future__ import annotations

import multiprocessing
import re
import resource
import zipfile
import zlib
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from newsletter.errors import ImportError_, ImportRefused, ImportTooLarge, NewsletterError

MiB = 1024 * 1024
MAX_SOURCE = 32 * MiB  # the file itself (the upload page takes 10 MiB)
MAX_PARTS = 1000  # parts in a Word archive (a long release with photos has about 30)
MAX_UNPACKED = 128 * MiB  # all parts together, unpacked
MAX_XML_PART = 32 * MiB  # one XML part, unpacked (document.xml of a long release: < 2 MiB)
MAX_PARAGRAPHS = 5000  # paragraphs and table cells in one document
MEMORY = 768 * MiB  # the child's address space
CPU_SECONDS = 30  # the child's processor time
WALL_SECONDS = 90  # the parent's patience (the child also waits for the disk)

_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_PARAGRAPH = re.compile(rb"<w:(?:p|tc)[\s/>]")  # paragraphs and table cells
_OVERLAP = 16  # bytes kept between chunks, so a tag split by a chunk boundary is seen
_CHUNK = 1 * MiB


def check_source(path: Path) -> None:
    """The file's own size, before anything is read."""
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ImportError_(f"cannot read the file: {err.strerror or err}", path=path) from None
    if size > MAX_SOURCE:
        raise ImportTooLarge(f"the file has {size / MiB:.1f} MiB; at most "
                             f"{MAX_SOURCE // MiB} MiB are imported", path=path)


def check_word(path: Path) -> None:
    """A Word file's archive: how many parts, how large unpacked, no DTD, and not more
    paragraphs than MAX_PARAGRAPHS, all before python-docx parses any of it."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise ImportRefused(f"not a Word file that can be read ({err}); save it again as "
                            ".docx", path=path) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise ImportTooLarge(f"the Word file has {len(parts)} parts; at most "
                                 f"{MAX_PARTS} are read", path=path)
        unpacked = sum(p.file_size for p in parts)
        if unpacked > MAX_UNPACKED:
            raise ImportTooLarge(f"the Word file unpacks to {unpacked / MiB:.0f} MiB; at "
                                 f"most {MAX_UNPACKED // MiB} MiB are read", path=path)
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels")):
                _check_xml(archive, part, path)


def _check_xml(archive: zipfile.ZipFile, part: zipfile.ZipInfo, path: Path) -> None:
    name = part.filename
    if part.file_size > MAX_XML_PART:
        raise ImportTooLarge(f"{name} in the Word file unpacks to "
                             f"{part.file_size / MiB:.0f} MiB; at most "
                             f"{MAX_XML_PART // MiB} MiB are read", path=path)
    paragraphs, tail, first = 0, b"", True
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                if first:
                    _check_encoding(chunk, name, path)
                    first = False
                window = tail + chunk
                if _DTD.search(window):
                    raise ImportRefused(f"{name} in the Word file declares a DTD or entities, "
                                        "which Word never writes; it is not read", path=path)
                paragraphs += len(_PARAGRAPH.findall(window)) - len(_PARAGRAPH.findall(tail))
                if paragraphs > MAX_PARAGRAPHS:
                    raise_too_many(path)
                tail = window[-_OVERLAP:]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError) as err:  # a bad checksum, a truncated part, an encrypted one
        raise ImportRefused(f"the Word file is damaged ({name}: {err}); save it again as "
                            ".docx", path=path) from None


def _check_encoding(start: bytes, name: str, path: Path) -> None:
    """UTF-8 only: in UTF-16 or UTF-7 a DTD would pass the byte search unseen."""
    declared = _ENCODING.match(start)
    utf16 = start[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(start) > 1 and start[1] == 0)
    if utf16 or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8")):
        raise ImportRefused(f"{name} in the Word file is not in UTF-8, as Word writes it; "
                            "save the file again as .docx", path=path)


def raise_too_many(path: Path) -> None:
    raise ImportTooLarge(f"the document has more than {MAX_PARAGRAPHS} paragraphs; a "
                         "release that long should be split", path=path)


# --- the child process ------------------------------------------------------------------

_KINDS: dict[str, type[NewsletterError]] = {
    k.__name__: k for k in (ImportError_, ImportRefused, ImportTooLarge)}


def run_limited(function: Callable[..., Any], path: Path, **kwargs: Any) -> Any:
    """``function(path, **kwargs)`` in a child process with MEMORY and CPU_SECONDS; its
    result, or its ImportError_ raised here. The child is started afresh ("spawn"): a
    fork of a threaded web server could inherit a lock some other thread held."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    # the limits go along: a spawned child reads this module afresh
    child = context.Process(target=_child, daemon=True, name="newsletter-import",
                            args=(sender, function, path, kwargs, MEMORY, CPU_SECONDS))
    child.start()
    sender.close()
    try:
        if not receiver.poll(WALL_SECONDS):
            raise ImportRefused(f"reading the file took longer than {WALL_SECONDS} s; it "
                                "was stopped", path=path)
        answer = receiver.recv()
    except (EOFError, OSError):  # the child died: the kernel stopped it at a limit
        child.join(5)
        raise ImportTooLarge(f"reading the file took more than {MEMORY // MiB} MiB of memory "
                             f"or {CPU_SECONDS} s of processor time; it was stopped",
                             path=path) from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if answer[0] == "ok":
        return answer[1]
    _, kind, message = answer
    raise _KINDS.get(kind, ImportRefused)(message, path=path)


def _child(sender: Connection, function: Callable[..., Any], path: Path,
           kwargs: dict[str, Any], memory: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        answer: tuple[Any, ...] = ("ok", function(path, **kwargs))
    except ImportError_ as err:
        answer = ("error", type(err).__name__, err.message)
    except MemoryError:
        answer = ("error", "ImportTooLarge", f"reading the file took more than "
                                             f"{memory // MiB} MiB of memory; it was stopped")
    except RecursionError:
        answer = ("error", "ImportRefused", "the file is nested too deeply to be read")
    except Exception as err:  # a hostile file may break a library anywhere
        reason = str(err).splitlines()[0][:200] if str(err) else ""
        answer = ("error", "ImportRefused", f"the file cannot be read ({type(err).__name__}"
                                            f"{': ' + reason if reason else ''}); save it "
                                            "again from its program")
    try:
        sender.send(answer)
    except MemoryError:  # the result itself did not fit
        sender.send(("error", "ImportTooLarge", "the imported release is too large"))
    finally:
        sender.close()
