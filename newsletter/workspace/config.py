"""The workspace and its ``newsletter.toml``, loaded into typed, frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.errors import WorkspaceError
from newsletter.workspace.defaults import package_templates

CONFIG_NAME = "newsletter.toml"
WORKSPACE_ENV = "NEWSLETTER_WORKSPACE"
TRANSPORTS = ("outbox", "smtp", "sendgrid")
POLICIES = ("reviewed", "machine")
ENGINE_NAMES = ("google", "libre", "mymemory", "microsoft", "deepl")
# What 'newsletter init' writes where nothing was given; no real mail goes out while a
# value of newsletter.toml still holds it (the outbox transport works meanwhile).
PLACEHOLDER = "TODO"
# Why the people of a list get our mail, said per recipient in the footer of every message:
# a member club, a journalist on the press list, or someone who asked for it.
LIST_REASONS = ("member", "press", "subscriber")


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str
    extra: str = ""  # a building or centre name printed above the street
    country: str = ""

    def lines(self) -> tuple[str, ...]:
        out = [self.extra] if self.extra else []
        out += [self.street, f"{self.postal_code} {self.city}"]
        if self.country:
            out.append(self.country)
        return tuple(out)


@dataclass(frozen=True)
class Organization:
    """What the Impressum (German TMG/DDG § 5) needs, plus links."""

    name: str
    legal_form: str
    address: Address
    register_court: str
    register_number: str
    board: tuple[str, ...]
    email: str
    website: str
    imprint_url: str
    privacy_url: str
    about: str = ""  # "About us" (Über uns), in the source language; translated in about.po

    @property
    def full_name(self) -> str:
        if self.legal_form and not self.name.endswith(self.legal_form):
            return f"{self.name} {self.legal_form}"
        return self.name

    @property
    def publisher(self) -> str:
        """Who publishes the releases, for the line "Published by ...": name and address."""
        return ", ".join((self.full_name, *self.address.lines()))


@dataclass(frozen=True)
class Sender:
    from_name: str
    from_address: str
    reply_to: str


@dataclass(frozen=True)
class Languages:
    source: str
    targets: tuple[str, ...]
    fallback: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # "reviewed" (default): only reviewed entries are sent; "machine": machine drafts
    # may be sent, with a visible notice in the edition
    policy: Mapping[str, str] = field(default_factory=dict)

    def policy_for(self, lang: str) -> str:
        return self.policy.get(lang, "reviewed")

    @property
    def all(self) -> tuple[str, ...]:
        """Source first, then the targets in configured order."""
        return (self.source, *self.targets)

    def chain(self, lang: str) -> tuple[str, ...]:
        """The languages to try for a reader of ``lang``: itself, its chain, then the source."""
        out = [lang, *self.fallback.get(lang, ())]
        if self.source not in out:
            out.append(self.source)
        # keep order, drop repeats
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Mailbox:
    """[web.mailbox]: the IMAP mailbox behind unsubscribe_mailto (password: IMAP_PASSWORD)."""

    host: str
    username: str
    port: int = 993
    security: str = "tls"  # "tls" (implicit), "starttls", or "none" (loopback hosts only)
    folder: str = "INBOX"
    ca_file: str = ""  # a private CA for the server's certificate, if any
    processed_folder: str = ""  # handled mails move here; without it they stay, marked read
    timeout: float = 30.0

    @property
    def address(self) -> str:
        """Where the mailbox is, for messages: never the password."""
        scheme = "imaps" if self.security == "tls" else "imap"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.folder}"


@dataclass(frozen=True)
class Web:
    """Where readers land: the web archive ("read online"), the web app and its pages."""

    archive_url: str  # <archive_url><release-id>/<lang>.html
    unsubscribe_url: str  # <unsubscribe_url>?t=<token>
    unsubscribe_mailto: str
    public_url: str = ""  # the web app's external base, ends with '/'
    topics: dict[str, dict[str, str]] = field(default_factory=dict)  # tag -> lang -> label
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)  # whose X-Forwarded-For is believed
    source_url: str = "https://example.org/newsletter-source"  # AGPL: where the code is
    # After 'forget': keep the consent trail as proof (the default) or delete it too.
    consent_after_erasure: str = "keep"
    mailbox: Mailbox | None = None  # None: mailto unsubscribes are not polled
    # the admin pages: a session ends after this long without a request, and in any case
    # this many hours after the login (a forgotten browser in a club's office)
    admin_idle_minutes: float = 30.0
    admin_session_hours: float = 12.0

    def page(self, route: str) -> str:
        """An absolute URL of the web app (``route`` relative to public_url)."""
        return f"{self.public_url}{route}"

    def view_online(self, release_id: str, lang: str) -> str:
        return f"{self.archive_url}{release_id}/{lang}.html"

    def calendar(self, release_id: str, lang: str) -> str:
        """The .ics file of a release's event, published beside its page."""
        return f"{self.archive_url}{release_id}/{lang}.ics"


