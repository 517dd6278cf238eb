"""Rate limits for the sign-up form and the admin login, kept in memory.

Per network address: a flood from one place is refused (the page says "too many
attempts"; that reveals nothing about any mailbox). Per mailbox: at most a few
confirmation mails a day, silently (the page looks the same), so nobody can use the
form to bury someone's inbox.

In memory on purpose: the counts are worthless after a day, and writing every
refused robot to the ledger would let robots fill the disk. A restart forgets them,
and several server processes would each count on their own: fine for the one
process behind one proxy that WEB.md describes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from newsletter.errors import RateLimited

MAX_KEYS = 50_000  # addresses remembered per window; the oldest go first


@dataclass
class Window:
    """At most ``limit`` events per key within ``seconds``."""

    limit: int
    seconds: float
    clock: Callable[[], float] = time.monotonic
    _events: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str) -> bool:
        """Count one event for ``key``; False when it is over the limit (not counted)."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            self._events.move_to_end(key)
            while events and events[0] <= now - self.seconds:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            while len(self._events) > MAX_KEYS:
                self._events.popitem(last=False)
            return True

    def full(self, key: str) -> bool:
        """Whether ``hit(key)`` would be refused now; counts nothing (a login counts
        only its failures against an account name)."""
        now = self.clock()
        with self._lock:
            events = self._events.get(key, ())
            return sum(1 for t in events if t > now - self.seconds) >= self.limit


@dataclass
class RateLimits:
    """The sign-up form's limits: per network address and per mailbox."""

    per_ip: Window = field(default_factory=lambda: Window(10, 3600.0))
    per_address: Window = field(default_factory=lambda: Window(3, 86400.0))

    def check_ip(self, ip: str) -> None:
        if not self.per_ip.hit(ip or "unknown"):
            raise RateLimited(f"too many sign-ups from {ip or 'an unknown address'}")

    def allow_address(self, recipient_id: str) -> bool:
        return self.per_address.hit(recipient_id)


@dataclass
class LoginLimits:
    """The admin login's limits: attempts per network address, and failed attempts per
    account name (so a guesser spread over many addresses still stops). Counting only
    failures per name means the real person, signing in right, is never locked out by
    their own successful logins; a guesser can lock an account for the window at most."""

    per_ip: Window = field(default_factory=lambda: Window(20, 900.0))
    per_name: Window = field(default_factory=lambda: Window(5, 900.0))
