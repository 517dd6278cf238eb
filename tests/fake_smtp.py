"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records and misbehaves on request."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Behaviour:
    defer_once: set[str] = field(default_factory=set)  # 451 on the first RCPT of these
    reject: set[str] = field(default_factory=set)  # 550 for these
    drop_at_mail: set[int] = field(default_factory=set)  # close before answering MAIL #n
    drop_in_data: set[int] = field(default_factory=set)  # accept, then close before replying


class Recorder:
    def __init__(self, behaviour: Behaviour | None = None, on_message=None):
        self.behaviour = behaviour or Behaviour()
        self.messages: list[tuple[str, bytes]] = []
        self.received: Counter[str] = Counter()
        self.deferred: set[str] = set()
        self.mail_count = 0
        self.data_count = 0
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self.on_message = on_message

    async def handle_MAIL(self, server, session, envelope, address, options):
        with self.lock:
            self.mail_count += 1
            n = self.mail_count
        if n in self.behaviour.drop_at_mail:
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        addr = address.lower()
        if addr in self.behaviour.reject:
            return "550 5.1.1 no such user here"
        if addr in self.behaviour.defer_once and addr not in self.deferred:
            self.deferred.add(addr)
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_count += 1
            n = self.data_count
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt.lower(), envelope.content))
                self.received[rcpt.lower()] += 1
        if self.on_message:
            self.on_message(self)
        if n in self.behaviour.drop_in_data:
            server.transport.close()  # accepted, but the client never hears so
            return "421 closing"
        return f"250 2.0.0 queued as Q{n}"

    def parsed(self, addr: str):
        data = next(content for rcpt, content in self.messages if rcpt == addr.lower())
        return message_from_bytes(data, policy=policy.default)


class SmtpServer:
    """Context manager around aiosmtpd's Controller; ``tls`` is 'none', 'starttls' or 'tls'."""

    def __init__(self, recorder: Recorder, *, tls: str = "none", ssl_context=None,
                 login: tuple[str, str] | None = None):
        self.recorder = recorder
        self.port = free_port()
        kwargs = {}
        if tls == "starttls":
            kwargs.update(tls_context=ssl_context, require_starttls=True)
        elif tls == "tls":
            kwargs.update(ssl_context=ssl_context)
        if login:
            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (isinstance(auth_data, LoginPassword)
                      and auth_data.login.decode() == login[0]
                      and auth_data.password.decode() == login[1])
                if ok:
                    recorder.logins.append(login[0])
                # handled=False: aiosmtpd then answers 535 itself
                return AuthResult(success=ok, handled=ok)

            kwargs.update(authenticator=authenticator, auth_required=True)
        self.controller = Controller(recorder, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
