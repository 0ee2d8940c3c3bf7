"""A Twilio-compatible local server for tests, staging and by-hand runs.

It answers `POST /2010-04-01/Accounts/<AccountSid>/Messages.json` the way Twilio does (basic
auth, form body, Twilio-shaped JSON), records what it accepts, fails on demand and sends
signed status callbacks. `GET` on the same path lists the accepted messages newest first,
filtered as Twilio filters them: `To`, `From`, and `DateSent` / `DateSent>` / `DateSent<`
(GMT dates: `DateSent>` is "on or after that day"); the fake sends at once, so a message's
`date_sent` is when it was accepted. Point the real client at it with `TWILIO_API_BASE_URL`.

Python:   with FakeTwilio() as fake: fake.base_url; fake.fail_next(status=500, times=2)
Command:  python -m fieldapi.messaging.twilio_fake --port 8765 --account-sid AC... --auth-token T

Control API (JSON, for other processes; no auth, bind it to 127.0.0.1):
  GET  /_control/messages                      {"messages": [...]}
  POST /_control/fail_next     {"status": 500, "code": null, "times": 1, "retry_after": null,
                                "delay_s": 0, "message": null}   (status or code)
  POST /_control/delay_next    {"seconds": 2.0, "times": 1}
  POST /_control/slow_answer_next {"seconds": 5.0, "times": 1}  (accepted, answered late)
  POST /_control/fail_rate     {"rate": 0.3, "status": 500}  (each send, at random; 0: off)
  GET  /_control/answers_held  {"count": <accepted sends still waiting for their answer>}
  POST /_control/fail_for      {"to": "+15555550100", "code": 21211, "status": null}
  POST /_control/status_callback {"message_sid": "SM...", "status": "delivered",
                                  "error_code": null}  -> {"http_status": <receiver's>}
  POST /_control/reset         {}   (failures, rules and recorded messages)
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import dataclasses
import json
import logging
import os
import random
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fieldapi.messaging.signing import SIGNATURE_HEADER, twilio_signature

logger = logging.getLogger("fieldapi.twilio_fake")

API_VERSION = "2010-04-01"
TEST_ACCOUNT_SID = "AC" + "0" * 31 + "1"
TEST_AUTH_TOKEN = "fake-twilio-auth-token"
TEST_FROM_NUMBER = "+15005550006"  # Twilio's own "valid test number"

# Twilio error code -> (HTTP status, message)
TWILIO_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    20503: (503, "Service unavailable"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21408: (400, "Permission to send an SMS has not been enabled for the region"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    30006: (400, "Landline or unreachable carrier"),
}
_CODE_FOR_STATUS = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}

_MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def num_segments(body: str) -> int:
    """How many SMS segments Twilio bills `body` as (GSM-7 or UCS-2)."""
    single, multi = (160, 153) if set(body) <= _GSM7 else (70, 67)
    length = len(body)
    return 1 if length <= single else -(-length // multi)


@dataclasses.dataclass(frozen=True)
class FakeMessage:
    """A message the fake accepted; `params` is the form the client posted."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    status: str
    params: dict[str, str]
    date_created: datetime

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def twilio_json(self) -> dict[str, Any]:
        """The resource as Twilio's API returns it."""
        date = format_datetime(self.date_created)
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": date,
            "date_sent": date,
            "date_updated": date,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(num_segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": self.uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": self.uri,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "messaging_service_sid": self.messaging_service_sid,
            "status_callback": self.status_callback,
            "status": self.status,
            "params": dict(self.params),
        }


@dataclasses.dataclass(frozen=True)
class _Behaviour:
    status: int | None = None  # None: answer normally (after the delay)
    code: int | None = None
    message: str | None = None
    retry_after: int | None = None
    delay_s: float = 0.0
    answer_delay_s: float = 0.0  # after accepting: Twilio has the text, the client waits


def _error_body(status: int, code: int | None, message: str | None) -> dict[str, Any]:
    code = code if code is not None else _CODE_FOR_STATUS.get(status)
    default = TWILIO_ERRORS.get(code or 0, (status, f"HTTP {status}"))[1]
    return {
        "code": code,
        "message": message or default,
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }


