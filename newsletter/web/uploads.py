"""Reading one uploaded file (the admin's press-release upload; no other route takes
files: ``security.read_form`` refuses them).

The body's declared length is checked before anything is read, so a large upload is
refused without being received; the copy is counted again, in case a body is longer
than it said. The file is copied in chunks into a folder the caller chose (inside the
workspace's state), under a name the caller derives from the client's: the client's
file name is never used as a path. Starlette's parser spools the part meanwhile
(in memory up to 1 MB, then in a temporary file of the system's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from newsletter.web.security import MAX_FORM, BadForm, FormTooLarge

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Upload:
    fields: dict[str, str]  # the form's other fields
    path: Path | None  # the stored file; None when the form came without one
    client_name: str  # as the browser sent it: for messages only


class UploadTooLarge(FormTooLarge):
    """The upload is larger than the route allows."""


async def read_upload(request: Request, folder: Path, name_for: Callable[[str], str], *,
                      max_bytes: int, field: str = "file") -> Upload:
    """The multipart form of ``request`` with at most one file (in ``field``), stored as
    ``folder / name_for(client_name)``; ``name_for`` may refuse a name by raising."""
    try:
        declared = int(request.headers.get("content-length") or -1)
    except ValueError:
        declared = -1
    if declared < 0:  # browsers always say how long a form is
        raise BadForm
    if declared > max_bytes + MAX_FORM:  # the file and the form's few small fields
        raise UploadTooLarge
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadForm
    try:
        form = await request.form(max_files=1, max_fields=16, max_part_size=MAX_FORM)
    except (HTTPException, MultiPartException, UnicodeDecodeError):
        raise BadForm from None
    try:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        part = form.get(field)
        if not isinstance(part, UploadFile) or not part.filename:
            return Upload(fields, None, "")
        client_name = part.filename
        target = folder / name_for(client_name)
        size = 0
        with target.open("xb") as out:
            while chunk := await part.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge
                out.write(chunk)
        return Upload(fields, target, client_name)
    finally:
        await form.close()
