"""A local HTTP server speaking SendGrid's v3 mail-send and suppression APIs."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeSendGrid:
    """``script``: a list of answers for successive mail-send calls, then ``default``.

    An answer is "ok", "429:<seconds until reset>", "500", "400", "413" or "stall".
    """

    def __init__(self, script: list[str] | None = None, default: str = "ok",
                 suppressions: dict[str, list[str]] | None = None, stall: float = 3.0):
        self.script = list(script or [])
        self.default = default
        self.stall = stall
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
                with fake.lock:
                    fake.auth.append(self.headers.get("Authorization", ""))
                    answer = fake.script.pop(0) if fake.script else fake.default
                    if answer == "ok":
                        fake.bodies.append(body)
                        n = len(fake.bodies)
                if urlparse(self.path).path != "/v3/mail/send":
                    return self._reply(404, {"errors": [{"message": "not found"}]})
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
