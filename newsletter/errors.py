"""The one error hierarchy of the package.

Every failure a user can cause or fix is a ``NewsletterError``; the CLI catches
only that base class and prints its message without a traceback. Anything else
escaping is a bug and should show one.

    NewsletterError
    ├── ConfigError            newsletter.toml is missing, malformed or inconsistent
    ├── WorkspaceError         a path leaves the workspace or a required file is missing
    ├── ReleaseError           a release file cannot be parsed (carries file:line)
    ├── ImportError_           a text, Word or HTML file cannot be imported as a release
    │   ├── AlreadyExists      the release file exists: replacing it must be asked for
    │   └── ImportRefused      refused unread or half-read: damaged, a DTD, too slow
    │       └── ImportTooLarge too large unpacked, too many parts or paragraphs, too much memory
    ├── CatalogError           a PO/POT catalog cannot be read or written (carries file:line)
    │   └── CatalogBusy        another process held the catalog's lock too long: try again
    ├── LanguageError          an unknown language code, or a language without UI strings
    ├── RenderError            a template is missing or fails to render
    ├── RecipientError         a recipient list cannot be read, or has invalid rows
    ├── AudienceError          the selection is empty or names an unknown list
    ├── SecretError            NEWSLETTER_SECRET is missing where it is required
    ├── StateError             state/ is missing, damaged, unwritable or does not belong together
    │   ├── LedgerLost         the ledger lost campaigns, rows or suppressions state/ recorded
    │   └── LedgerBusy         another process held the ledger's write lock too long: try again
    ├── HookError              a provider's post (webhook, inbound mail) is malformed
    │   └── SignatureRejected  a webhook post without a valid signature
    ├── DeliveryError          a message could not be handed to the transport
    │   ├── CampaignLocked     another process is sending the same campaign
    │   ├── TransportStop      the transport stops the run cleanly; a later run continues
    │   └── Unsupported        the transport cannot do an optional feature that was asked for
    ├── EmbargoError           a release under embargo was to leave before its time
    ├── MailboxError           the unsubscribe mailbox (IMAP) is unreachable or refuses us
    ├── FormError              fields of a web form are missing or invalid (names them)
    ├── TokenError             a link's token is forged, altered, expired or of another kind
    ├── RateLimited            too many requests from one place in a short time
    ├── AccountError           a user account cannot be added or changed (name, password)
    ├── AccessError            the admin pages refuse a request
    │   ├── NotSignedIn        no valid session: none, forged, idle, expired or ended
    │   ├── LoginFailed        wrong name or password (one message for both)
    │   └── Forbidden          signed in, but not allowed: wrong role or language
    └── EngineError            a machine translation engine failed
        ├── EngineUnavailable  unreachable, timing out or overloaded after retries: stop the run
        └── EngineRejected     refused this one segment (4xx, empty answer): go on

The web app maps these at its boundary (FormError 422, TokenError 400, RateLimited 429,
ConfigError 500; on the admin pages NotSignedIn 401 or the login page, LoginFailed 401,
Forbidden 403); the core never speaks HTTP.

Configuration problems of an engine (missing key, unsupported language) are
``ConfigError``s: they are reported before any call is made.

Errors that point into a file carry ``path`` and ``line`` so the message reads
``releases/x.md:12: unknown front-matter key 'titel'``.
"""

from __future__ import annotations

from pathlib import Path


class NewsletterError(Exception):
    """Base of every error a user can cause or fix."""

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = str(self.path)
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class ConfigError(NewsletterError, ValueError):
    """The workspace configuration is missing, malformed or inconsistent."""


class WorkspaceError(NewsletterError):
    """A path leaves the workspace, or a file the workspace needs is missing."""


class ReleaseError(NewsletterError, ValueError):
    """A release file cannot be parsed."""


class ImportError_(NewsletterError, ValueError):
    """A file given to ``newsletter import`` cannot be read or turned into a release.

    The trailing underscore keeps Python's own ``ImportError`` (a failed ``import``
    statement) unshadowed wherever both are in sight.
    """


