"""Parsing release files: YAML front matter plus CommonMark body, into a Release.

Raw HTML in a body is never markup: markdown-it runs with ``html=False``, so a
``<script>`` or ``<img onerror=...>`` written in the Markdown stays literal text
and is escaped wherever it is rendered.
"""

from __future__ import annotations

from pathlib import Path

from newsletter.content import ids
from newsletter.content.body import BodyParser
from newsletter.content.frontmatter import (
    DEFAULT_TIMEZONE,
    FrontMatter,
    load_front_matter,
    resolve_file,
    resolve_image,
    split_front_matter,
)
from newsletter.content.release import Release
from newsletter.errors import ReleaseError

__all__ = ["load_release", "parse_release", "resolve_file", "resolve_image"]



def load_release(path: Path, workspace_root: Path, *, timezone: str = DEFAULT_TIMEZONE
                 ) -> Release:
    """Read and parse ``releases/<id>.md``; errors name the file and line. ``timezone``
    ([delivery] timezone) is where the times of an event without UTC offset are."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ReleaseError("release file not found", path=path) from err
    except UnicodeDecodeError as err:
        raise ReleaseError(f"not UTF-8 text ({err.reason})", path=path) from err
    return parse_release(source, path=path, workspace_root=workspace_root, timezone=timezone)


def parse_release(source: str, *, path: Path, workspace_root: Path,
                  timezone: str = DEFAULT_TIMEZONE) -> Release:
    release_id = path.stem
    wrong = ids.problem(release_id)
    if wrong is not None:  # the file name is the id: rename the file
        raise ReleaseError(f"{wrong} (the file name is the release's id)", path=path)
    source = source.removeprefix("\ufeff").replace("\r\n", "\n")
    front_text, body, body_offset = split_front_matter(source, path)
    meta, lines = load_front_matter(front_text, path)
    parser = FrontMatter(meta, lines, path, workspace_root, timezone)
    blocks = BodyParser(path, body_offset, workspace_root).parse(body)
    return Release(
        id=release_id,
        path=path,
        title=parser.segment("title", required=True),  # type: ignore[arg-type]
        date=parser.date(),
        kind=parser.kind(),
        category=parser.segment("category"),
        summary=parser.segment("summary"),
        location=parser.segment("location"),
        contacts=parser.contacts(),
        image=parser.image(),
        embargo=parser.embargo(),
        attachments=parser.attachments(),
        blocks=blocks,
        lines=lines,
        kicker=parser.segment("kicker"),
        subtitle=parser.segment("subtitle"),
        event=parser.event(),
    )

