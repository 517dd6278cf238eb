"""A LibreTranslate-compatible HTTP server on 127.0.0.1 for tests, with misbehaviours."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeLibre:
    """``mode`` decides how /translate answers:

    ok          "[tr] <text>" (tokens kept, so unmasking works)
    429-once    the first call gets 429, later calls are ok
    500         every call gets 500
    stall       sleeps ``stall`` seconds before answering (the client should time out)
    drop        the first token [X1X] disappears from the answer
    dup         the first token appears twice
    spaces      tokens come back as [X 1 X]
    """

    def __init__(self, mode: str = "ok", stall: float = 3.0):
        self.mode = mode
        self.stall = stall
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    body = self.rfile.read(length).decode()
                    params.update({k: v[0] for k, v in parse_qs(body).items()})
                with fake.lock:
                    fake.calls.append(params)
                    n = len(fake.calls)
                if url.path != "/translate":
                    return self._send(404, {"error": "not found"})
                mode = fake.mode
                if mode == "500" or (mode == "429-once" and n == 1):
                    return self._send(500 if mode == "500" else 429, {"error": "busy"})
                if mode == "stall":
                    time.sleep(fake.stall)
                text = f"[{params.get('target')}] {params.get('q', '')}"
                if mode == "drop":
                    text = text.replace("[X1X]", "", 1)
                elif mode == "dup":
                    text = text + " [X1X]"
                elif mode == "spaces":
                    text = re.sub(r"\[X(\d+)X\]", r"[X \1 X]", text)
                return self._send(200, {"translatedText": text})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # the client may have timed out and gone

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLibre:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
