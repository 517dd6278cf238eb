"""Front matter of a release: YAML between '---' lines, checked key by key.

Errors name the file and the line of the key they are about.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from newsletter.content import yamltext
from newsletter.content.release import (
    CONTACT_KEYS,
    EVENT_KEYS,
    FRONT_KEYS,
    IMAGE_KEYS,
    KINDS,
    Contact,
    Event,
    Image,
    squash,
)
from newsletter.content.segments import PSEUDO_TAG, Segment
from newsletter.errors import ReleaseError, WorkspaceError
from newsletter.workspace.addresses import AddressError, normalize_address


def split_front_matter(source: str, path: Path) -> tuple[str, str, int]:
    lines = source.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ReleaseError("a release starts with YAML front matter between '---' lines",
                           path=path, line=1)
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 1
    raise ReleaseError("front matter is never closed with '---'", path=path, line=1)


MAX_DEPTH = 20  # contacts in a list of mappings are 3 deep; nothing needs more


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates and times as text, so that we parse them ourselves
    and report a bad one (2018-02-30) with its line instead of a bare ValueError; and
    that refuses anchors and aliases (``&a``, ``*a``): a few lines of aliases to aliases
    ("billion laughs") expand exponentially wherever the value is walked, and front
    matter never needs them. Nesting deeper than MAX_DEPTH is refused too: the
    composer recurses once per level, and ``[[[...]]]`` 100,000 deep was a
    RecursionError's traceback instead of a line saying what is wrong."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed in front "
                "matter", event.start_mark)
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"values nested more than {MAX_DEPTH} deep are not allowed in "
                "front matter", event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_front_matter(text: str, path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        text, node = yamltext.compose(text, _Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err)
        raise ReleaseError(f"front matter is not valid YAML: {problem} (a value with special "
                           'characters can be put in quotes: title: "...")', path=path,
                           line=_error_line(text, err)) from err
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode | type(None)):
        raise ReleaseError("front matter must be a mapping of keys to values", path=path, line=2)
    lines: dict[str, int] = {}
    if node is not None:
        _node_lines(node, "", lines)
    return data, lines


def _node_lines(node: yaml.Node, prefix: str, lines: dict[str, int]) -> None:
    """The file line of every key, nested ones as ``event.start`` and ``contacts[1].web``
    (+1 for '---', +1 because YAML counts from 0), so errors can point at the field."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            key = f"{prefix}{key_node.value}"
            lines.setdefault(key, key_node.start_mark.line + 2)
            _node_lines(value, f"{key}.", lines)
    elif isinstance(node, yaml.SequenceNode) and prefix:
        for i, item in enumerate(node.value):
            key = f"{prefix[:-1]}[{i}]"
            lines.setdefault(key, item.start_mark.line + 2)
            _node_lines(item, f"{key}.", lines)


def _error_line(text: str, err: yaml.YAMLError) -> int:
    """The file line of a YAML error: where it started when YAML only noticed at the end."""
    mark = getattr(err, "problem_mark", None)
    context = getattr(err, "context_mark", None)
    if mark is not None and context is not None and mark.index >= len(text.rstrip()):
        mark = context
    return mark.line + 2 if mark is not None else 1  # +1 for '---', +1 1-based


_PARENT = re.compile(r"(?:\.[^.\[]*|\[\d+\])$")  # the last ".key" or "[n]" of a field
_URL = re.compile(r"^(?:https?://|www\.)[^\s<>\"]+$")
DEFAULT_TIMEZONE = "Europe/Berlin"