def _gmt_day(value: str | None) -> date | None:
    """The day of a DateSent filter: `YYYY-MM-DD` or a full ISO time (the client sends one)."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")[:25]).date()


def _status_for(status: int | None, code: int | None) -> int:
    if status is not None:
        return status
    if code is None:
        raise ValueError("give a status, a code, or both")
    return TWILIO_ERRORS.get(code, (400, ""))[0]


class FakeTwilio:
    """The server; start/stop it, or use it as a context manager."""

    def __init__(
        self,
        *,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        service_from_number: str = TEST_FROM_NUMBER,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.service_from_number = service_from_number  # the From of messaging-service sends
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._messages: list[FakeMessage] = []
        self._behaviours: deque[_Behaviour] = deque()
        self._recipient_rules: dict[str, _Behaviour] = {}
        self._fail_rate = 0.0
        self._fail_rate_status = 500
        self._random = random.Random()
        self._answers_held = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-twilio:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes slow answers
        server.shutdown()
        server.server_close()  # joins the request threads
        if thread is not None:
            thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What to give as TWILIO_API_BASE_URL, e.g. `http://127.0.0.1:8765`."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    def env(self, *, from_number: str = TEST_FROM_NUMBER) -> dict[str, str]:
        """Environment variables pointing the app (or a worker process) at this server."""
        return {
            "SMS_TRANSPORT": "twilio",
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM": from_number,
            "TWILIO_API_BASE_URL": self.base_url,
        }

    # -- programming failures --------------------------------------------------------------

    def fail_next(
        self,
        *,
        status: int | None = None,
        code: int | None = None,
        times: int = 1,
        message: str | None = None,
        retry_after: int | None = None,
        delay_s: float = 0.0,
    ) -> None:
        """The next `times` send requests fail with `status` and/or Twilio error `code`.

        The status defaults from the code (21610 -> 400), the code from the status
        (500 -> 20500); a 429 carries `Retry-After` (default 1).
        """
        http_status = _status_for(status, code)
        if http_status == 429 and retry_after is None:
            retry_after = 1
        behaviour = _Behaviour(http_status, code, message, retry_after, delay_s)
        with self._lock:
            self._behaviours.extend([behaviour] * times)

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """The next `times` send requests wait `seconds`, then are answered normally."""
        with self._lock:
            self._behaviours.extend([_Behaviour(delay_s=seconds)] * times)

    def slow_answer_next(self, seconds: float, *, times: int = 1) -> None:
        """The next `times` sends are accepted at once but answered `seconds` later: a
        client that dies meanwhile never learns its text went out."""
        with self._lock:
            self._behaviours.extend([_Behaviour(answer_delay_s=seconds)] * times)

    def set_fail_rate(self, rate: float, *, status: int = 500, seed: int | None = None) -> None:
        """Each send (not otherwise programmed) fails with `status` with probability `rate`."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate is between 0 and 1")
        with self._lock:
            self._fail_rate, self._fail_rate_status = rate, status
            if seed is not None:
                self._random.seed(seed)

    @property
    def answers_held(self) -> int:
        """Sends accepted whose answer is still being held back (`slow_answer_next`)."""
        with self._lock:
            return self._answers_held

    def fail_for(self, to: str, *, code: int, status: int | None = None) -> None:
        """Every send to `to` fails with `code` until `clear_failures()`."""
        behaviour = _Behaviour(_status_for(status, code), code)
        with self._lock:
            self._recipient_rules[to] = behaviour

    def clear_failures(self) -> None:
        with self._lock:
            self._behaviours.clear()
            self._recipient_rules.clear()
            self._fail_rate = 0.0

    def reset(self) -> None:
        """Forget failures, rules and recorded messages."""
        with self._lock:
            self._behaviours.clear()
            self._recipient_rules.clear()
            self._fail_rate = 0.0
            self._messages.clear()

    # -- what was sent ---------------------------------------------------------------------

    @property
    def messages(self) -> list[FakeMessage]:
        with self._lock:
            return list(self._messages)

    def message(self, sid: str) -> FakeMessage:
        with self._lock:
            for message in self._messages:
                if message.sid == sid:
                    return message
        raise KeyError(sid)

    def wait_for_messages(self, count: int, timeout_s: float = 5.0) -> list[FakeMessage]:
        """The recorded messages once there are at least `count` (TimeoutError otherwise)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout_s):
                raise TimeoutError(f"{len(self._messages)} messages after {timeout_s}s")
            return list(self._messages)

    # -- callbacks and signatures ----------------------------------------------------------

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send with `params` posted to `url`."""
        return twilio_signature(self.auth_token, url, params)

    def status_callback_params(
        self, message_sid: str, status: str, error_code: int | None = None
    ) -> dict[str, str]:
        message = self.message(message_sid)
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or self.service_from_number,
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    def send_status_callback(
        self, message_sid: str, status: str, error_code: int | None = None
    ) -> int:
        """POST a signed status callback to the message's StatusCallback; the answer's status.

        The message's recorded status becomes `status`.
        """
        message = self.message(message_sid)
        if not message.status_callback:
            raise ValueError(f"message {message_sid} has no StatusCallback")
        params = self.status_callback_params(message_sid, status, error_code)
        with self._lock:
            self._messages = [
                dataclasses.replace(m, status=status) if m.sid == message_sid else m
                for m in self._messages
            ]
        return self.post_signed(message.status_callback, params)

    def inbound_sms_params(
        self, *, from_: str, body: str, to: str = TEST_FROM_NUMBER
    ) -> dict[str, str]:
        """The form Twilio posts to an inbound-SMS webhook."""
        sid = "SM" + uuid.uuid4().hex
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(num_segments(body)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }

    def post_signed(self, url: str, params: Mapping[str, str], timeout_s: float = 5.0) -> int:
        """POST `params` form-encoded to `url`, signed like Twilio; the answer's HTTP status."""
        request = urllib.request.Request(
            url,
            data=urlencode(params).encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
                SIGNATURE_HEADER: self.sign(url, params),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            with error:
                return int(error.code)

    # -- request handling (called from the server's threads) -------------------------------

    def _next_behaviour(self) -> _Behaviour | None:
        with self._lock:
            if self._behaviours:
                return self._behaviours.popleft()
            if self._fail_rate and self._random.random() < self._fail_rate:
                status = self._fail_rate_status
                return _Behaviour(status, None, None, 1 if status == 429 else None)
            return None

    def _list_messages(self, account: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Twilio's Messages list: newest first, filtered on To, From and the day sent."""
        try:
            on, after, before = (
                _gmt_day(query.get(k)) for k in ("DateSent", "DateSent>", "DateSent<")
            )
            page_size = max(1, min(1000, int(query.get("PageSize") or 50)))
        except ValueError:
            return 400, _error_body(400, None, "Invalid DateSent or PageSize")

        def wanted(message: FakeMessage) -> bool:
            day = message.date_created.date()
            return (
                message.account_sid == account
                and query.get("To", message.to) == message.to
                and query.get("From", message.from_) == message.from_
                and (on is None or day == on)
                and (after is None or day >= after)
                and (before is None or day <= before)
            )

        found = [m for m in reversed(self.messages) if wanted(m)][:page_size]
        uri = f"/{API_VERSION}/Accounts/{account}/Messages.json"
        return 200, {
            "messages": [m.twilio_json() for m in found],
            "end": max(0, len(found) - 1),
            "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": page_size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{uri}?PageSize={page_size}&Page=0",
        }

    def _create_message(self, account: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, body = form.get("To", ""), form.get("Body", "")
        service = form.get("MessagingServiceSid") or None
        from_ = form.get("From") or None
        if not to:
            return 400, _error_body(400, 21604, None)
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return 400, _error_body(400, 21602, None)
        if not from_ and not service:
            return 400, _error_body(400, 21603, None)
        with self._lock:
            rule = self._recipient_rules.get(to)
        if rule is not None and rule.status is not None:
            return rule.status, _error_body(rule.status, rule.code, rule.message)
        message = FakeMessage(
            sid="SM" + uuid.uuid4().hex,
            account_sid=account,
            to=to,
            from_=from_,
            body=body,
            messaging_service_sid=service,
            status_callback=form.get("StatusCallback") or None,
            status="queued",
            params=dict(form),
            date_created=datetime.now(UTC).replace(microsecond=0),
        )
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()
        return 201, message.twilio_json()

    def _control(self, method: str, action: str, payload: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET" and action == "messages":
            return 200, {"messages": [m.as_dict() for m in self.messages]}
        if method == "GET" and action == "answers_held":
            return 200, {"count": self.answers_held}
        if method != "POST":
            return 405, {"error": "use POST"}
        if action == "fail_next":
            self.fail_next(
                status=payload.get("status"),
                code=payload.get("code"),
                times=int(payload.get("times", 1)),
                message=payload.get("message"),
                retry_after=payload.get("retry_after"),
                delay_s=float(payload.get("delay_s", 0.0)),
            )
        elif action == "delay_next":
            self.delay_next(float(payload["seconds"]), times=int(payload.get("times", 1)))
        elif action == "slow_answer_next":
            self.slow_answer_next(float(payload["seconds"]), times=int(payload.get("times", 1)))
        elif action == "fail_rate":
            self.set_fail_rate(float(payload["rate"]), status=int(payload.get("status", 500)))
        elif action == "fail_for":
            self.fail_for(payload["to"], code=int(payload["code"]), status=payload.get("status"))
        elif action == "clear_failures":
            self.clear_failures()
        elif action == "reset":
            self.reset()
        elif action == "status_callback":
            status = self.send_status_callback(
                payload["message_sid"], payload["status"], payload.get("error_code")
            )
            return 200, {"http_status": status}
        else:
            return 404, {"error": f"unknown control action {action!r}"}
        return 200, {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the request threads
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeTwilio):
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout) leaves a broken pipe: not an error here.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a silent client cannot hold server_close() forever
    server_version = "FakeTwilio/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        if path.startswith("/_control/"):
            try:
                payload = json.loads(raw or b"{}")
                status, answer = fake._control(method, path[len("/_control/") :], payload)
            except (KeyError, ValueError, TypeError) as error:
                status, answer = 400, {"error": f"{type(error).__name__}: {error}"}
            self._json(status, answer)
            return
        match = _MESSAGES_PATH.match(path)
        if match is None:
            self._json(404, _error_body(404, 20404, f"The requested resource {path} was not found"))
            return
        if self._credentials() != (fake.account_sid, fake.auth_token):
            self._json(
                401, _error_body(401, 20003, None), {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
            return
        if match["account"] != fake.account_sid:
            self._json(404, _error_body(404, 20404, f"The requested resource {path} was not found"))
            return
        if method == "GET":
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            self._json(*fake._list_messages(match["account"], query))
            return
        behaviour = fake._next_behaviour()
        if behaviour is not None:
            if behaviour.delay_s and fake._stopping.wait(behaviour.delay_s):
                return  # shutting down: drop the request, as a dead server would
            if behaviour.status is not None:
                headers = {}
                if behaviour.retry_after is not None:
                    headers["Retry-After"] = str(behaviour.retry_after)
                body = _error_body(behaviour.status, behaviour.code, behaviour.message)
                self._json(behaviour.status, body, headers)
                return
        form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        answer = fake._create_message(match["account"], form)
        if behaviour is not None and behaviour.answer_delay_s:
            with fake._lock:
                fake._answers_held += 1
            try:
                if fake._stopping.wait(behaviour.answer_delay_s):
                    return
            finally:
                with fake._lock:
                    fake._answers_held -= 1
        self._json(*answer)

    def _credentials(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None

    def _json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A Twilio-compatible local server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID") or TEST_ACCOUNT_SID
    )
    parser.add_argument(
        "--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN") or TEST_AUTH_TOKEN
    )
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        account_sid=args.account_sid, auth_token=args.auth_token, host=args.host, port=args.port
    )
    with fake:
        print(f"fake Twilio at {fake.base_url} (account {fake.account_sid})", flush=True)
        print(f"TWILIO_API_BASE_URL={fake.base_url}", flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