class AlreadyExists(ImportError_):
    """The release (or one of its images) exists: replacing it must be asked for."""


class ImportRefused(ImportError_):
    """A file the importer will not read (further): a damaged archive, XML with a DTD
    (entity bombs), or reading that took longer than allowed."""


class ImportTooLarge(ImportRefused):
    """A file that is, or unpacks to, more than the importer reads: too many bytes,
    archive parts or paragraphs, or more memory than the reading may take."""


class CatalogError(NewsletterError):
    """A gettext catalog cannot be read, checked or written."""


class CatalogBusy(CatalogError):
    """Another process (a reviewer's save, ``translate``, ``extract``) held the catalog's
    lock for longer than the caller would wait. Nothing was written; try again."""


class LanguageError(NewsletterError, ValueError):
    """An unknown language code, or a language without complete UI strings."""


class RenderError(NewsletterError):
    """A template is missing or fails to render."""


class RecipientError(NewsletterError, ValueError):
    """A recipient list cannot be read, or has invalid rows."""


class AudienceError(NewsletterError, ValueError):
    """The audience selection names an unknown list or selects nobody."""


class SecretError(NewsletterError):
    """The signing secret is missing or too weak where it is required."""


class StateError(NewsletterError):
    """The state folder (address key, ledger) is missing, damaged, unwritable or mixed up.

    Never answered by deleting anything: the ledger is the memory of who got what,
    who unsubscribed and who was erased; the advice is to restore state/ from the backup.
    """


class LedgerLost(StateError):
    """The ledger lacks campaigns, delivery rows or suppressions that state/ records it
    held (emptied with SQL, or restored from an older copy): nothing may be sent."""


class LedgerBusy(StateError):
    """Another process held the ledger's write lock for longer than the caller would wait.

    Nothing was written; the same request can simply be made again (a web hook answers
    503 so that the provider retries).
    """


class HookError(NewsletterError, ValueError):
    """A post from a mail provider (webhook, inbound mail) that cannot be read."""


class SignatureRejected(HookError):
    """A webhook post whose signature is missing or does not verify."""


class DeliveryError(NewsletterError):
    """A message could not be handed to the transport."""


class EmbargoError(NewsletterError):
    """A release under embargo was to be sent or published before its time."""


class MailboxError(NewsletterError):
    """The unsubscribe mailbox cannot be reached, refuses the login, or cannot be read."""


class EngineError(NewsletterError):
    """A machine translation engine failed."""


class EngineUnavailable(EngineError):
    """The engine cannot be reached or keeps failing after retries; the run stops."""


class EngineRejected(EngineError):
    """The engine refused one segment; other segments may still work."""


class FormError(NewsletterError, ValueError):
    """Fields of a web form are missing or invalid; ``fields`` name them for the page."""

    def __init__(self, fields: str | tuple[str, ...], message: str):
        self.fields = (fields,) if isinstance(fields, str) else tuple(fields)
        super().__init__(message)


class TokenError(NewsletterError, ValueError):
    """A link's token is forged, altered, expired, or meant for another page.

    The message is for logs; pages say only that the link is not valid (anything more
    would help someone guessing tokens)."""


class RateLimited(NewsletterError):
    """Too many requests from one network address (or for one mailbox) in a short time."""


class AccountError(NewsletterError, ValueError):
    """A user account cannot be added or changed: bad name, unknown user, weak password."""


class AccessError(NewsletterError):
    """The admin pages refuse a request. Messages are for logs; pages say less."""


class NotSignedIn(AccessError):
    """No valid session: no cookie, a forged one, idle or too old, or ended by logout,
    a password change or the account's removal."""


class LoginFailed(AccessError):
    """Wrong name or password; deliberately the same for both (no probing for names)."""


class Forbidden(AccessError):
    """Signed in, but the account may not do this: wrong role, or another language."""
