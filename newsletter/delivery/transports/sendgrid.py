"""SendGrid's v3 mail-send API through the official ``sendgrid`` package.

One request per batch of at most 1000 recipients of one edition; the edition's
HTML and text go once per request, each recipient's greeting, the line saying why
they receive it and the unsubscribe link as substitutions. The API key comes only
from SENDGRID_API_KEY and is kept out of errors, reports and logs
(python-http-client logs request headers, Authorization included, at DEBUG level:
its logger is held at WARNING).
"""

from __future__ import annotations

import base64
import logging
import math
import random
import re
import socket
import time
import urllib.error
from collections.abc import Callable
from typing import Any

from markupsafe import escape
from python_http_client import exceptions as http

from newsletter.delivery import headers
from newsletter.delivery.outgoing import EditionParts
from newsletter.delivery.transports.base import (
    PENDING,
    REJECTED,
    SENT,
    UNKNOWN,
    Batch,
    Item,
    Outcome,
    Transport,
    TransportStop,
)
from newsletter.delivery.transports.sendgrid_api import (
    api_client,
    api_host,
    api_key,
    error_list,
    error_text,
    errors_of,
)
from newsletter.errors import ConfigError
from newsletter.workspace.config import SendGrid

MAX_PERSONALIZATIONS = 1000
MAX_SUBSTITUTION_BYTES = 10_000
MAX_ISOLATED = 10  # refused recipients a request may hold before splitting gives up
_PERSONALIZATION = re.compile(r"personalizations\.(\d+)(?:\.|$)")
logging.getLogger("python_http_client").setLevel(logging.WARNING)


