"""Rate limits for the sign-up form and the admin login, kept in memory (bounded).

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

MAX_KEYS = 50_000  # keys remembered per window; see Window for which go first


@dataclass
class Window:
    """At most ``limit`` events per key within ``seconds``.

    Memory is bounded: past ``max_keys`` keys, one is forgotten. Keys with a single
    event go first (the least recently seen of them), keys with several only when no
    single one is left: flooding the limit with new names, one failure each, never
    pushes out a name that is being guessed (which would start its count afresh).
    """

    limit: int
    seconds: float
    clock: Callable[[], float] = time.monotonic
    max_keys: int = MAX_KEYS
    _once: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _more: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _live(self, key: str, now: float) -> deque[float]:
        events = self._once.pop(key, None)
        if events is None:
            events = self._more.pop(key, None)
        if events is None:
            events = deque()
        while events and events[0] <= now - self.seconds:
            events.popleft()
        return events

    def _keep(self, key: str, events: deque[float]) -> None:
        (self._more if len(events) > 1 else self._once)[key] = events  # most recent last
        while len(self._once) + len(self._more) > self.max_keys:
            (self._once or self._more).popitem(last=False)

    def hit(self, key: str) -> bool:
        """Count one event for ``key``; False when it is over the limit (not counted)."""
        now = self.clock()
        with self._lock:
            events = self._live(key, now)
            allowed = len(events) < self.limit
            if allowed:
                events.append(now)
            self._keep(key, events)
            return allowed

    def full(self, key: str) -> bool:
        """Whether ``hit(key)`` would be refused now; counts nothing (a login counts
        only its failures against an account name)."""
        return len(self.recent(key)) >= self.limit

    def recent(self, key: str) -> list[float]:
        """The times of ``key``'s events within the window, oldest first."""
        now = self.clock()
        with self._lock:
            events = self._once.get(key)
            if events is None:
                events = self._more.get(key, deque())
            return [t for t in events if t > now - self.seconds]

    def __len__(self) -> int:
        return len(self._once) + len(self._more)


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
class Slowdown:
    """Failed logins for one account name, from anywhere: after ``free`` of them within
    ``seconds``, the next attempt must wait 1 s after the last failure, then 2, 4, ...
    at most ``longest`` seconds. A slowdown, not a lock: whoever fails on purpose can
    delay a stranger's login by ``longest`` seconds at most, never for a quarter of an
    hour, and guessers spread over many addresses still get few tries."""

    free: int = 5
    seconds: float = 900.0
    longest: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: Window = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # enough failures to reach the longest wait; more are not counted
        cap = self.free + max(0, int(self.longest).bit_length()) + 1
        self.failures = Window(cap, self.seconds, self.clock)

    def wait(self, name: str) -> float:
        """Seconds until ``name`` may be tried again (0: now)."""
        times = self.failures.recent(name)
        if len(times) < self.free:
            return 0.0
        delay = min(2.0 ** (len(times) - self.free), self.longest)
        return max(0.0, times[-1] + delay - self.clock())

    def failed(self, name: str) -> None:
        self.failures.hit(name)


@dataclass
class LoginLimits:
    """The admin login's limits.

    ``per_ip``: every attempt from one network address, whatever the name.
    ``per_name``: failures for one account name from one network address; past it,
    that address (only that one) tries this name again after the window.
    ``slowdown``: failures for one account name from all addresses together; it slows
    down addresses that never signed in to the account (see ``Slowdown``), so the
    person it belongs to, at their usual address, is never kept out by someone else.
    Counting only failures means the real person, signing in right, is never limited
    by their own successful logins.
    """

    per_ip: Window = field(default_factory=lambda: Window(20, 900.0))
    per_name: Window = field(default_factory=lambda: Window(5, 900.0))
    slowdown: Slowdown = field(default_factory=Slowdown)

    def check(self, name: str, ip: str) -> float:
        """Count an attempt; RateLimited when this address is over its limits. Returns
        the seconds the name's slowdown still asks for (0: none)."""
        source = ip or "unknown"
        if not self.per_ip.hit(source):
            raise RateLimited(f"too many logins from {ip or 'an unknown address'}")
        if self.per_name.full(f"{name}\0{source}"):
            raise RateLimited("too many failed logins for one account name from "
                              f"{ip or 'an unknown address'}")
        return self.slowdown.wait(name)

    def failed(self, name: str, ip: str) -> None:
        self.per_name.hit(f"{name}\0{ip or 'unknown'}")
        self.slowdown.failed(name)
