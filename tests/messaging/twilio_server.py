"""The `fake_twilio` fixture: a started local Twilio-compatible server (see twilio_fake).

Use it from a conftest or test module:

    from tests.messaging.twilio_server import fake_twilio  # noqa: F401

then `fake_twilio.base_url`, `fake_twilio.env()`, `fake_twilio.fail_next(...)`, ...
`twilio_transport(fake_twilio)` builds the real TwilioTransport aimed at it;
`CallbackReceiver` is a local HTTP endpoint to receive its status callbacks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from fieldapi.messaging.transports import TwilioTransport
from fieldapi.messaging.twilio_fake import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilio,
)


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as fake:
        yield fake


def twilio_transport(
    fake: FakeTwilio,
    *,
    from_number: str | None = TEST_FROM_NUMBER,
    messaging_service_sid: str | None = None,
    auth_token: str | None = None,
    timeout_s: float = 5.0,
) -> TwilioTransport:
    """The real TwilioTransport sending to `fake` (close it, or use it in a `with`)."""
    return TwilioTransport(
        account_sid=fake.account_sid,
        auth_token=auth_token or fake.auth_token,
        from_number=from_number,
        messaging_service_sid=messaging_service_sid,
        api_base_url=fake.base_url,
        timeout_s=timeout_s,
    )


class CallbackReceiver:
    """A tiny HTTP server recording the form POSTs it gets (as Twilio's callbacks arrive).

    `with CallbackReceiver() as receiver:` `receiver.url("/status")`, `receiver.wait(1)`.
    """

    def __init__(self, answer_status: int = 204) -> None:
        self.answer_status = answer_status
        self.requests: list[ReceivedRequest] = []
        self._received = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def wait(self, count: int, timeout_s: float = 5.0) -> list[ReceivedRequest]:
        with self._received:
            if not self._received.wait_for(lambda: len(self.requests) >= count, timeout_s):
                raise TimeoutError(f"{len(self.requests)} callbacks after {timeout_s}s")
            return list(self.requests)

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                self.send_response(receiver.answer_status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver._received:
                    receiver.requests.append(
                        ReceivedRequest(
                            self.path, {k.lower(): v for k, v in self.headers.items()}, form
                        )
                    )
                    receiver._received.notify_all()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # names in lower case
    form: dict[str, str]
