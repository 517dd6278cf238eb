"""Many posts to the hooks at once: each may hold up to its limit in memory, so only a
few are read at a time and the rest are answered 503 (the providers post again)."""

from __future__ import annotations

import time

from newsletter.web import hooks
from tests.security.server import read_response, request, serving

INBOUND = "/newsletter/app/hooks/inbound"
HEAD = (f"POST {INBOUND} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode()


def _post_small(served) -> int:
    return request(served, f"POST {INBOUND} HTTP/1.1\nHost: x\nConnection: close\n"
                           "Content-Type: application/x-www-form-urlencoded\n"
                           "Content-Length: 5", b"a=b&c")[0]


def test_posts_beyond_the_few_being_read_are_503_and_the_held_ones_finish(ws_root, tmp_path):
    with serving(ws_root, tmp_path / "serve.log") as served:
        assert _post_small(served) == 400  # not an Inbound Parse post, but read
        held = [served.connect() for _ in range(hooks.MAX_READING)]
        try:
            for conn in held:  # a body that has begun and does not end
                conn.sendall(HEAD + b"6\r\ntext=x\r\n")
            deadline = time.monotonic() + 10
            while (status := _post_small(served)) != 503 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert status == 503
            for conn in held:  # the held posts end, are read and answered
                conn.sendall(b"0\r\n\r\n")
                assert read_response(conn)[0] == 400
        finally:
            for conn in held:
                conn.close()
        assert _post_small(served) == 400  # room again
