"""The worker process of a send started from the admin pages.

    python -m newsletter.app.sendworker --workspace ROOT CAMPAIGN

It reads the job record (``state/sends/CAMPAIGN.json``), plans the send again exactly
as the page and ``newsletter send`` do, refuses when that plan is another campaign now
(the release was edited since the confirmation), and sends through ``app.mailing``:
the same ledger, campaign lock and transport of newsletter.toml as the command line.
SIGTERM (the page's "pause") makes the send loop stop after the batch in flight; a
signal that comes before the loop has started stops the worker before anything is
sent. How the run ended goes back into the job record; it prints no addresses.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import replace

from newsletter.app import mailing
from newsletter.app.sending import Choice, plan
from newsletter.app.workspace import open_workspace
from newsletter.delivery import jobs
from newsletter.delivery.jobs import Job, JobState
from newsletter.delivery.locks import CampaignLocked
from newsletter.errors import NewsletterError

PAUSED_EXIT = 130  # as the command line's send when it is paused
LOCKED_EXIT = 75  # EX_TEMPFAIL: another process sends this campaign


class _EarlyPause:
    """A pause asked for before the send loop installs its own handlers."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def __init__(self) -> None:
        self.asked = False
        self.previous: dict[int, object] = {}

    def __enter__(self) -> _EarlyPause:
        for sig in self.SIGNALS:
            self.previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]

    def _handler(self, signum, frame):  # type: ignore[no-untyped-def]
        self.asked = True


def run(root: str, campaign: str) -> int:
    with _EarlyPause() as early:
        return _run(root, campaign, early)


def _run(root: str, campaign: str, early: _EarlyPause) -> int:
    ws = open_workspace(root)
    state = ws.state_dir
    job = jobs.read_job(state, campaign)
    if job is None:
        print(f"no job record for {campaign}", file=sys.stderr)
        return 2

    def finish(job_state: JobState, message: str = "") -> Job:
        return jobs.write_job(state, replace(job, state=job_state, message=message))

    job = jobs.write_job(state, replace(job, state=JobState.RUNNING))
    try:
        choice = Choice(job.kind, job.ref, job.lists, job.tags, job.langs, job.skip_invalid,
                        job.sandbox)
        planned = plan(ws, choice, resend_unknown=job.resend_unknown)
        if planned.planned.campaign != campaign:
            finish(JobState.FAILED, "the release or the lists changed since this send was "
                   "confirmed; plan it again")
            return 1
        if early.asked:
            finish(JobState.PAUSED)
            return PAUSED_EXIT

        def progress(done: int, total: int) -> None:
            # a pause that came just before the loop installed its handlers: ask again
            if early.asked:
                early.asked = False
                os.kill(os.getpid(), signal.SIGTERM)

        result = mailing.send(ws, planned, progress=progress)
    except CampaignLocked as err:
        # another process holds the campaign: leave the record to the one that sends
        print(err.message, file=sys.stderr)
        return LOCKED_EXIT
    except NewsletterError as err:
        finish(JobState.FAILED, str(err))
        return 1
    except BaseException:
        finish(JobState.FAILED, "the worker crashed; the server's state/sends/ log says why")
        raise
    run_ = result.run
    if run_.paused:
        finish(JobState.PAUSED)
        return PAUSED_EXIT
    if run_.stopped:
        finish(JobState.STOPPED, run_.stopped)
        return 1
    rejected = f"{len(run_.rejected_now)} message(s) rejected" if run_.rejected_now else ""
    finish(JobState.DONE, rejected)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newsletter.app.sendworker")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("campaign")
    args = parser.parse_args(argv)
    return run(args.workspace, jobs.check_campaign_id(args.campaign))


if __name__ == "__main__":
    sys.exit(main())