class SendGridTransport(Transport):
    name = "sendgrid"
    wants_mime = False  # SendGrid assembles the messages from the edition and substitutions
    batch_size = MAX_PERSONALIZATIONS

    def __init__(self, settings: SendGrid, *, sandbox: bool = False,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time,
                 say: Callable[[str], None] = lambda message: None,
                 send_at: int | None = None, batch_id: str = ""):
        super().__init__()
        self.settings = settings
        self.sandbox = sandbox
        self.rehearsal = sandbox  # the sandbox validates and delivers nothing
        self.send_at, self.batch_id = send_at, batch_id
        self.sleep, self.clock, self.say = sleep, clock, say
        self.host = api_host(settings)
        api_key("to send through SendGrid")  # refuse at once, before any rendering
        self.requests = 0
        self._parts: dict[int, tuple[str, str, list[dict[str, str]]]] = {}

    @property
    def destination(self) -> str:
        return f"SendGrid ({self.host})" + (" in sandbox mode" if self.sandbox else "")

    def open(self) -> None:
        self.api = api_client(self.settings, "to send through SendGrid")

    # --- building ---------------------------------------------------------------------

    def build(self, batch: Batch) -> tuple[dict[str, Any], list[Outcome]]:
        """The request body, and outcomes for recipients that cannot go in it."""
        edition = batch.edition
        text, html, attachments = self._edition_parts(edition)
        personalizations, refused, seen = [], [], set()
        for item in batch.items:
            if item.email.casefold() in seen:  # each address once per request
                refused.append(Outcome(item.recipient_id, REJECTED, "duplicate address"))
                continue
            seen.add(item.email.casefold())
            one = _personalization(batch, item)
            (refused if isinstance(one, Outcome) else personalizations).append(one)
        cfg = edition.sender
        body: dict[str, Any] = {
            "personalizations": personalizations,
            "from": {"email": cfg.from_address, "name": headers.plain(cfg.from_name, "From")},
            "reply_to": {"email": cfg.reply_to},
            "subject": headers.plain(edition.subject, "Subject"),
            "content": [{"type": "text/plain", "value": text},
                        {"type": "text/html", "value": html}],
            "headers": {"Content-Language": edition.content_languages,
                        "X-Newsletter-Campaign": batch.campaign,
                        **({"List-Id": edition.list_id} if edition.list_id else {})},
            "custom_args": {"campaign": batch.campaign, "language": edition.key},
        }
        if self.settings.categories:
            body["categories"] = list(self.settings.categories)[:10]
        if self.settings.asm_group_id is not None:
            body["asm"] = {"group_id": self.settings.asm_group_id}
        if self.sandbox:
            body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        if self.send_at is not None:  # scheduled: SendGrid holds it until then
            body["send_at"] = self.send_at
            body["batch_id"] = self.batch_id
        if attachments:
            body["attachments"] = attachments
        return body, refused

    def refused(self, payload: tuple[dict[str, Any], list[Outcome]]) -> list[Outcome]:
        return payload[1]

    def _edition_parts(self, edition: EditionParts) -> tuple[str, str, list[dict[str, str]]]:
        """Content and attachments of an edition, made once, not once per request."""
        key = id(edition)
        if key not in self._parts:
            values = {"%%view_online_url%%": edition.view_online_url}
            self._parts[key] = (
                _rename(edition.text, "text", values),
                _rename(edition.html, "html", values),
                [{"content": base64.b64encode(a.data).decode("ascii"), "filename": a.filename,
                  "type": a.content_type, "disposition": "attachment"}
                 for a in edition.attachments],
            )
        return self._parts[key]

    # --- posting ------------------------------------------------------------------------

    def post(self, batch: Batch, payload: tuple[dict[str, Any], list[Outcome]]
             ) -> list[Outcome]:
        """Post the body; when SendGrid refuses it (400, 413), find who is refused.

        SendGrid validates a request as a whole and sends nothing when one recipient is
        bad, so the others are posted again: without the recipients its errors name by
        index, or else in halves (bisection) until the bad ones stand alone. Splitting
        stops after ``split_budget`` extra requests: the rest stays pending and the run
        stops, instead of a body-wide fault costing two requests per recipient."""
        body, refused = payload
        outcomes = list(refused)
        todo = [body["personalizations"]] if body["personalizations"] else []
        budget, extra, last_error = split_budget(len(body["personalizations"])), -1, ""
        # refused alone for a reason SendGrid pinned on nobody: their own fault only if
        # some other part of the request got through (else the common part may be)
        alone: list[dict[str, Any]] = []
        alone_error: dict[str, str] = {}

        def halt(message: str, chunk: list[dict[str, Any]], status: str, error: str
                 ) -> TransportStop:
            rest = [p for later in todo for p in later]
            return TransportStop(message, outcomes + _outcomes(chunk, status, error)
                                 + _outcomes(rest, PENDING, "not attempted")
                                 + [Outcome(_rid(p), PENDING, alone_error[_rid(p)])
                                    for p in alone])

        while todo:
            chunk = todo.pop()
            extra += 1
            if extra > budget:
                if any(o.status == SENT for o in outcomes):
                    outcomes += [Outcome(_rid(p), REJECTED, alone_error[_rid(p)])
                                 for p in alone]
                    alone = []
                    message = (f"SendGrid refused recipients ({last_error}); isolating them "
                               f"took more than {budget} extra requests")
                else:  # kept pending, not rejected
                    message = f"SendGrid refused every part of the request ({last_error})"
                raise halt(f"{message}; the rest waits: check the message and run again",
                           chunk, PENDING, "not attempted")
            try:
                provider = self._request({**body, "personalizations": chunk})
            except _Halt as stop:  # those refused alone wait too: not proven their fault
                raise halt(stop.message, chunk, stop.status, stop.error) from None
            except ConfigError as err:  # the key stopped working halfway: keep what was sent
                if len(outcomes) == len(refused) and not alone:
                    raise
                raise halt(err.message, chunk, PENDING, "not attempted") from None
            except _Refused as no:
                last_error = no.message
                _narrow(no, chunk, outcomes, todo, alone, alone_error)
            else:
                outcomes += _outcomes(chunk, SENT, "", provider)
        # everything was answered: whoever was refused alone is refused
        return outcomes + [Outcome(_rid(p), REJECTED, alone_error[_rid(p)]) for p in alone]

    def _request(self, body: dict[str, Any]) -> str:
        """One request, waiting out rate limits and retrying 5xx and refused connections.

        Returns SendGrid's message id; raises ``_Refused`` when SendGrid refused the body,
        ``_Halt`` when the run has to stop, ``ConfigError`` for a refused key."""
        backoff = 1.0
        attempts = 0
        while True:
            attempts += 1
            self.requests += 1
            try:
                response = self.api.client.mail.send.post(request_body=body)
            except http.TooManyRequestsError as err:
                wait = self._reset_wait(err)
                if wait > self.settings.max_wait:
                    raise _Halt(
                        f"SendGrid rate limit: the next request is allowed in {wait:.0f} s, "
                        f"more than max_wait ({self.settings.max_wait:.0f} s); run again later",
                        PENDING, "rate limited") from None
                self.say(f"SendGrid rate limit reached: waiting {wait:.0f} s")
                self.sleep(wait)
                continue
            except (http.UnauthorizedError, http.ForbiddenError) as err:
                raise ConfigError(f"SendGrid refused the API key ({err.status_code}): "
                                  f"{errors_of(err)}") from None
            except http.HTTPError as err:
                status = getattr(err, "status_code", 0)
                if status < 500:
                    raise _Refused(status, err) from None
                problem = f"SendGrid answered {status}"
            except urllib.error.URLError as err:
                if isinstance(err.reason, TimeoutError | socket.timeout):
                    raise _Halt("SendGrid did not answer in time; the batch in flight is "
                                "unknown", UNKNOWN, "request timed out") from None
                problem = f"cannot reach SendGrid: {err.reason}"
            except TimeoutError:
                # the request may have reached SendGrid: its fate is unknown, not guessed
                raise _Halt("SendGrid did not answer in time; the batch in flight is unknown",
                            UNKNOWN, "timed out") from None
            except ConnectionError as err:
                raise _Halt("SendGrid connection broke after the request was sent; the batch "
                            "in flight is unknown", UNKNOWN, type(err).__name__) from None
            else:
                if response.status_code in (200, 202):
                    return _header(response.headers, "X-Message-Id")
                raise _Refused(response.status_code, None)
            if attempts > self.settings.retries:
                raise _Halt(f"{problem}; stopped after {attempts} attempts, run again later",
                            PENDING, problem)
            delay = min(30.0, backoff) * (0.5 + random.random() / 2)  # noqa: S311 - jitter
            backoff *= 2
            self.say(f"{problem}: retrying in {delay:.1f} s")
            self.sleep(delay)

    def _reset_wait(self, err: http.HTTPError) -> float:
        reset = _header(getattr(err, "headers", None), "X-RateLimit-Reset")
        try:
            return max(0.0, float(reset) - self.clock())
        except ValueError:
            return 60.0