@dataclass(frozen=True)
class Smtp:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"  # "starttls", "tls" (implicit) or "none"
    username: str = ""  # the password comes only from SMTP_PASSWORD
    rate: float = 5.0  # messages per second (token bucket)
    timeout: float = 30.0
    ca_file: str = ""  # a private CA for the server's certificate, if any
    retry_after: float = 60.0  # seconds before 4xx-deferred messages are tried again


@dataclass(frozen=True)
class SendGrid:
    host: str = "https://api.sendgrid.com"  # or https://api.eu.sendgrid.com
    categories: tuple[str, ...] = ()
    asm_group_id: int | None = None  # unsubscribe group
    timeout: float = 30.0
    max_wait: float = 120.0  # longest wait for a rate limit before stopping the run
    retries: int = 4


@dataclass(frozen=True)
class Delivery:
    transport: str
    outbox: Path
    attachment_budget_mb: float = 10.0
    timezone: str = "Europe/Berlin"  # for --at times written without a UTC offset
    smtp: Smtp = field(default_factory=Smtp)
    sendgrid: SendGrid = field(default_factory=SendGrid)


@dataclass(frozen=True)
class Translation:
    engine: str = "google"
    libretranslate_url: str = ""
    timeout: float = 20.0
    retries: int = 3


@dataclass(frozen=True)
class ListInfo:
    """What a list of [lists] is to its readers: why they get mail, and its name per language.

    A list written as ``name = "file.csv"`` has no names of its own: it is called by its
    key in every language, and its people are subscribers."""

    reason: str = "subscriber"  # one of LIST_REASONS
    names: Mapping[str, str] = field(default_factory=dict)  # language -> display name

    def name(self, key: str, lang: str) -> str:
        return self.names.get(lang) or key


@dataclass(frozen=True)
class Config:
    organization: Organization
    sender: Sender
    languages: Languages
    lists: Mapping[str, Path]
    delivery: Delivery
    web: Web
    translation: Translation = field(default_factory=Translation)
    list_info: Mapping[str, ListInfo] = field(default_factory=dict)  # by list name
    placeholders: tuple[str, ...] = ()  # the dotted keys whose values still hold PLACEHOLDER

    def list_of(self, name: str) -> ListInfo:
        return self.list_info.get(name) or ListInfo()


@dataclass(frozen=True)
class Workspace:
    """A folder holding newsletter.toml, releases/, locales/, recipients/ and, where it
    changes any, its own templates/ (the package's serve the rest)."""

    root: Path
    config: Config

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    @property
    def locales_dir(self) -> Path:
        return self.root / "locales"

    @property
    def templates_dir(self) -> Path:
        """The workspace's own templates: each file here replaces the package's."""
        return self.root / "templates"

    @property
    def template_dirs(self) -> tuple[Path, ...]:
        """Where templates are looked up, file by file: the workspace's, then the package's."""
        return (self.templates_dir, package_templates())

    def template_file(self, name: str) -> Path:
        """A file of the templates (a stylesheet, a script) by its name below templates/:
        the workspace's own if it has one, else the package's."""
        own = self.templates_dir / name
        return own if own.is_file() else package_templates() / name

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def state_dir(self) -> Path:
        """The ledger, the keys and the locks: back it up, never commit it."""
        return self.root / "state"

    def inside(self, path: Path | str, *, what: str = "path") -> Path:
        """Resolve ``path`` against the root and refuse anything that leaves the workspace."""
        return resolve_inside(self.root, path, what=what)

    def operator_path(self, path: Path | str) -> Path:
        """A path the operator typed (--out, --outbox, --csv): anywhere they can write.

        The workspace boundary is for paths named inside releases and newsletter.toml,
        which are content; a relative path here is still taken from the workspace.
        """
        candidate = Path(path).expanduser()
        return (candidate if candidate.is_absolute() else self.root / candidate).resolve()

    def relative(self, path: Path) -> str:
        """A path as shown to users and written into catalogs: relative, with slashes."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def resolve_inside(root: Path, path: Path | str, *, what: str = "path") -> Path:
    """Resolve ``path`` (relative to ``root``) following symlinks; it must stay under root."""
    root = root.resolve()
    candidate = Path(path)
    full = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if not full.is_relative_to(root):
        raise WorkspaceError(f"{what} {str(path)!r} leaves the workspace {root}")
    return full
