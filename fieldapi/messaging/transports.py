"""The one seam for sending texts: `Transport`, its Twilio and console implementations.

`TwilioTransport` runs the real `twilio` client. Its requests can be routed to a
Twilio-compatible server (`TWILIO_API_BASE_URL`, e.g. the local fake in tests and staging)
so the real client code is what gets exercised.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

TWILIO_API_BASE_URL = "https://api.twilio.com"
PERMANENT_OPT_OUT_CODE = 21610
LOOKUP_LIMIT = 50  # texts to one number in a day worth scanning for one that went out

sms_logger = logging.getLogger("fieldapi.sms")


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # Twilio's initial status, e.g. "queued"


class TransportError(Exception):
    """A text was not accepted. `code` is Twilio's error code when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.retry_after_s = retry_after_s  # from a Retry-After header, when there was one

    @property
    def is_opt_out(self) -> bool:
        return self.code == PERMANENT_OPT_OUT_CODE

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http_status={self.http_status}")
        return " ".join(parts)


class TransientSendError(TransportError):
    """Retry later: HTTP 5xx, 429, timeouts, connection errors."""


class PermanentSendError(TransportError):
    """Never retry: any other 4xx (e.g. 21610 unsubscribed, 21211 invalid number)."""


class Transport(Protocol):
    def send(self, *, to: str, body: str, status_callback: str | None) -> SendResult: ...

    def sent_since(self, *, to: str, body: str, since: datetime) -> list[SendResult]:
        """The texts `body` to `to` this account sent at or after `since`, newest first
        (raises TransportError when it cannot tell)."""
        ...


def rewrite_base_url(url: str, base_url: str | None) -> str:
    """`url` with its `https://api.twilio.com` prefix replaced by `base_url` (when given)."""
    if not base_url or base_url == TWILIO_API_BASE_URL:
        return url
    if url == TWILIO_API_BASE_URL or url.startswith(TWILIO_API_BASE_URL + "/"):
        return base_url + url[len(TWILIO_API_BASE_URL) :]
    return url


class _RoutingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """twilio's own HTTP client, with two additions.

    * Base URL override. twilio 9.x builds absolute `https://api.twilio.com/...` URLs in its
      generated `Domain` classes and has no base-URL option; the documented extension point
      is the `http_client` passed to `Client` (twilio-python's custom-http-client guide,
      twilio/twilio-python#521). Rewriting the prefix here reaches every request the client
      makes, whichever resource object built it. (Assigning `client.api.base_url` would also
      work, but only for the objects reached through that one `Api` domain instance.)
    * The last response's Retry-After, per thread, since twilio's exceptions drop headers.
    """

    def __init__(self, *, timeout: float, base_url: str | None) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url
        self._last = threading.local()

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self._last.retry_after_s = None
        response = super().request(
            method,
            rewrite_base_url(url, self.base_url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._last.retry_after_s = _parse_retry_after((response.headers or {}).get("Retry-After"))
        return response

    @property
    def last_retry_after_s(self) -> float | None:
        return getattr(self._last, "retry_after_s", None)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def _parse_retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: not worth parsing, the caller backs off its own way
        return None


def error_from_twilio(
    error: TwilioRestException | TwilioServiceException, retry_after_s: float | None = None
) -> TransportError:
    """Transient for 5xx and 429, permanent for every other status."""
    status = int(error.status)
    # twilio falls back to the HTTP status as `code` when the body has none.
    code = error.code if error.code is not None and error.code != status else None
    message = str(getattr(error, "msg", None) or getattr(error, "title", "") or error)
    kind = TransientSendError if status >= 500 or status == 429 else PermanentSendError
    return kind(message, code=code, http_status=status, retry_after_s=retry_after_s)


class TwilioTransport:
    """Sends through Twilio's REST API with the real `twilio` client."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None,
        messaging_service_sid: str | None,
        api_base_url: str | None,
        timeout_s: float = 10.0,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("TwilioTransport needs an account SID and an auth token")
        if not from_number and not messaging_service_sid:
            raise ValueError("TwilioTransport needs a from number or a messaging service SID")
        base_url = (api_base_url or "").rstrip("/") or None
        self.from_number = from_number or None
        self.messaging_service_sid = messaging_service_sid or None
        self.api_base_url = base_url or TWILIO_API_BASE_URL
        self._http = _RoutingHttpClient(timeout=timeout_s, base_url=base_url)
        self.client = Client(account_sid, auth_token, http_client=self._http)
        if base_url and base_url != TWILIO_API_BASE_URL:
            # TWILIO_EDGE / TWILIO_REGION would rename the host before our rewrite sees it.
            self.client.edge = None
            self.client.region = None

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        sender: dict[str, Any] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        if status_callback:
            sender["status_callback"] = status_callback
        try:
            message = self.client.messages.create(to=to, body=body, **sender)
        except (TwilioRestException, TwilioServiceException) as error:
            raise error_from_twilio(error, self._http.last_retry_after_s) from error
        except requests.Timeout as error:
            raise TransientSendError(f"Twilio timed out: {error}") from error
        except (requests.RequestException, OSError) as error:
            raise TransientSendError(f"cannot reach Twilio: {error}") from error
        except TwilioException as error:
            raise TransientSendError(f"Twilio client error: {error}") from error
        if not message.sid:
            raise TransientSendError("Twilio answered without a message SID")
        return SendResult(sid=message.sid, status=str(message.status or "queued"))

    def sent_since(self, *, to: str, body: str, since: datetime) -> list[SendResult]:
        """Twilio's Messages list filtered by `To` and `DateSent` (a GMT day, so the time is
        matched here, with the body)."""
        try:
            listed = self.client.messages.list(
                to=to, date_sent_after=since.astimezone(UTC).date(), limit=LOOKUP_LIMIT
            )
        except (TwilioRestException, TwilioServiceException) as error:
            raise error_from_twilio(error, self._http.last_retry_after_s) from error
        except (requests.RequestException, OSError, TwilioException) as error:
            raise TransientSendError(f"cannot look the text up at Twilio: {error}") from error
        return [
            SendResult(sid=message.sid, status=str(message.status or "queued"))
            for message in listed  # newest first
            if message.sid
            and message.body == body
            and (message.date_created or message.date_sent or since) >= since
        ]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TwilioTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ConsoleTransport:
    """Development: the text is logged (INFO, logger `fieldapi.sms`), nothing is sent."""

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        sms_logger.info("SMS to %s: %s", to, body)
        return SendResult(sid="CONSOLE" + uuid.uuid4().hex, status="sent")

    def sent_since(self, *, to: str, body: str, since: datetime) -> list[SendResult]:
        return []  # nothing left this machine: sending again only logs it again

    def close(self) -> None:
        pass


def build_transport(name: str, **settings: Any) -> Transport:
    """`"twilio"` (settings: TwilioTransport's keyword arguments) or `"console"` (ignores them)."""
    kind = name.strip().lower()
    if kind == "console":
        return ConsoleTransport()
    if kind == "twilio":
        return TwilioTransport(
            account_sid=settings.get("account_sid") or "",
            auth_token=settings.get("auth_token") or "",
            from_number=settings.get("from_number") or None,
            messaging_service_sid=settings.get("messaging_service_sid") or None,
            api_base_url=settings.get("api_base_url") or None,
            timeout_s=float(settings.get("timeout_s") or 10.0),
        )
    raise ValueError(f"unknown SMS transport {name!r} (expected 'twilio' or 'console')")