class _Refused(Exception):
    """SendGrid refused the request body: nothing in it was sent."""

    def __init__(self, status: int, err: http.HTTPError | None):
        super().__init__(status)
        self.status = status
        self.errors = error_list(err) if err is not None else []
        self.message = (f"{status}: {errors_of(err)}" if err is not None
                        else f"unexpected status {status}")

    def named(self, size: int) -> dict[int, str]:
        """Index of each personalization an error names (``personalizations.17.to.0.email``)
        with SendGrid's messages for it; empty when any index is out of range."""
        named: dict[int, list[str]] = {}
        for error in self.errors:
            found = _PERSONALIZATION.match(str(error.get("field") or ""))
            if found:
                named.setdefault(int(found.group(1)), []).append(error_text(error))
        if any(i >= size for i in named):
            return {}
        return {i: "; ".join(messages) for i, messages in named.items()}


class _Halt(Exception):
    """Stop the run; ``status`` is what the request in flight became."""

    def __init__(self, message: str, status: str, error: str):
        super().__init__(message)
        self.message, self.status, self.error = message, status, error


def _personalization(batch: Batch, item: Item) -> dict[str, Any] | Outcome:
    """One recipient's part of the request: greeting and links as substitutions."""
    unsubscribe = item.links.unsubscribe_url
    subs = {
        "%%greeting_html%%": item.greeting_html,
        "%%greeting_text%%": item.greeting_text,
        "%%why_html%%": item.why_html,
        "%%why_text%%": item.why_text,
        "%%unsubscribe_url_html%%": str(escape(unsubscribe)),
        "%%unsubscribe_url_text%%": unsubscribe,
    }
    size = sum(len(k.encode()) + len(v.encode()) for k, v in subs.items())
    if size > MAX_SUBSTITUTION_BYTES:
        return Outcome(item.recipient_id, REJECTED,
                       f"substitutions of {size} bytes exceed SendGrid's limit")
    to: dict[str, str] = {"email": item.email}
    if item.name:
        to["name"] = _display_name(item.name)
    return {
        "to": [to],
        "substitutions": subs,
        "custom_args": {"campaign": batch.campaign, "recipient": item.recipient_id},
        "headers": {
            "List-Unsubscribe": item.links.list_unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


def _narrow(no: _Refused, chunk: list[dict[str, Any]], outcomes: list[Outcome],
            todo: list[list[dict[str, Any]]], alone: list[dict[str, Any]],
            alone_error: dict[str, str]) -> None:
    """After a refusal: reject whom SendGrid named, else split the chunk in halves."""
    named = no.named(len(chunk)) if no.status == 400 else {}
    if named:  # SendGrid said who: refuse those, post the others again
        outcomes += [Outcome(_rid(chunk[i]), REJECTED, f"400: {message}")
                     for i, message in sorted(named.items())]
        others = [p for i, p in enumerate(chunk) if i not in named]
        if others:
            todo.append(others)
    elif no.status in (400, 413) and len(chunk) > 1:
        half = len(chunk) // 2
        todo += [chunk[half:], chunk[:half]]  # the first half goes first
    elif no.status in (400, 413):
        alone += chunk
        alone_error[_rid(chunk[0])] = no.message
    else:
        outcomes += _outcomes(chunk, REJECTED, no.message)


def split_budget(size: int) -> int:
    """Extra requests allowed to isolate refused recipients in a request of ``size``:
    bisection costs at most two requests per halving, ceil(log2(size)) halvings per bad
    recipient, for up to MAX_ISOLATED of them (200 for 1000 recipients)."""
    return 2 * math.ceil(math.log2(max(size, 1))) * MAX_ISOLATED


def _outcomes(chunk: list[dict[str, Any]], status: str, error: str = "", provider: str = ""
              ) -> list[Outcome]:
    return [Outcome(_rid(p), status, error, provider) for p in chunk]


def _rid(personalization: dict[str, Any]) -> str:
    return str(personalization["custom_args"]["recipient"])


def _display_name(name: str) -> str:
    """SendGrid cuts a ``to.name`` at an unquoted ',' or ';' (and drops the message):
    such names go as one quoted string, as SendGrid documents; others as they are,
    because some mail clients show the quotes. SendGrid writes the header: the name
    is checked, and encoded-word syntax broken up, first (headers.plain)."""
    name = headers.plain(name, "To name")
    if "," not in name and ";" not in name:
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rename(document: str, part: str, fixed: dict[str, str]) -> str:
    """Per-part substitution keys: the HTML gets escaped values, the text plain ones."""
    for key, value in fixed.items():
        document = document.replace(key, str(escape(value)) if part == "html" else value)
    for name in ("greeting", "why", "unsubscribe_url"):
        document = document.replace(f"%%{name}%%", f"%%{name}_{part}%%")
    return document


def _header(headers: Any, name: str) -> str:
    if headers is None:
        return ""
    try:
        value = headers.get(name)
    except AttributeError:
        value = None
    return str(value or "")
