"""Reading newsletter.toml into the typed configuration; every error names file and key."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError, WorkspaceError
from newsletter.workspace.addresses import AddressError, normalize_address
from newsletter.workspace.config import (
    CONFIG_NAME,
    ENGINE_NAMES,
    LIST_REASONS,
    PLACEHOLDER,
    POLICIES,
    TRANSPORTS,
    WORKSPACE_ENV,
    Address,
    Config,
    Delivery,
    Languages,
    ListInfo,
    Organization,
    Sender,
    SendGrid,
    Smtp,
    Translation,
    Web,
    Workspace,
    resolve_inside,
)
from newsletter.workspace.imap_settings import mailbox_settings
from newsletter.workspace.tomltable import TableReader, type_name

BUILTIN_LIST = "web"  # confirmed sign-ups of the web app, kept in the ledger


def find_workspace(explicit: Path | str | None = None) -> Path:
    """The workspace folder: ``--workspace``, else ``$NEWSLETTER_WORKSPACE``, else the cwd."""
    chosen = explicit or os.environ.get(WORKSPACE_ENV) or "."
    root = Path(chosen).expanduser().resolve()
    if not (root / CONFIG_NAME).is_file():
        raise WorkspaceError(
            f"no {CONFIG_NAME} in {root}; pass --workspace DIR or set {WORKSPACE_ENV}"
        )
    return root


def load_workspace(explicit: Path | str | None = None) -> Workspace:
    root = find_workspace(explicit)
    return Workspace(root=root, config=load_config(root / CONFIG_NAME))


def load_config(file: Path) -> Config:
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError("file not found", path=file) from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 text ({err.reason})", path=file) from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", path=file) from err
    top = TableReader(file, raw)
    top.only("organization", "sender", "languages", "lists", "delivery", "web", "translation")
    root = file.parent.resolve()
    languages = _languages(top.table("languages"))
    lists, list_info = _lists(top.table("lists"), root, languages.all)
    return Config(
        organization=_organization(top.table("organization")),
        sender=_sender(top.table("sender")),
        languages=languages,
        lists=lists,
        list_info=list_info,
        delivery=_delivery(top.table("delivery"), root),
        web=_web(top.table("web"), languages.all),
        translation=_translation(top.table("translation", required=False)),
        placeholders=placeholder_keys(raw),
    )


def placeholder_keys(data: Mapping[str, Any], prefix: str = "") -> tuple[str, ...]:
    """The dotted keys whose values (a string, or a string of a list) still hold the
    placeholder 'newsletter init' writes where it was given nothing."""
    found: list[str] = []
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            found += placeholder_keys(value, f"{key}.")
        elif any(isinstance(v, str) and PLACEHOLDER in v
                 for v in (value if isinstance(value, list) else [value])):
            found.append(key)
    return tuple(found)


def _organization(t: TableReader) -> Organization:
    t.only(
        "name", "legal_form", "address", "register_court", "register_number", "board",
        "email", "website", "imprint_url", "privacy_url", "about",
    )
    about = t.data.get("about", "")
    if not isinstance(about, str):
        raise t.fail("about", f"expected a string, got {type_name(about)}")
    a = t.table("address")
    a.only("extra", "street", "postal_code", "city", "country")
    for url_key in ("website", "imprint_url", "privacy_url"):
        if not t.str(url_key).startswith("https://"):
            raise t.fail(url_key, "must be an https:// URL")
    board = t.str_list("board")
    if not board:
        raise t.fail("board", "name at least one board member (required in the Impressum)")
    return Organization(
        name=t.str("name"),
        legal_form=t.str("legal_form", required=False),
        address=Address(
            street=a.str("street"),
            postal_code=a.str("postal_code"),
            city=a.str("city"),
            extra=a.str("extra", required=False),
            country=a.str("country", required=False),
        ),
        register_court=t.str("register_court"),
        register_number=t.str("register_number"),
        board=board,
        email=_email(t, "email"),
        website=t.str("website"),
        imprint_url=t.str("imprint_url"),
        privacy_url=t.str("privacy_url"),
        # a paragraph: a long TOML string may be written over several lines
        about=" ".join(about.split()),
    )


def _email(t: TableReader, name: str) -> str:
    value = t.str(name)
    try:
        return normalize_address(value)
    except AddressError as err:
        raise t.fail(name, f"not an email address: {value!r} ({err})") from err


def _sender(t: TableReader) -> Sender:
    t.only("from_name", "from_address", "reply_to")
    return Sender(
        from_name=t.str("from_name"),
        from_address=_email(t, "from_address"),
        reply_to=_email(t, "reply_to"),
    )


def _languages(t: TableReader) -> Languages:
    t.only("source", "targets", "fallback", "policy")
    source = t.lang("source", t.str("source"))
    targets = tuple(t.lang("targets", code) for code in t.str_list("targets"))
    if source in targets:
        raise t.fail("targets", f"the source language {source!r} is not a target")
    if len(set(targets)) != len(targets):
        raise t.fail("targets", "a language is listed twice")
    fb = t.table("fallback", required=False)
    known = {source, *targets}
    fallback: dict[str, tuple[str, ...]] = {}
    for lang_key in fb.data:
        lang = fb.lang(lang_key, lang_key)
        if lang not in targets:
            raise fb.fail(lang_key, "fallback chain for a language that is not a target")
        chain = tuple(fb.lang(lang_key, code) for code in fb.str_list(lang_key))
        for code in chain:
            if code not in known:
                raise fb.fail(lang_key, f"{code!r} is neither the source nor a target language")
            if code == lang:
                raise fb.fail(lang_key, "a language cannot fall back to itself")
        fallback[lang] = chain
    pol = t.table("policy", required=False)
    policy: dict[str, str] = {}
    for lang_key in pol.data:
        lang = pol.lang(lang_key, lang_key)
        if lang not in targets:
            raise pol.fail(lang_key, "policy for a language that is not a target")
        value = pol.str(lang_key)
        if value not in POLICIES:
            raise pol.fail(lang_key, f"policy must be one of {', '.join(POLICIES)}, "
                                     f"got {value!r}")
        policy[lang] = value
    return Languages(source=source, targets=targets, fallback=fallback, policy=policy)


def _translation(t: TableReader) -> Translation:
    t.only("engine", "libretranslate_url", "timeout", "retries")
    engine = t.str("engine", required=False, default="google")
    if engine not in ENGINE_NAMES:
        raise t.fail("engine", f"unknown engine {engine!r} (one of {', '.join(ENGINE_NAMES)})")
    timeout = t.data.get("timeout", 20.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not (
            0 < timeout <= 300):
        raise t.fail("timeout", "seconds between 0 and 300")
    retries = t.data.get("retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise t.fail("retries", "a whole number from 0 to 10")
    return Translation(engine=engine,
                       libretranslate_url=t.str("libretranslate_url", required=False),
                       timeout=float(timeout), retries=retries)


def _lists(t: TableReader, root: Path, languages: tuple[str, ...]
           ) -> tuple[dict[str, Path], dict[str, ListInfo]]:
    """[lists]: ``name = "file.csv"``, or a table with ``file``, ``reason`` and ``names``."""
    paths: dict[str, Path] = {}
    info: dict[str, ListInfo] = {}
    for name in t.data:
        if name == BUILTIN_LIST:
            raise t.fail(name, f"{BUILTIN_LIST!r} is the built-in list of the web sign-ups; "
                               "give this list another name")
        if isinstance(t.data[name], dict):
            table = t.table(name)
            table.only("file", "reason", "names")
            rel = table.str("file")
            info[name] = _list_info(table, languages)
            where, key = table, "file"
        else:
            rel = t.str(name)
            where, key = t, name
        try:
            path = resolve_inside(root, rel, what=f"list {name!r}")
        except WorkspaceError as err:
            raise where.fail(key, err.message) from err
        if not path.is_file():
            raise where.fail(key, f"file not found: {rel}")
        paths[name] = path
    return paths, info


def _list_info(t: TableReader, languages: tuple[str, ...]) -> ListInfo:
    reason = t.str("reason", required=False, default="subscriber")
    if reason not in LIST_REASONS:
        raise t.fail("reason", f"one of {', '.join(LIST_REASONS)}, got {reason!r}")
    names = t.table("names", required=False)
    for lang in names.data:
        names.lang(lang, lang)
    if names.data:
        missing = [lang for lang in languages if lang not in names.data]
        if missing:
            raise t.fail("names", f"no name for {', '.join(missing)}")
    return ListInfo(reason=reason, names={lang: names.str(lang) for lang in names.data})


def _https(t: TableReader, name: str) -> str:
    value = t.str(name)
    if not value.startswith("https://") or any(c.isspace() or c in '<>"' for c in value):
        raise t.fail(name, f"must be an https:// URL without spaces or quotes, got {value!r}")
    return value


def _web(t: TableReader, languages: tuple[str, ...]) -> Web:
    t.only("archive_url", "unsubscribe_url", "unsubscribe_mailto", "public_url", "topics",
           "trusted_proxies", "source_url", "consent_after_erasure", "mailbox",
           "admin_idle_minutes", "admin_session_hours")
    retention = t.str("consent_after_erasure", required=False, default="keep")
    if retention not in ("keep", "delete"):
        raise t.fail("consent_after_erasure", f"must be 'keep' or 'delete', got {retention!r}")
    archive = _https(t, "archive_url")
    if not archive.endswith("/"):
        raise t.fail("archive_url", "must end with '/' (pages live below it)")
    public = _app_url(t, "public_url") if "public_url" in t.data else ""
    if public and not public.endswith("/"):
        raise t.fail("public_url", "must end with '/' (the pages live below it)")
    if "unsubscribe_url" in t.data or not public:
        unsubscribe = _app_url(t, "unsubscribe_url")
    else:
        unsubscribe = f"{public}unsubscribe"
    if "?" in unsubscribe or "#" in unsubscribe:
        raise t.fail("unsubscribe_url", "must not contain '?' or '#' (the token is appended)")
    return Web(archive_url=archive, unsubscribe_url=unsubscribe,
               unsubscribe_mailto=_email(t, "unsubscribe_mailto"), public_url=public,
               topics=_topics(t.table("topics", required=False), languages),
               trusted_proxies=_proxies(t),
               source_url=_https(t, "source_url") if "source_url" in t.data
               else Web.source_url, consent_after_erasure=retention,
               mailbox=mailbox_settings(t.table("mailbox")) if "mailbox" in t.data else None,
               admin_idle_minutes=_number(t, "admin_idle_minutes", 30, 1, 24 * 60),
               admin_session_hours=_number(t, "admin_session_hours", 12, 0.1, 24 * 7))


def _proxies(t: TableReader) -> tuple[str, ...]:
    """The proxies whose X-Forwarded-For is believed: addresses or networks, never all
    (then anyone could write any address into the consent record and get around the
    per-address limits of the sign-up form and the login)."""
    found = t.str_list("trusted_proxies", required=False) or ("127.0.0.1",)
    for entry in found:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if entry == "*":
                raise t.fail("trusted_proxies", "'*' would believe every client's "
                             "X-Forwarded-For: name the TLS proxy's address or network, "
                             'e.g. ["127.0.0.1"] or ["10.0.0.0/8"]') from None
            raise t.fail("trusted_proxies", f"{entry!r} is not an IP address or network "
                         '(e.g. "127.0.0.1", "10.0.0.0/8", "::1")') from None
        if network.prefixlen == 0:
            raise t.fail("trusted_proxies", f"{entry!r} is every address, like '*': name "
                         "the TLS proxy's address or network")
    return found


def _app_url(t: TableReader, name: str) -> str:
    """https, or http only to a loopback host (tests and local trials)."""
    value = t.str(name)
    parts = urlsplit(value)
    loopback = parts.hostname == "localhost"
    with contextlib.suppress(ValueError):  # a name, not an address
        loopback = loopback or ipaddress.ip_address(parts.hostname or "").is_loopback
    if any(c.isspace() or c in '<>"' for c in value) or not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise t.fail(name, f"must be an https:// URL (http:// only for a loopback host), "
                           f"got {value!r}")
    return value


def _topics(t: TableReader, languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """[web.topics] tag = { de = "…", en = "…" }: every language needs its label."""
    out = {}
    for tag in t.data:
        labels = t.table(tag)
        for lang in labels.data:
            labels.lang(lang, lang)
        missing = [lang for lang in languages if lang not in labels.data]
        if missing:
            raise t.fail(tag, f"no label for {', '.join(missing)}")
        out[tag] = {lang: labels.str(lang) for lang in labels.data}
    return out


def _number(t: TableReader, name: str, default: float, low: float, high: float) -> float:
    value = t.data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise t.fail(name, f"a number from {low:g} to {high:g}")
    return float(value)


def _smtp(t: TableReader) -> Smtp:
    t.only("host", "port", "security", "username", "rate", "timeout", "ca_file", "retry_after")
    security = t.str("security", required=False, default="starttls")
    if security not in ("starttls", "tls", "none"):
        raise t.fail("security", "one of starttls, tls, none")
    return Smtp(host=t.str("host", required=False, default="localhost"),
                port=int(_number(t, "port", 587, 1, 65535)), security=security,
                username=t.str("username", required=False),
                rate=_number(t, "rate", 5.0, 0.01, 10000),
                timeout=_number(t, "timeout", 30, 1, 600),
                ca_file=t.str("ca_file", required=False),
                retry_after=_number(t, "retry_after", 60, 0, 3600))


def sendgrid_host_problem(url: str) -> str:
    """Why ``url`` is no safe SendGrid API base ("" when it is): the API key travels in
    every request, so only https, or plain http to this machine (a local fake API).

    Parsed, not prefix-matched: ``http://127.0.0.1.evil.example`` is a remote host."""
    if any(c <= " " or c == "\x7f" for c in url):  # urlsplit quietly drops some of them
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not contain a user name or password (the key goes in a header)"
    if parts.path not in ("", "/") or parts.query or parts.fragment or url.endswith(("?", "#")):
        return "must be the bare API address, without path, query or fragment"
    if parts.scheme == "http":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host.lower() == "localhost"
        if not loopback:
            return "must be an https:// URL (plain http only to 127.0.0.1, ::1 or localhost)"
    return ""


