"""A real local HTTP receiver of enterprise webhooks: it verifies every signature with the
documented scheme (`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`), keeps what it
received, and fails or hangs on command."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOLERANCE_S = 300


def verify(secret: str, header: str, body: bytes, *, now: float) -> bool:
    """The receiver's side of the scheme, written from the documentation."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    if abs(now - int(parts["t"])) > TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


@dataclass
class Receiver:
    url: str
    secret: str = ""
    fail_next: int = 0  # answer 500 to this many requests
    hang_s: float = 0.0  # wait this long before answering
    received: list[dict[str, Any]] = field(default_factory=list)  # verified events
    rejected: list[bytes] = field(default_factory=list)  # bodies with a bad signature
    answered: list[int] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # the Host header of each request
    lock: threading.Lock = field(default_factory=threading.Lock)

    def event_ids(self) -> list[str]:
        return [str(event["id"]) for event in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.hang_s:
                time.sleep(state.hang_s)
            with state.lock:
                state.hosts.append(self.headers.get("Host", ""))
                signature = self.headers.get("X-Fieldapi-Signature", "")
                if not verify(state.secret, signature, body, now=time.time()):
                    state.rejected.append(body)
                    status = 400
                elif state.fail_next > 0:
                    state.fail_next -= 1
                    status = 500
                else:
                    state.received.append(json.loads(body))
                    status = 200
                state.answered.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            with contextlib.suppress(OSError):  # the sender gave up waiting and hung up
                self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/fieldapi"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
