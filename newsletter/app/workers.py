"""Worker processes: ``send --workers N`` starts them, ``newsletter work`` is one.

A worker joins a campaign that a ``send`` is dispatching right now (it holds the
campaign's dispatch lock), prepares the editions from the request the ledger keeps,
and claims pages of rows until none is left. Workers on other machines join the same
way when the state is in PostgreSQL and they have the same workspace (release files,
templates, catalogs) and the same secrets in their environment.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from newsletter.delivery import claims
from newsletter.delivery.ledger import ledger_exists, open_ledger
from newsletter.delivery.locks import lock_holder
from newsletter.delivery.loop import Progress, RunResult
from newsletter.delivery.sending import join
from newsletter.errors import DeliveryError
from newsletter.workspace.config import Workspace

Say = Callable[[str], None]
POLL = 2.0  # seconds between looks for running campaigns (newsletter work)
MAX_WORKERS = 64


class ProcessWorkers:
    """``newsletter work --campaign C`` N times, as child processes of this one."""

    def __init__(self, ws: Workspace, campaign: str, count: int):
        self.campaign = campaign
        self._logs = tempfile.TemporaryDirectory(prefix="newsletter-workers-")
        command = [sys.executable, "-m", "newsletter", "--workspace", str(ws.root),
                   "work", "--campaign", campaign, "--quiet"]
        self._procs: list[tuple[subprocess.Popen[bytes], Path]] = []
        for n in range(count):
            log = Path(self._logs.name) / f"worker-{n + 1}.log"
            with log.open("wb") as out:
                # own process group: a Ctrl-C in the terminal reaches the dispatcher, which
                # passes it on once (finish the batch in flight), never twice
                proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,  # noqa: S603 - our own interpreter and arguments
                                        stdin=subprocess.DEVNULL, process_group=0)
            self._procs.append((proc, log))

    def running(self) -> bool:
        return any(proc.poll() is None for proc, _ in self._procs)

    def stop(self) -> None:
        for proc, _ in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def wait(self) -> list[str]:
        failures = []
        try:
            for n, (proc, log) in enumerate(self._procs, 1):
                if proc.wait() != 0:
                    text = log.read_text(errors="replace").strip().splitlines()
                    failures.append(f"worker {n} ended with status {proc.returncode}: "
                                    f"{text[-1] if text else 'no output'}")
        finally:
            self._logs.cleanup()
        return failures


def starter(ws: Workspace, campaign: str, count: int) -> Callable[[], ProcessWorkers]:
    if not 1 <= count <= MAX_WORKERS:
        raise DeliveryError(f"--workers takes 1 to {MAX_WORKERS}")
    return lambda: ProcessWorkers(ws, campaign, count)


def work(ws: Workspace, *, campaign: str | None = None, once: bool = False,
         say: Say = lambda message: None, progress: Progress | None = None
         ) -> list[RunResult]:
    """Join running campaigns until stopped (``once``: until none has work left). With
    ``campaign``, only that one, which must be running now."""
    results: list[RunResult] = []
    while True:
        running = _running(ws, campaign)
        if campaign is not None and not running and not results:
            raise DeliveryError(f"campaign {campaign} is not being sent now: a worker only "
                                f"joins a running 'newsletter send'")
        for found, job in running:
            say(f"joining {found}")
            result = join(ws, found, job, progress=progress, say=say)
            results.append(result)
            if result.paused or result.stopped:
                return results
        if once or campaign is not None:
            if not running:
                return results
            continue  # another look: rows a dead worker left may be free again
        time.sleep(POLL)


def _running(ws: Workspace, only: str | None) -> list[tuple[str, str]]:
    """(campaign, request) of dispatched campaigns with rows waiting for a worker."""
    if not ledger_exists(ws.state_dir):
        return []
    with open_ledger(ws.state_dir) as ledger:
        names = [only] if only is not None else claims.open_campaigns(ledger)
        found = []
        for name in names:
            job = claims.request_of(ledger, name)
            # pending only: deferred rows a worker gave its tries stay for the next send
            if job and lock_holder(ws.state_dir, name) is not None and claims.has_free(
                    ledger, name, ("pending",)):
                found.append((name, job))
    return found
