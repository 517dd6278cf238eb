"""Parsing release files: YAML front matter plus CommonMark body, into a Release.

Raw HTML in a body is never markup: markdown-it runs with ``html=False``, so a
``<script>`` or ``<img onerror=...>`` written in the Markdown stays literal text
and is escaped wherever it is rendered.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsletter.content.release import (
    CONTACT_KEYS,
    FRONT_KEYS,
    IMAGE_KEYS,
    KINDS,
    Block,
    Contact,
    Figure,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Preformatted,
    Quote,
    Release,
    Rule,
    squash,
)
from newsletter.content.segments import PSEUDO_TAG, Segment, Tag
from newsletter.errors import ReleaseError, WorkspaceError
from newsletter.workspace.addresses import AddressError, normalize_address

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def load_release(path: Path, workspace_root: Path) -> Release:
    """Read and parse ``releases/<id>.md``; errors name the file and line."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ReleaseError("release file not found", path=path) from err
    except UnicodeDecodeError as err:
        raise ReleaseError(f"not UTF-8 text ({err.reason})", path=path) from err
    return parse_release(source, path=path, workspace_root=workspace_root)


def parse_release(source: str, *, path: Path, workspace_root: Path) -> Release:
    release_id = path.stem
    if not _ID.match(release_id):
        raise ReleaseError(
            "a release file name may use only letters, digits, '.', '_' and '-'", path=path
        )
    source = source.removeprefix("\ufeff").replace("\r\n", "\n")
    front_text, body, body_offset = _split_front_matter(source, path)
    meta, lines = _load_front_matter(front_text, path)
    parser = _FrontMatter(meta, lines, path, workspace_root)
    blocks = _BodyParser(path, body_offset, workspace_root).parse(body)
    return Release(
        id=release_id,
        path=path,
        title=parser.segment("title", required=True),  # type: ignore[arg-type]
        date=parser.date(),
        kind=parser.kind(),
        category=parser.segment("category"),
        summary=parser.segment("summary"),
        location=parser.segment("location"),
        contact=parser.contact(),
        image=parser.image(),
        embargo=parser.embargo(),
        attachments=parser.attachments(),
        blocks=blocks,
        lines=lines,
    )


def _split_front_matter(source: str, path: Path) -> tuple[str, str, int]:
    lines = source.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ReleaseError("a release starts with YAML front matter between '---' lines",
                           path=path, line=1)
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 1
    raise ReleaseError("front matter is never closed with '---'", path=path, line=1)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates and times as text, so that we parse them ourselves
    and report a bad one (2018-02-30) with its line instead of a bare ValueError."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_front_matter(text: str, path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err)
        raise ReleaseError(f"front matter is not valid YAML: {problem}", path=path,
                           line=line) from err
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode | type(None)):
        raise ReleaseError("front matter must be a mapping of keys to values", path=path, line=2)
    lines: dict[str, int] = {}
    if node is not None:
        for key_node, _value in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 2  # +1 for '---', +1 1-based
    return data, lines


class _FrontMatter:
    def __init__(self, meta: dict[str, Any], lines: dict[str, int], path: Path, root: Path):
        self.meta, self.lines, self.path, self.root = meta, lines, path, root
        for key in meta:
            if key not in FRONT_KEYS:
                hint = f" (known keys: {', '.join(FRONT_KEYS)})"
                raise self.error(str(key), f"unknown front-matter key {key!r}{hint}")

    def error(self, key: str, message: str) -> ReleaseError:
        return ReleaseError(message, path=self.path, line=self.lines.get(key, 1))

    def text(self, key: str, value: Any, *, required: bool = False, single_line: bool = True
             ) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.error(key, f"missing front-matter key {key!r}")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"{key!r} must be text, got {type(value).__name__}")
        text = squash(str(value)) if single_line else str(value).strip()
        clash = PSEUDO_TAG.search(text)
        if clash:
            raise self.error(key, f"{key!r} contains {clash.group(0)!r}, which is reserved for "
                             "markup placeholders in catalogs")
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

    def contact(self) -> Contact | None:
        value = self.mapping("contact", CONTACT_KEYS)
        if value is None:
            return None
        name = self.text("contact", value.get("name"), required=True)
        role = self.text("contact", value.get("role"))
        email = self.text("contact", value.get("email"))
        if email:
            try:
                email = normalize_address(email)
            except AddressError as err:
                raise self.error("contact", f"contact.email {email!r}: {err}") from err
        return Contact(name=name, role=Segment(role) if role else None,
                       phone=self.text("contact", value.get("phone")), email=email)

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


