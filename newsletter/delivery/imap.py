"""The unsubscribe mailbox over IMAP (stdlib imaplib): new mails' headers in, marks out.

Headers are fetched with ``BODY.PEEK``, so reading marks nothing; only ``done`` marks a
mail (\\Seen, and moved to the processed folder when there is one), after it was
handled. A run that stops in between reads the mail again next time, and handling it
twice changes nothing. Nothing is ever expunged except, on servers without MOVE, the
copy left behind by a move (UID EXPUNGE touches that one mail only).
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator
from typing import Any

from newsletter.errors import MailboxError
from newsletter.workspace.config import Mailbox

PASSWORD_ENV = "IMAP_PASSWORD"  # noqa: S105 - the variable's name, not a password
# what the poll looks at: senders and subjects for the officer, addresses for the tag
HEADERS = "FROM SUBJECT DATE MESSAGE-ID TO CC DELIVERED-TO X-ORIGINAL-TO"
CHUNK = 100  # mails per FETCH
_UID = re.compile(rb"\bUID (\d+)")


def quote(name: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapMailbox:
    """One session with the mailbox: ``with ImapMailbox(settings, password) as box``."""

    def __init__(self, settings: Mailbox, password: str):
        self.settings = settings
        self._password = password
        self.conn: imaplib.IMAP4 | None = None
        self.capabilities: set[str] = set()

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"ImapMailbox({self.settings.address!r})"

    def __enter__(self) -> ImapMailbox:
        try:
            self._connect()
            self._login()
            self._select()
        except BaseException:
            self._logout()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._logout()

    def unseen(self) -> Iterator[tuple[str, bytes]]:
        """(uid, raw header block) of every mail not yet marked read, oldest first."""
        data = self._run("search the new mails", self._conn.uid, "SEARCH", "UNSEEN")
        uids = (data[0] or b"").split()
        for start in range(0, len(uids), CHUNK):
            chunk = b",".join(uids[start:start + CHUNK]).decode()
            items = self._run("read new mails", self._conn.uid, "FETCH", chunk,
                              f"(UID BODY.PEEK[HEADER.FIELDS ({HEADERS})])")
            for item in items:
                if isinstance(item, tuple) and (found := _UID.search(item[0])):
                    yield found.group(1).decode(), item[1]

    def done(self, uid: str) -> None:
        """Mark a handled mail so that no later poll counts it again."""
        uid_command, target = self._conn.uid, self.settings.processed_folder
        self._run("mark a mail read", uid_command, "STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
        if not target:
            return
        if "MOVE" in self.capabilities:
            self._run(f"move a mail to {target!r}", uid_command, "MOVE", uid, quote(target))
            return
        self._run(f"copy a mail to {target!r}", uid_command, "COPY", uid, quote(target))
        self._run("flag a moved mail", uid_command, "STORE", uid, "+FLAGS.SILENT",
                  r"(\Deleted)")
        if "UIDPLUS" in self.capabilities:  # else the original stays, flagged \Deleted
            self._run("remove a moved mail", uid_command, "EXPUNGE", uid)

    # --- the session ---------------------------------------------------------------------

    @property
    def _conn(self) -> imaplib.IMAP4:
        if self.conn is None:
            raise MailboxError(f"{self.settings.address}: not connected")
        return self.conn

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.settings.ca_file or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def _connect(self) -> None:
        s = self.settings
        with self._errors("connect"):
            if s.security == "tls":
                self.conn = imaplib.IMAP4_SSL(s.host, s.port, ssl_context=self._context(),
                                              timeout=s.timeout)
            else:
                self.conn = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    self.conn.starttls(self._context())

    def _login(self) -> None:
        s, conn = self.settings, self._conn
        try:
            if "AUTH=PLAIN" in conn.capabilities:  # SASL PLAIN carries UTF-8 passwords
                secret = f"\0{s.username}\0{self._password}".encode()
                conn.authenticate("PLAIN", lambda _challenge: secret)
            else:
                conn.login(s.username, self._password)
        except imaplib.IMAP4.abort as err:
            raise MailboxError(f"{s.address}: the connection broke at the login: "
                               f"{_text(err)}") from None
        except (imaplib.IMAP4.error, UnicodeEncodeError) as err:
            raise MailboxError(f"{s.address}: the server refused the login of "
                               f"{s.username!r} ({_text(err)}); check username in "
                               f"[web.mailbox] and {PASSWORD_ENV}") from None
        data = self._run("ask for the server's capabilities", conn.capability)
        self.capabilities = {c.upper() for c in (data[0] or b"").decode().split()}

    def _select(self) -> None:
        s, conn = self.settings, self._conn
        self._run(f"open the folder {s.folder!r} (folder in [web.mailbox])", conn.select,
                  quote(s.folder))
        if s.processed_folder:
            found = self._run("list the folders", conn.list, '""', quote(s.processed_folder))
            if not any(found):  # [None] when there is no such folder
                self._run(f"create the folder {s.processed_folder!r}", conn.create,
                          quote(s.processed_folder))

    def _logout(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.conn.logout()  # not CLOSE: that would expunge others' deletions
            self.conn = None

    def _run(self, doing: str, command: Callable[..., tuple[str, list[Any]]], *args: str
             ) -> list[Any]:
        """Run one IMAP command; its data when the reply is OK, else the poll stops."""
        with self._errors(doing):
            typ, data = command(*args)
        if typ != "OK":
            raise MailboxError(f"{self.settings.address}: cannot {doing} ({_text(data)})")
        return data

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Network and protocol failures become one line naming the mailbox."""
        try:
            yield
        except imaplib.IMAP4.error as err:
            raise MailboxError(f"{self.settings.address}: cannot {doing}: {_text(err)}"
                               ) from None
        except OSError as err:  # refused, timed out, TLS certificate not trusted
            raise MailboxError(f"{self.settings.address}: cannot {doing}: "
                               f"{type(err).__name__}: {err}") from None


def _text(value: object) -> str:
    """Server replies as one readable line (imaplib hands out bytes and lists of them)."""
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value if v is not None)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]
