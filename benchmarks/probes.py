"""What the send benchmark reads from outside the processes it measures.

* ``TreeMonitor``: the peak memory of every process in a tree, each on its own. The
  tree is the ``newsletter send`` process and its workers; ``ru_maxrss`` of the child
  would give the largest of them only, and nothing of who was which.
* ``Database``: the state store of a run, SQLite (a file in the workspace) or
  PostgreSQL (emptied before each run), and its size after the run.

Linux only (/proc), as the benchmark is.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")
SQLITE_NAME = "ledger.sqlite3"  # state/ledger.sqlite3, as the README documents it
# processes multiprocessing starts beside the workers: not workers themselves
HELPERS = ("resource_tracker", "forkserver", "semaphore_tracker")

Key = tuple[int, int]  # (pid, start time): a pid alone may be reused during a long run


@dataclass
class Peak:
    """The highest memory one process was seen with, in KiB."""

    pid: int
    command: str
    hwm_kib: int = 0  # VmHWM: the kernel's own high-water mark of the resident set
    rss_kib: int = 0  # the largest VmRSS a poll saw (a check on VmHWM)

    @property
    def peak_mib(self) -> float:
        return max(self.hwm_kib, self.rss_kib) / 1024

    @property
    def is_helper(self) -> bool:
        return any(name in self.command for name in HELPERS)


class TreeMonitor:
    """Polls /proc every ``interval`` seconds for ``root`` and all its descendants,
    keeping the largest VmHWM and VmRSS per process.

    VmHWM only grows, so a poll misses at most what a process adds in its last
    interval before it exits (after that its memory is gone from /proc)."""

    def __init__(self, root: int, interval: float = 0.05):
        self.root = root
        self.interval = interval
        self._peaks: dict[Key, Peak] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMonitor:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def parent(self) -> Peak | None:
        return next((p for (pid, _), p in self._peaks.items() if pid == self.root), None)

    def descendants(self) -> list[Peak]:
        """Every other process seen, in the order they were first seen."""
        return [p for (pid, _), p in self._peaks.items() if pid != self.root]

    def _run(self) -> None:
        while True:
            self._poll()
            if self._stop.wait(self.interval):
                self._poll()  # once more: whatever is still there at the end
                return

    def _poll(self) -> None:
        alive = _processes()
        for key in _tree(self.root, alive) | (self._peaks.keys() & alive.keys()):
            _update(self._peaks, key)


def _processes() -> dict[Key, int]:
    """Every process now: (pid, start time) -> parent pid."""
    found: dict[Key, int] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            stat = (PROC / entry.name / "stat").read_text()
        except OSError:  # gone between the listing and the read
            continue
        # the command name in parentheses may hold spaces and parentheses itself
        fields = stat.rpartition(")")[2].split()
        found[(int(entry.name), int(fields[19]))] = int(fields[1])  # starttime, ppid
    return found


def _tree(root: int, alive: dict[Key, int]) -> set[Key]:
    children: dict[int, list[Key]] = {}
    for key, ppid in alive.items():
        children.setdefault(ppid, []).append(key)
    tree = {key for key in alive if key[0] == root}
    todo = [root]
    while todo:
        for key in children.get(todo.pop(), []):
            tree.add(key)
            todo.append(key[0])
    return tree


def _update(peaks: dict[Key, Peak], key: Key) -> None:
    pid = key[0]
    memory = _status(pid)
    if not memory:  # a zombie has no memory lines any more
        return
    peak = peaks.get(key)
    if peak is None:
        peak = peaks[key] = Peak(pid, _command(pid))
    peak.hwm_kib = max(peak.hwm_kib, memory.get("VmHWM", 0))
    peak.rss_kib = max(peak.rss_kib, memory.get("VmRSS", 0))


def _status(pid: int) -> dict[str, int]:
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0])  # "  123456 kB"
    return found


def _command(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


# --- the state store -------------------------------------------------------------------


def safe_url(url: str) -> str:
    """The URL as it may be printed: the password hidden."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class Database:
    """Where a run keeps its state: ``kind`` is "sqlite" or "postgresql" (then ``url``)."""

    kind: str
    url: str = ""

    def environment(self) -> dict[str, str]:
        """What to add to the command's environment (SQLite: nothing, the default)."""
        return {"NEWSLETTER_DATABASE_URL": self.url} if self.kind == "postgresql" else {}

    def reset(self) -> None:
        """Empty the database before a run (SQLite: each run has a new workspace)."""
        if self.kind == "postgresql":
            _execute(self.url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")

    def size_bytes(self, state_dir: Path) -> int:
        if self.kind == "postgresql":
            return int(_scalar(self.url, "SELECT pg_database_size(current_database())"))
        return sum(_file_size(state_dir / f"{SQLITE_NAME}{end}") for end in ("", "-wal"))

    def problem(self, state_dir: Path) -> str:
        """Why the run's state seems not to be where this database says ("" if it is)."""
        if self.kind != "postgresql":
            return "" if (state_dir / SQLITE_NAME).exists() else f"no state/{SQLITE_NAME}"
        if (state_dir / SQLITE_NAME).exists():
            return f"state/{SQLITE_NAME} was written: the send did not keep its state in " \
                   "PostgreSQL (NEWSLETTER_DATABASE_URL ignored?)"
        tables = _scalar(self.url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return "" if tables else "no table in PostgreSQL's public schema after the run"

    def describe(self) -> str:
        if self.kind != "postgresql":
            return f"SQLite (state/{SQLITE_NAME} in each run's workspace)"
        version = _scalar(self.url, "SHOW server_version")
        return f"PostgreSQL {version} at {safe_url(self.url)}"


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _execute(url: str, *statements: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as db:
            for statement in statements:
                db.execute(sa.text(statement))
    finally:
        engine.dispose()


def _scalar(url: str, query: str) -> object:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            return db.execute(sa.text(query)).scalar()
    finally:
        engine.dispose()