class FrontMatter:
    def __init__(self, meta: dict[str, Any], lines: dict[str, int], path: Path, root: Path,
                 timezone: str = DEFAULT_TIMEZONE):
        self.meta, self.lines, self.path, self.root = meta, lines, path, root
        self.timezone = timezone
        for key in meta:
            if key not in FRONT_KEYS:
                hint = f" (known keys: {', '.join(FRONT_KEYS)})"
                raise self.error(str(key), f"unknown front-matter key {key!r}{hint}")

    def error(self, key: str, message: str) -> ReleaseError:
        return ReleaseError(message, path=self.path, line=self.line(key))

    def line(self, key: str) -> int:
        """The line of a field (``event.end``), else of the nearest field around it."""
        while key not in self.lines:
            parent = _PARENT.sub("", key)
            if parent == key:
                return 1
            key = parent
        return self.lines[key]

    def text(self, key: str, value: Any, *, required: bool = False, single_line: bool = True,
             label: str = "") -> str:
        """A text value; ``key`` finds its line, ``label`` names it (default: the key)."""
        label = label or key
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.error(key, f"missing front-matter key {label!r}")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"{label!r} must be text, got {type(value).__name__}")
        text = squash(str(value)) if single_line else str(value).strip()
        clash = PSEUDO_TAG.search(text)
        if clash:
            raise self.error(key, f"{label!r} contains {clash.group(0)!r}, which is reserved "
                             "for markup placeholders in catalogs")
        return text

    def segment(self, key: str, *, required: bool = False) -> Segment | None:
        text = self.text(key, self.meta.get(key), required=required)
        return Segment(text) if text else None

    def date(self) -> dt.date:
        value = self.meta.get("date")
        if value is None:
            raise self.error("date", "missing front-matter key 'date'")
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError as err:
            raise self.error("date", f"bad date {value!r}: write it as YYYY-MM-DD") from err

    def kind(self) -> str:
        value = self.meta.get("kind", "news")
        if value not in KINDS:
            raise self.error("kind", f"kind must be one of {', '.join(KINDS)}, got {value!r}")
        return str(value)

    def embargo(self) -> dt.datetime | None:
        value = self.meta.get("embargo")
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError as err:
                raise self.error("embargo", f"bad embargo time {value!r}: write it as "
                                 "YYYY-MM-DD HH:MM+01:00") from err
        if not isinstance(value, dt.datetime):
            raise self.error("embargo", "embargo must be a date and time with a UTC offset")
        if value.tzinfo is None or value.utcoffset() is None:
            raise self.error("embargo", "embargo needs a UTC offset, e.g. 2018-08-23 10:00+02:00")
        return value

    def mapping(self, key: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        value = self.meta.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"{key!r} must be a mapping with keys {', '.join(allowed)}")
        for sub in value:
            if sub not in allowed:
                raise self.error(key, f"unknown key {key}.{sub} (allowed: {', '.join(allowed)})")
        return value

    def contacts(self) -> tuple[Contact, ...]:
        """``contact:`` (one) or ``contacts:`` (a list of them), each checked field by field."""
        if self.meta.get("contact") is not None and self.meta.get("contacts") is not None:
            raise self.error("contacts", "write either 'contact' (one) or 'contacts' (a list), "
                             "not both")
        one = self.meta.get("contact")
        if one is not None:
            return (self._contact(self._fields("contact", one, CONTACT_KEYS), "contact"),)
        value = self.meta.get("contacts")
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            raise self.error("contacts", "'contacts' must be a list of contacts, each starting "
                             "with '- name: ...'")
        return tuple(self._contact(self._fields(f"contacts[{i}]", item, CONTACT_KEYS),
                                   f"contacts[{i}]") for i, item in enumerate(value))

    def _fields(self, where: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        """A nested mapping whose keys must all be known; errors name the field's line."""
        if not isinstance(value, dict):
            raise self.error(where, f"{where} must be a mapping with keys {', '.join(allowed)}")
        for sub in value:
            if sub not in allowed:
                raise self.error(f"{where}.{sub}", f"unknown key {where}.{sub} (allowed: "
                                 f"{', '.join(allowed)})")
        return value

    def _contact(self, value: dict[str, Any], where: str) -> Contact:
        def field(name: str, *, required: bool = False) -> str:
            return self.text(f"{where}.{name}" if name in value else where, value.get(name),
                             required=required, label=f"{where}.{name}")

        if "organization" in value and "organisation" in value:
            raise self.error(f"{where}.organisation", f"{where}: write 'organization' or "
                             "'organisation', not both")
        email = field("email")
        if email:
            try:
                email = normalize_address(email)
            except AddressError as err:
                raise self.error(f"{where}.email", f"{where}.email {email!r}: {err}") from err
        web = field("web")
        if web and not _URL.match(web):
            raise self.error(f"{where}.web", f"{where}.web {web!r}: write a web address "
                             "(https://... or www....)")
        role = field("role")
        org = self.text(f"{where}.organisation", value.get("organisation"),
                        label=f"{where}.organisation") or field("organization")
        return Contact(name=field("name", required=True), role=Segment(role) if role else None,
                       phone=field("phone"), email=email, organization=org,
                       address=field("address"), web=web, line=self.line(where))

    def event(self) -> Event | None:
        """``event:`` with start (required), end, title, venue, address and url."""
        value = self.meta.get("event")
        if value is None:
            return None
        value = self._fields("event", value, EVENT_KEYS)
        if value.get("start") is None:
            raise self.error("event", "event.start is missing: when does it begin? "
                             "(start: 2018-09-04 18:00, or a date for a whole day)")
        start = self._moment("event.start", value["start"])
        end = self._moment("event.end", value["end"]) if value.get("end") is not None else None
        if end is not None and isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
            raise self.error("event.end", "event.start and event.end must both have a time, "
                             "or both be dates (an event of whole days)")
        if end is not None and end < start:  # type: ignore[operator]
            raise self.error("event.end", f"event.end ({_shown(end)}) is before event.start "
                             f"({_shown(start)})")
        url = self.text("event.url", value.get("url"))
        if url and not _URL.match(url):
            raise self.error("event.url", f"event.url {url!r}: write a web address "
                             "(https://... or www....)")
        title = self.text("event.title", value.get("title"))
        venue = self.text("event.venue", value.get("venue"))
        return Event(start=start, end=end, title=Segment(title) if title else None,
                     venue=Segment(venue) if venue else None,
                     address=self.text("event.address", value.get("address")),
                     url=url if "://" in url or not url else f"https://{url}",
                     line=self.line("event"))

    def _moment(self, key: str, value: Any) -> dt.datetime | dt.date:
        """A date (a whole day) or a date and time; without a UTC offset the time is in the
        workspace's time zone ([delivery] timezone)."""
        text = str(value).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return dt.date.fromisoformat(text)
            moment = dt.datetime.fromisoformat(text)
        except ValueError as err:
            raise self.error(key, f"{key}: bad date or time {text!r}: write it as "
                             "2018-09-04 18:00 (or 2018-09-04 for a whole day)") from err
        zone = ZoneInfo(self.timezone)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=zone)
        return moment.astimezone(zone)

    def image(self) -> Image | None:
        value = self.mapping("image", IMAGE_KEYS)
        if value is None:
            return None
        line = self.lines.get("image", 1)
        rel = self.text("image", value.get("path"), required=True)
        alt = self.text("image", value.get("alt"))
        if not alt:
            raise self.error("image", "image.alt is required: describe the photo for screen "
                             "readers and for mail clients that block images")
        caption = self.text("image", value.get("caption"))
        print_rel = self.text("image", value.get("print"))
        return Image(
            path=resolve_image(rel, self.path, self.root, line),
            alt=Segment(alt),
            caption=Segment(caption) if caption else None,
            credit=self.text("image", value.get("credit")),
            line=line,
            print_path=(resolve_file(print_rel, self.path, self.root, line, "image.print")
                        if print_rel else None),
        )

    def attachments(self) -> tuple[Path, ...]:
        value = self.meta.get("attachments")
        if value is None:
            return ()
        line = self.lines.get("attachments", 1)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("attachments", "attachments must be a list of file paths")
        paths = tuple(resolve_file(v.strip(), self.path, self.root, line, "attachment")
                      for v in value)
        if len(set(paths)) != len(paths):
            raise self.error("attachments", "a file is attached twice")
        return paths


def _shown(moment: dt.datetime | dt.date) -> str:
    if isinstance(moment, dt.datetime):
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.isoformat()


def resolve_image(rel: str, release_path: Path, root: Path, line: int) -> Path:
    """An image path relative to the release file; it must exist inside the workspace."""
    return resolve_file(rel, release_path, root, line, "image")


def resolve_file(rel: str, release_path: Path, root: Path, line: int, what: str) -> Path:
    """A file named relative to the release; ``..``, absolute paths and symlinks that lead
    out of the workspace are refused, and the file must exist."""
    from newsletter.workspace.config import resolve_inside

    if "://" in rel or rel.startswith("data:"):
        raise ReleaseError(f"{what} {rel!r}: use a file inside the workspace, not a URL",
                           path=release_path, line=line)
    if Path(rel).is_absolute():
        raise ReleaseError(f"{what} {rel!r}: write the path relative to the release file",
                           path=release_path, line=line)
    base = release_path.parent.resolve()
    try:
        full = resolve_inside(root, base / rel, what=what)
    except WorkspaceError as err:
        raise ReleaseError(err.message, path=release_path, line=line) from err
    if not full.is_file():
        raise ReleaseError(f"{what} file not found: {rel}", path=release_path, line=line)
    return full