class _BodyParser:
    def __init__(self, path: Path, offset: int, root: Path):
        self.path, self.offset, self.root = path, offset, root
        self.md = MarkdownIt("commonmark", {"html": False})

    def line(self, token: Token) -> int:
        return (token.map[0] if token.map else 0) + self.offset + 1

    def error(self, token: Token, message: str) -> ReleaseError:
        return ReleaseError(message, path=self.path, line=self.line(token))

    def parse(self, body: str) -> tuple[Block, ...]:
        tokens = self.md.parse(body)
        blocks: list[Block] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            end = _matching_close(tokens, i)
            inner = tokens[i + 1 : end]
            if tok.type == "heading_open":
                blocks.append(Heading(int(tok.tag[1]), self.inline(inner[0]), self.line(tok)))
            elif tok.type == "paragraph_open":
                blocks.append(self.paragraph(tok, inner[0]))
            elif tok.type in ("bullet_list_open", "ordered_list_open"):
                start = int(tok.attrs.get("start", 1) or 1)
                items = tuple(self.list_items(inner, depth=0))
                blocks.append(ListBlock(tok.type == "ordered_list_open", items, self.line(tok),
                                        start))
            elif tok.type == "blockquote_open":
                parts = tuple(self.inline(t) for t in inner if t.type == "inline")
                blocks.append(Quote(parts, self.line(tok)))
            elif tok.type in ("fence", "code_block"):
                blocks.append(Preformatted(tok.content.rstrip("\n"), self.line(tok)))
            elif tok.type == "hr":
                blocks.append(Rule(self.line(tok)))
            elif tok.type == "html_block":  # cannot happen with html=False; keep it as text
                blocks.append(Paragraph(Segment(tok.content.strip()), self.line(tok)))
            else:
                raise self.error(tok, f"unsupported Markdown element {tok.type!r}")
            i = end + 1
        return tuple(blocks)

    def paragraph(self, open_tok: Token, inline: Token) -> Paragraph | Figure:
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content)]
        if len(children) == 1 and children[0].type == "image":
            img = children[0]
            alt = squash(img.content)
            if not alt:
                raise self.error(open_tok, "an image needs alt text: ![what it shows](path)")
            title = str(img.attrs.get("title") or "")
            image = Image(
                path=resolve_image(str(img.attrs["src"]), self.path, self.root,
                                   self.line(open_tok)),
                alt=Segment(alt),
                caption=Segment(squash(title)) if title.strip() else None,
                line=self.line(open_tok),
            )
            return Figure(image, self.line(open_tok))
        return Paragraph(self.inline(inline), self.line(open_tok))

    def list_items(self, tokens: list[Token], depth: int) -> Iterator[ListItem]:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            end = _matching_close(tokens, i)
            if tok.type == "list_item_open":
                inner = tokens[i + 1 : end]
                parts: list[Segment] = []
                nested: list[ListItem] = []
                j = 0
                while j < len(inner):
                    t = inner[j]
                    t_end = _matching_close(inner, j)
                    if t.type in ("bullet_list_open", "ordered_list_open"):
                        nested.extend(self.list_items(inner[j + 1 : t_end], depth + 1))
                    elif t.type == "paragraph_open":
                        parts.append(self.inline(inner[j + 1]))
                    elif t.type in ("fence", "code_block"):
                        raise self.error(t, "code blocks inside list items are not supported")
                    j = t_end + 1
                if parts:
                    yield ListItem(tuple(parts), depth, self.line(tok))
                yield from nested
            i = end + 1

    def inline(self, token: Token) -> Segment:
        """Turn an inline token into a segment with numbered pseudo-tags."""
        out: list[str] = []
        tags: list[Tag] = []
        for child in token.children or []:
            kind = child.type
            if kind == "text":
                clash = PSEUDO_TAG.search(child.content)
                if clash:
                    raise self.error(token, f"the text {clash.group(0)!r} is reserved for markup "
                                     "placeholders; write it as `code`")
                out.append(child.content)
            elif kind == "softbreak":
                out.append(" ")
            elif kind in ("hardbreak", "code_inline"):
                tag = Tag(len(tags) + 1, "br" if kind == "hardbreak" else "code",
                          code=child.content)
                tags.append(tag)
                out.append(f"<{tag.number}/>")
            elif kind in ("em_open", "strong_open", "link_open"):
                tag = Tag(len(tags) + 1, kind.removesuffix("_open"),
                          href=str(child.attrs.get("href", "")),
                          title=str(child.attrs.get("title", "") or ""))
                tags.append(tag)
                out.append(f"<{tag.number}>")
            elif kind in ("em_close", "strong_close", "link_close"):
                # close the innermost open tag of this kind
                open_kind = kind.removesuffix("_close")
                number = _innermost_open(out, tags, open_kind)
                out.append(f"</{number}>")
            elif kind == "image":
                raise self.error(token, "put an image in a paragraph of its own")
            else:
                raise self.error(token, f"unsupported inline Markdown {kind!r}")
        return Segment(squash("".join(out)), tuple(tags))


def _innermost_open(out: list[str], tags: list[Tag], kind: str) -> int:
    closed = {int(m.group(2)) for m in PSEUDO_TAG.finditer("".join(out)) if m.group(1)}
    for tag in reversed(tags):
        if tag.kind == kind and tag.number not in closed:
            return tag.number
    raise AssertionError(f"unbalanced {kind} in markdown-it output")  # markdown-it guarantees it


def _matching_close(tokens: list[Token], i: int) -> int:
    """Index of the token that closes ``tokens[i]`` (itself for self-contained tokens)."""
    if tokens[i].nesting != 1:
        return i
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    raise AssertionError("unbalanced markdown-it token stream")
