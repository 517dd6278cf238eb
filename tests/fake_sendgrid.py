"""A local HTTP server speaking SendGrid's v3 mail-send and suppression APIs."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


def quoted(name: str) -> bool:
    """One double-quoted string, inner quotes and backslashes escaped."""
    if len(name) < 2 or name[0] != '"' or name[-1] != '"':
        return False
    inner, i = name[1:-1], 0
    while i < len(inner):
        if inner[i] == "\\":
            if i + 1 == len(inner):
                return False
            i += 2
            continue
        if inner[i] == '"':
            return False
        i += 1
    return True


def problems(body: dict, reject_emails: set[str], name_fields: bool) -> list[dict]:
    """What the real API refuses a whole request for (it then sends nothing)."""
    errors = []
    personalizations = body.get("personalizations") or []
    if len(personalizations) > 1000:
        errors.append({"message": "The personalization block is limited to 1000 "
                       "personalizations per API request.", "field": "personalizations"})
    seen = set()
    for n, p in enumerate(personalizations):
        for k, to in enumerate(p.get("to") or []):
            email, name = to.get("email", ""), to.get("name")
            if email.casefold() in seen:
                errors.append({"message": "Each email address in the personalization block "
                               "should be unique between to, cc, and bcc.",
                               "field": f"personalizations.{n}"})
            seen.add(email.casefold())
            if email.casefold() in reject_emails:
                errors.append({"message": "Does not contain a valid address.",
                               "field": f"personalizations.{n}.to.{k}.email"})
            if name is not None and ("," in name or ";" in name) and not quoted(name):
                errors.append({"message": "The to name may not contain ';' or ',' unless "
                               "it is enclosed in double quotes.",
                               "field": f"personalizations.{n}.to.{k}.name"})
    if not name_fields:  # as some answers do: the message, no field naming who
        errors = [{"message": e["message"], "field": None} for e in errors]
    return [{**e, "help": HELP} for e in errors]


class FakeSendGrid:
    """``script``: a list of answers for successive mail-send calls, then ``default``.

    An answer is "ok", "429:<seconds until reset>", "500", "400", "413" or "stall".
    An "ok" request is checked like the real API does (at most 1000 personalizations,
    each address once, no unquoted ',' or ';' in a to.name, and no address of
    ``reject_emails``): any problem refuses the whole request with 400, naming the
    fields unless ``name_fields`` is false. A request body over ``max_bytes`` gets 413.
    """

    def __init__(self, script: list[str] | None = None, default: str = "ok",
                 suppressions: dict[str, list[str]] | None = None, stall: float = 3.0,
                 reject_emails: set[str] | frozenset[str] = frozenset(),
                 name_fields: bool = True, max_bytes: int | None = None):
        self.script = list(script or [])
        self.default = default
        self.stall = stall
        self.reject_emails = {e.casefold() for e in reject_emails}
        self.name_fields = name_fields
        self.max_bytes = max_bytes
        self.refused: list[tuple[int, dict]] = []  # (status, body) of refused requests
        self.requests = 0
        self.suppressions = suppressions or {}
        self.bodies: list[dict] = []
        self.cancelled: list[dict] = []
        self.auth: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, payload, headers=None):
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # the client may have timed out and gone

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = urlparse(self.path).path
                if path == "/v3/mail/batch":
                    return self._reply(201, {"batch_id": "batch-123"})
                if path == "/v3/user/scheduled_sends":
                    fake.cancelled.append(body)
                    return self._reply(201, body)
                errors = []
                with fake.lock:
                    fake.requests += 1
                    fake.auth.append(self.headers.get("Authorization", ""))
                    answer = fake.script.pop(0) if fake.script else fake.default
                    if answer == "ok" and fake.max_bytes is not None and length > fake.max_bytes:
                        answer = "413"
                    if answer == "ok":
                        errors = problems(body, fake.reject_emails, fake.name_fields)
                    if answer == "ok" and not errors:
                        fake.bodies.append(body)
                        n = len(fake.bodies)
                    elif answer in ("ok", "400", "413"):
                        fake.refused.append((400 if errors else int(answer), body))
                if urlparse(self.path).path != "/v3/mail/send":
                    return self._reply(404, {"errors": [{"message": "not found"}]})
                if errors:
                    return self._reply(400, {"errors": errors})
                if answer == "ok":
                    return self._reply(202, None, {"X-Message-Id": f"sg-{n}"})
                if answer.startswith("429"):
                    reset = int(time.time() + float(answer.split(":")[1]))
                    return self._reply(429, {"errors": [{"message": "too many requests"}]},
                                       {"X-RateLimit-Reset": str(reset)})
                if answer == "stall":
                    time.sleep(fake.stall)
                    return self._reply(202, None, {"X-Message-Id": "late"})
                code = int(answer)
                return self._reply(code, {"errors": [{"message": f"fake error {code}",
                                                      "field": "personalizations"}]})

            def do_GET(self):
                url = urlparse(self.path)
                kind = url.path.rsplit("/", 1)[-1]
                query = parse_qs(url.query)
                offset = int(query.get("offset", ["0"])[0])
                limit = int(query.get("limit", ["500"])[0])
                emails = fake.suppressions.get(kind, [])[offset:offset + limit]
                return self._reply(200, [{"email": e, "created": 1, "reason": "x"}
                                         for e in emails])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSendGrid:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
