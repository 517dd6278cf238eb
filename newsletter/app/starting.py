"""A new association's workspace in one command: ``newsletter init DIR``."""

from __future__ import annotations

import json
import string
import textwrap
from dataclasses import dataclass
from pathlib import Path

from newsletter.app.translation import extract
from newsletter.content.parser import load_release
from newsletter.errors import ConfigError, LanguageError, WorkspaceError
from newsletter.translation.uicatalogs import package_languages
from newsletter.translation.uistrings import DOMAIN, WEB_DOMAIN
from newsletter.workspace.addresses import AddressError, normalize_address
from newsletter.workspace.config import (
    CONFIG_NAME,
    LIST_REASONS,
    Address,
    Workspace,
    resolve_inside,
)
from newsletter.workspace.defaults import config_template, next_steps, sample_release
from newsletter.workspace.files import atomic_write
from newsletter.workspace.languages import language
from newsletter.workspace.loading import BUILTIN_LIST, load_workspace
from newsletter.workspace.scaffold import LIST_NAME, ListSpec, fill_config, parse_address

DEFAULT_LISTS = ("members:member", "press:press")
SAMPLE_ID = "2025-01-15-unser-newsletter-startet"
SAMPLE_LANGUAGE = "de"  # the sample release is German: written only for a German source
NOTE = "NEXT-STEPS.md"
WIDTH = 86  # the note's lines
HEADER = "email,name,language,tags,organization,consent_source,consent_at\n"
PRESS_HEADER = "email,name,language,tags,organization,outlet,beat,consent_source,consent_at\n"
GITIGNORE = """\
# the ledger, the keys and the locks: back them up, never commit them
state/
# what the commands rebuild
build/
outbox/
site/
.site.new/
.site.old/
*.mo
"""
GLOSSARY = """\
# Terms machine translation must leave as they are (names, places, programmes),
# one per line; '#' starts a comment.
"""


@dataclass(frozen=True)
class Options:
    """What the officer gave; anything left empty keeps its placeholder (TODO)."""

    name: str = ""
    address: str = ""  # "Street 1, 12345 City"
    sender: str = ""
    source: str = "de"
    targets: tuple[str, ...] = ("en",)
    lists: tuple[str, ...] = DEFAULT_LISTS  # "name" or "name:reason"


@dataclass(frozen=True)
class Written:
    path: Path
    action: str  # "created", "replaced" (with --force) or "kept" (the association's data)


@dataclass(frozen=True)
class Started:
    workspace: Workspace
    files: tuple[Written, ...]
    placeholders: tuple[str, ...]  # keys of newsletter.toml still to fill in
    sample: str  # the sample release's id, or "" (no German source)
    no_ui_strings: tuple[str, ...]  # languages the package has no mail or page strings for

    @property
    def try_it(self) -> str:
        """The preview command to try the sample with ("" without a sample)."""
        return try_command(self.sample, self.workspace.config.languages.all,
                           self.no_ui_strings)


def try_command(sample: str, langs: tuple[str, ...], no_ui_strings: tuple[str, ...]) -> str:
    """``newsletter preview SAMPLE``, limited with --lang to the languages that have
    interface strings: previews refuse the others, so the command would fail."""
    if not sample:
        return ""
    limit = "".join(f" --lang {c}" for c in langs if c not in no_ui_strings)
    return f"newsletter preview {sample}{limit if no_ui_strings else ''}"


def _lists(specs: tuple[str, ...]) -> tuple[ListSpec, ...]:
    out: list[ListSpec] = []
    for spec in specs:
        name, _, reason = spec.partition(":")
        name, reason = name.strip(), reason.strip() or "subscriber"
        if not LIST_NAME.match(name) or name == BUILTIN_LIST:
            raise ConfigError(f"--list {spec!r}: a list name is lower-case letters, digits, "
                              f"'-' and '_' (and not {BUILTIN_LIST!r}, the web sign-ups)")
        if reason not in LIST_REASONS:
            raise ConfigError(f"--list {spec!r}: the reason is one of {', '.join(LIST_REASONS)}")
        if any(s.name == name for s in out):
            raise ConfigError(f"--list {name!r} is given twice")
        out.append(ListSpec(name, reason))
    return tuple(out)


def _checked(options: Options) -> dict:
    """The options as fill_config takes them; every mistake is one clear error."""
    if any(c in options.name for c in "\r\n"):
        raise ConfigError("--name must be a single line")
    sender = ""
    if options.sender:
        try:
            sender = normalize_address(options.sender)
        except AddressError as err:
            raise ConfigError(f"--sender {options.sender!r} is not an email address "
                              f"({err})") from err
    source = _language("--source", options.source)
    targets = tuple(_language("--target", code) for code in options.targets)
    if source in targets or len(set(targets)) != len(targets):
        raise ConfigError("--target: each target language once, and not the source language")
    return {"name": options.name.strip(), "sender": sender, "source": source,
            "targets": targets, "lists": _lists(options.lists or DEFAULT_LISTS),
            "address": parse_address(options.address) if options.address else None}


