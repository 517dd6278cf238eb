"""The posts of mail providers: SendGrid's Event Webhook and Inbound Parse.

``routes`` is mounted by the app factory, which must set ``app.state.ws`` to the
Workspace; ``app.state.hook_wait`` (seconds, optional) is how long a hook waits for
another writer of the ledger before answering 503.

    POST /hooks/sendgrid  a signed event batch   200 applied (JSON counts), 400 not a
                          batch, 401 header missing or bad signature, 413 too large,
                          500 no key configured (logged), 503 ledger busy
    POST /hooks/inbound   a mail, as Inbound     200 handled (suppressed, kept for the
                          Parse posts it         officer, or dropped over the kept-mail
                                                 limits), 400 unreadable, 413 over
                                                 MAX_MAIL, 503 busy (the ledger, or
                                                 MAX_READING posts being read)

Never a redirect. A 5xx makes SendGrid post again (events for 24 hours, mails for 3
days), so an answer is 2xx only once everything is committed. The work runs in
Starlette's thread pool: SQLite and the signature check are blocking calls.

Bodies are never read whole before they are known to be small enough: a declared
Content-Length over the limit is answered 413 unread, and a chunked body is counted
as it streams in and answered 413 once it passes the limit. At most MAX_READING
posts are held at once (each up to its limit in memory): more concurrent posts are
answered 503 at once, and the provider posts them again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive

from newsletter.app import hooks
from newsletter.errors import HookError, LedgerBusy, NewsletterError, SignatureRejected

log = logging.getLogger(__name__)

MAX_BATCH = 4 * 1024 * 1024  # SendGrid posts at most 768 KB per batch
# Inbound Parse posts mails of up to 30 MB; a request to unsubscribe needs no
# attachment, and a reply quoting the newsletter with its pictures stays below this
MAX_MAIL = 10 * 1024 * 1024
RETRY_AFTER = "10"  # seconds, with a 503
# posts held in memory at once, all hooks together: 64 concurrent 10 MB mails took the
# server from 94 to 940 MiB, never given back; the providers post a 503 again later
MAX_READING = 4
_reading = 0  # posts being read or handled now (one event loop per process)


def _busy() -> Response:
    return PlainTextResponse("busy, try again", status_code=503,
                             headers={"Retry-After": RETRY_AFTER})


def _few_at_a_time(handler: Callable[[Request], Awaitable[Response]]
                   ) -> Callable[[Request], Awaitable[Response]]:
    """``handler``, answering 503 unread while MAX_READING posts are held already."""

    async def bounded(request: Request) -> Response:
        global _reading
        if _reading >= MAX_READING:
            log.warning("%s: %d posts are being read; answered 503", request.url.path,
                        _reading)
            return _busy()
        _reading += 1
        try:
            return await handler(request)
        finally:
            _reading -= 1

    return bounded


def _wait(request: Request) -> float:
    return float(getattr(request.app.state, "hook_wait", hooks.HOOK_WAIT))


async def _body(request: Request, limit: int) -> bytes | None:
    """The raw body (signatures are over the exact bytes), None when over ``limit``."""
    if _declared_too_large(request, limit):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _TooLarge(Exception):
    """The body streamed past its limit."""


def _declared_too_large(request: Request, limit: int) -> bool:
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


def _capped(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises _TooLarge once the body passes ``limit`` bytes."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
        return message

    return capped


def _failure(hook: str, err: NewsletterError) -> Response:
    """An error of the tree as an answer; what the operator must fix is logged."""
    if isinstance(err, SignatureRejected):
        log.warning("%s: refused a post: %s", hook, err)
        return PlainTextResponse("signature missing or invalid", status_code=401)
    if isinstance(err, LedgerBusy):
        log.warning("%s: %s; the provider will post again", hook, err)
        return _busy()
    if isinstance(err, HookError):
        log.warning("%s: refused a post: %s", hook, err)
        return PlainTextResponse(str(err), status_code=400)
    log.error("%s: cannot handle posts: %s", hook, err)  # ConfigError, StateError
    return PlainTextResponse("not configured or state unusable; see the server log",
                             status_code=500)


async def sendgrid_events(request: Request) -> Response:
    body = await _body(request, MAX_BATCH)
    if body is None:
        return PlainTextResponse("batch too large", status_code=413)
    try:
        applied = await run_in_threadpool(
            hooks.sendgrid_events, request.app.state.ws, body,
            request.headers.get(hooks.SIGNATURE_HEADER),
            request.headers.get(hooks.TIMESTAMP_HEADER), busy_timeout=_wait(request))
    except NewsletterError as err:
        return _failure("hooks/sendgrid", err)
    return JSONResponse(asdict(applied))


async def inbound_mail(request: Request) -> Response:
    if _declared_too_large(request, MAX_MAIL):
        return PlainTextResponse("mail too large", status_code=413)
    fields: dict[str, str] = {}
    capped = Request(request.scope, _capped(request.receive, MAX_MAIL))
    try:
        # a broken multipart body is Starlette's 400; attachments (files) are not read
        async with capped.form(max_files=200, max_fields=200, max_part_size=MAX_MAIL) as form:
            for name, value in form.multi_items():
                if isinstance(value, str):
                    fields.setdefault(name, value)
    except _TooLarge:
        return PlainTextResponse("mail too large", status_code=413)
    try:
        result = await run_in_threadpool(hooks.receive_mail, request.app.state.ws, fields,
                                         busy_timeout=_wait(request))
    except NewsletterError as err:
        return _failure("hooks/inbound", err)
    if result.outcome == "dropped":
        log.warning("hooks/inbound: a mail was not kept: %d mails from its sender were "
                    "kept in the last hour, or %d from everyone in 24 hours (the limits)",
                    hooks.KEEP_PER_SENDER, hooks.KEEP_PER_DAY)
    return PlainTextResponse(result.outcome)


routes = [
    Route("/hooks/sendgrid", _few_at_a_time(sendgrid_events), methods=["POST"]),
    Route("/hooks/inbound", _few_at_a_time(inbound_mail), methods=["POST"]),
]
