"""SMTP delivery with the standard library: one reused connection, a token-bucket rate.

The MAIL/RCPT/DATA steps are issued one by one, so a dropped connection is
understood: before DATA nothing was handed over (reconnect and go on); during
DATA the message may or may not have been accepted, so it is recorded as
unknown, never guessed. smtplib's debug output is never switched on: it prints
the AUTH exchange, password included.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from dataclasses import dataclass

from newsletter.delivery.transports.base import (
    FAILED,
    PENDING,
    REJECTED,
    SENT,
    UNKNOWN,
    Batch,
    Outcome,
    Transport,
    TransportStop,
)
from newsletter.errors import ConfigError
from newsletter.workspace.config import Smtp

PASSWORD_ENV = "SMTP_PASSWORD"  # noqa: S105 - the variable's name


@dataclass
class TokenBucket:
    """Allows ``rate`` messages per second on average and short bursts up to ``burst``."""

    rate: float
    burst: float = 1.0
    clock: object = time.monotonic
    sleep: object = time.sleep

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.last = self.clock()  # type: ignore[operator]

    def take(self) -> None:
        while True:
            now = self.clock()  # type: ignore[operator]
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            self.sleep((1 - self.tokens) / self.rate)  # type: ignore[operator]


class SmtpTransport(Transport):
    name = "smtp"
    batch_size = 1

    def __init__(self, settings: Smtp, sender: str, *, sandbox: bool = False):
        super().__init__(sandbox=sandbox)
        self.settings = settings
        self.sender = sender
        self.bucket = TokenBucket(settings.rate, burst=max(1.0, min(settings.rate, 10.0)))
        self.conn: smtplib.SMTP | None = None
        if settings.username and not os.environ.get(PASSWORD_ENV):
            raise ConfigError(f"set {PASSWORD_ENV} for the SMTP login of "
                              f"{settings.username!r}")

    @property
    def destination(self) -> str:
        return f"smtp://{self.settings.host}:{self.settings.port}"

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.settings.ca_file or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                      context=self._context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(context=self._context())
            conn.ehlo()
            if s.username:
                conn.login(s.username, os.environ.get(PASSWORD_ENV, ""))
        except smtplib.SMTPAuthenticationError as err:
            raise ConfigError(f"the SMTP server refused the login of {s.username!r} "
                              f"({err.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as err:
            raise TransportStop(f"cannot reach {self.destination}: "
                                f"{type(err).__name__}: {err}", []) from None
        return conn

    def open(self) -> None:
        """Connect lazily, on the first message: a failure then stops the run cleanly."""

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                self.conn.close()
            self.conn = None

    def build(self, batch: Batch) -> list[bytes]:
        return [item.mime for item in batch.items]  # built by the send loop

    def post(self, batch: Batch, payload: list[bytes]) -> list[Outcome]:
        return [data if isinstance(data, Outcome) else
                self._one(item.recipient_id, item.email, data)
                for item, data in zip(batch.items, payload, strict=True)]

    def _one(self, rid: str, to: str, data: bytes) -> Outcome:
        self.bucket.take()
        for attempt in (1, 2):
            if self.conn is None:
                try:
                    self.conn = self._connect()
                except TransportStop as stop:
                    raise TransportStop(stop.message,
                                        [Outcome(rid, PENDING, stop.message)]) from None
            conn = self.conn
            try:
                code, reply = conn.mail(self.sender)
                if code == 250:
                    code, reply = conn.rcpt(to)
            except (smtplib.SMTPServerDisconnected, OSError) as err:
                self.conn = None  # nothing handed over yet: reconnect once and retry
                if attempt == 2:
                    raise TransportStop(f"{self.destination} keeps dropping the connection",
                                        [Outcome(rid, PENDING, str(err))]) from None
                continue
            if code not in (250, 251):
                self._reset()
                return self._refused(rid, code, reply)
            try:
                code, reply = conn.data(data)
            except smtplib.SMTPDataError as err:  # DATA itself refused: nothing was sent
                self._reset()
                return self._refused(rid, err.smtp_code, err.smtp_error)
            except (smtplib.SMTPServerDisconnected, OSError) as err:
                self.conn = None
                return Outcome(rid, UNKNOWN, f"connection lost during DATA: {err}")
            if code == 250:
                return Outcome(rid, SENT, provider_id=_queue_id(reply))
            self._reset()
            return self._refused(rid, code, reply)
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        try:
            if self.conn is not None:
                self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self.conn = None

    @staticmethod
    def _refused(rid: str, code: int, reply: bytes) -> Outcome:
        text = f"{code} {reply.decode(errors='replace')}"
        # 4xx: the server asks us to try later; 5xx: a permanent no for this recipient
        return Outcome(rid, FAILED if 400 <= code < 500 else REJECTED, text)


def _queue_id(reply: bytes) -> str:
    return reply.decode(errors="replace")[:200]