def _sendgrid(t: TableReader) -> SendGrid:
    t.only("host", "categories", "asm_group_id", "timeout", "max_wait", "retries")
    host = t.str("host", required=False, default="https://api.sendgrid.com")
    problem = sendgrid_host_problem(host)
    if problem:
        raise t.fail("host", problem)
    categories = t.str_list("categories", required=False)
    if len(categories) > 10:
        raise t.fail("categories", "SendGrid allows at most 10 categories")
    group = t.data.get("asm_group_id")
    if group is not None and (isinstance(group, bool) or not isinstance(group, int)):
        raise t.fail("asm_group_id", "a whole number (the unsubscribe group's id)")
    return SendGrid(host=host, categories=categories, asm_group_id=group,
                    timeout=_number(t, "timeout", 30, 1, 600),
                    max_wait=_number(t, "max_wait", 120, 0, 86400),
                    retries=int(_number(t, "retries", 4, 0, 20)))


def _delivery(t: TableReader, root: Path) -> Delivery:
    t.only("transport", "outbox", "attachment_budget_mb", "timezone", "smtp", "sendgrid")
    zone = t.str("timezone", required=False, default="Europe/Berlin")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise t.fail("timezone", f"unknown time zone {zone!r} (e.g. Europe/Berlin)") from err
    transport = t.str("transport")
    if transport not in TRANSPORTS:
        known = ", ".join(TRANSPORTS)
        raise t.fail("transport", f"unknown transport {transport!r} (one of {known})")
    try:
        outbox = resolve_inside(root, t.str("outbox", required=False, default="outbox"))
    except WorkspaceError as err:
        raise t.fail("outbox", err.message) from err
    return Delivery(transport=transport, outbox=outbox,
                    attachment_budget_mb=_number(t, "attachment_budget_mb", 10, 0, 25),
                    timezone=zone,
                    smtp=_smtp(t.table("smtp", required=False)),
                    sendgrid=_sendgrid(t.table("sendgrid", required=False)))