def _language(option: str, code: str) -> str:
    try:
        return language(code).code
    except LanguageError as err:
        raise ConfigError(f"{option} {code!r}: {err.message}") from err


def init_workspace(folder: Path | str, options: Options, *, force: bool = False) -> Started:
    """Write a working workspace into ``folder``: newsletter.toml from the package's
    template, empty recipient lists, a sample release, a note of the next steps.

    An existing workspace is refused unless ``force``; even then the association's
    data (recipient lists, the glossary, .gitignore) is kept as it is. Nothing is
    written outside ``folder``.
    """
    values = _checked(options)
    root = Path(folder).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise WorkspaceError("not a folder", path=root)
    config = root / CONFIG_NAME
    if config.exists() and not force:
        raise WorkspaceError("a workspace is already here: pass --force to "
                             "write newsletter.toml, the note and the sample release again",
                             path=config)
    lists: tuple[ListSpec, ...] = values["lists"]
    sample = SAMPLE_ID if values["source"] == SAMPLE_LANGUAGE else ""
    # (file, content, the association's data: never overwritten)
    plan: list[tuple[str, str, bool]] = [
        (CONFIG_NAME, fill_config(config_template().read_text(encoding="utf-8"), **values),
         False),
        *((spec.file, PRESS_HEADER if spec.reason == "press" else HEADER, True)
          for spec in lists),
        ("locales/glossary.txt", GLOSSARY + (f"{values['name']}\n" if values["name"] else ""),
         True),
        (".gitignore", GITIGNORE, True),
        (NOTE, _note(values, sample), False),
    ]
    if sample:
        plan.append((f"releases/{sample}.md", _sample_release(values["address"]), False))
    targets = [(resolve_inside(root, rel, what="file"), text, data) for rel, text, data in plan]
    if not force:
        existing = [path for path, _, _ in targets if path.exists()]
        if existing:
            raise WorkspaceError(f"{len(existing)} file(s) would be overwritten, first "
                                 f"{existing[0]}: pass --force to write them again (recipient "
                                 "lists and the glossary are kept even then)", path=root)
    written = []
    for path, text, data in targets:
        if path.exists() and data:
            written.append(Written(path, "kept"))
            continue
        action = "replaced" if path.exists() else "created"
        atomic_write(path, text.encode("utf-8"))
        written.append(Written(path, action))
    for folder_name in ("releases", "recipients", "locales"):
        resolve_inside(root, folder_name, what="folder").mkdir(exist_ok=True)
    ws = load_workspace(root)  # what was written must read back: else this is a bug
    if sample:
        load_release(ws.releases_dir / f"{sample}.md", ws.root,
                     timezone=ws.config.delivery.timezone)
    missing = tuple(c for c in ws.config.languages.all if c not in _shipped())
    if missing:  # the catalogs for its translators, started empty
        written += [Written(r.path, r.action) for r in extract(ws, (), ui=True)
                    if r.language in missing and r.action != "unchanged"]
    return Started(ws, tuple(written), ws.config.placeholders, sample, missing)


def _sample_release(address: Address | None) -> str:
    """The sample release, its dateline in the association's own city when it was given."""
    text = sample_release().read_text(encoding="utf-8")
    if address is None:
        return text
    # a JSON string is a YAML string too: any city name stays one value
    return text.replace("\nlocation: Musterstadt\n",
                        f"\nlocation: {json.dumps(address.city, ensure_ascii=False)}\n", 1)


def _note(values: dict, sample: str) -> str:
    langs = (values["source"], *values["targets"])
    missing = [c for c in langs if c not in _shipped()]
    languages = textwrap.fill(
        f"The package has no interface strings for {_named(missing)} yet: have "
        "`locales/<lang>/LC_MESSAGES/messages.po` (the mails) and `web.po` (the web pages) "
        "translated. Until then previews and mails refuse the language; after changing "
        "templates or languages, `newsletter extract --ui` brings these files up to date.",
        WIDTH) + "\n\n" if missing else ""
    sample_line = textwrap.fill(
        f"`releases/{sample}.md` is a short sample to try the commands on: "
        f"`{try_command(sample, langs, tuple(missing))}`.", WIDTH, initial_indent="   ",
        subsequent_indent="   ") if sample else ""
    return string.Template(next_steps().read_text(encoding="utf-8")).substitute(
        name=values["name"] or "your association",
        sample=f"\n{sample_line}" if sample_line else "", languages=languages)


def _shipped() -> set[str]:
    """The languages the package has the mails' and the web pages' strings for."""
    return set(package_languages(DOMAIN)) & set(package_languages(WEB_DOMAIN))


def _named(codes: list[str]) -> str:
    return ", ".join(f"{c} ({language(c).native_name})" for c in codes)
