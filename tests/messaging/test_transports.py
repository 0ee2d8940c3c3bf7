"""The transports: the real TwilioTransport against the local fake, and the console one."""

from __future__ import annotations

import logging
import re
import socket
from typing import NoReturn

import pytest
import requests
import requests.adapters
from twilio.base.exceptions import TwilioRestException

from fieldapi.messaging.transports import (
    PERMANENT_OPT_OUT_CODE,
    ConsoleTransport,
    PermanentSendError,
    SendResult,
    TransientSendError,
    TransportError,
    TwilioTransport,
    build_transport,
    error_from_twilio,
)
from fieldapi.messaging.twilio_fake import TEST_FROM_NUMBER, FakeTwilio
from tests.messaging.twilio_server import fake_twilio, twilio_transport

__all__ = ["fake_twilio"]  # the fixture, imported to be used here

TO = "+15555550100"
SERVICE = "MG" + "3" * 32


def test_sends_through_the_real_client_to_the_base_url(fake_twilio: FakeTwilio) -> None:
    with twilio_transport(fake_twilio) as transport:
        result = transport.send(to=TO, body="Tech is 10 min away", status_callback="http://cb/s")

    assert isinstance(result, SendResult)
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.sid)
    assert result.status == "queued"
    [message] = fake_twilio.messages
    assert message.sid == result.sid
    assert message.params == {
        "To": TO,
        "From": TEST_FROM_NUMBER,
        "Body": "Tech is 10 min away",
        "StatusCallback": "http://cb/s",
    }
    assert message.status_callback == "http://cb/s"


def test_a_messaging_service_is_sent_instead_of_from(fake_twilio: FakeTwilio) -> None:
    with twilio_transport(fake_twilio, messaging_service_sid=SERVICE) as transport:
        transport.send(to=TO, body="x", status_callback=None)

    [message] = fake_twilio.messages
    assert message.params == {"To": TO, "Body": "x", "MessagingServiceSid": SERVICE}
    assert message.from_ is None and message.status_callback is None


def test_base_url_override_survives_twilio_edge_and_region(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    with twilio_transport(fake_twilio) as transport:
        transport.send(to=TO, body="x", status_callback=None)

    assert len(fake_twilio.messages) == 1


class RecordingAdapter(requests.adapters.BaseAdapter):
    """Stands in for the network: records the URL, then refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> NoReturn:
        self.urls.append(str(request.url))
        raise requests.ConnectionError("no network in tests")

    def close(self) -> None:
        pass


def test_without_an_override_requests_go_to_twilio() -> None:
    transport = TwilioTransport(
        account_sid="AC" + "4" * 32,
        auth_token="t",
        from_number=TEST_FROM_NUMBER,
        messaging_service_sid=None,
        api_base_url="https://api.twilio.com/",  # the setting's default: no rewrite
    )
    adapter = RecordingAdapter()
    transport.client.http_client.session.mount("https://", adapter)  # type: ignore[attr-defined]
    with transport, pytest.raises(TransientSendError, match="cannot reach Twilio"):
        transport.send(to=TO, body="x", status_callback=None)

    assert adapter.urls == [
        f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '4' * 32}/Messages.json"
    ]


def test_bad_credentials_are_permanent(fake_twilio: FakeTwilio) -> None:
    with (
        twilio_transport(fake_twilio, auth_token="wrong") as transport,
        pytest.raises(PermanentSendError) as raised,
    ):
        transport.send(to=TO, body="x", status_callback=None)

    assert (raised.value.http_status, raised.value.code) == (401, 20003)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_transient(fake_twilio: FakeTwilio, status: int) -> None:
    fake_twilio.fail_next(status=status)
    with twilio_transport(fake_twilio) as transport:
        with pytest.raises(TransientSendError) as raised:
            transport.send(to=TO, body="x", status_callback=None)
        retried = transport.send(to=TO, body="x", status_callback=None)

    assert raised.value.http_status == status
    assert retried.sid == fake_twilio.messages[0].sid


def test_rate_limit_is_transient_with_retry_after(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(status=429, retry_after=7)
    with twilio_transport(fake_twilio) as transport, pytest.raises(TransientSendError) as raised:
        transport.send(to=TO, body="x", status_callback=None)

    assert raised.value.http_status == 429
    assert raised.value.code == 20429
    assert raised.value.retry_after_s == 7.0


def test_a_slow_answer_beyond_the_timeout_is_transient(fake_twilio: FakeTwilio) -> None:
    fake_twilio.delay_next(2.0)
    with (
        twilio_transport(fake_twilio, timeout_s=0.2) as transport,
        pytest.raises(TransientSendError, match="timed out") as raised,
    ):
        transport.send(to=TO, body="x", status_callback=None)

    assert raised.value.http_status is None


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = TwilioTransport(
        account_sid="AC" + "0" * 32,
        auth_token="t",
        from_number=TEST_FROM_NUMBER,
        messaging_service_sid=None,
        api_base_url=f"http://127.0.0.1:{port}",
        timeout_s=2,
    )
    with transport, pytest.raises(TransientSendError, match="cannot reach Twilio"):
        transport.send(to=TO, body="x", status_callback=None)


@pytest.mark.parametrize("code", [21610, 21211, 21614, 30006])
def test_twilio_errors_are_permanent_with_their_code(fake_twilio: FakeTwilio, code: int) -> None:
    fake_twilio.fail_next(code=code)
    with twilio_transport(fake_twilio) as transport, pytest.raises(PermanentSendError) as raised:
        transport.send(to=TO, body="x", status_callback=None)

    assert raised.value.code == code
    assert raised.value.http_status == 400
    assert raised.value.is_opt_out is (code == PERMANENT_OPT_OUT_CODE)
    assert str(code) in str(raised.value)


def test_a_failing_recipient_does_not_affect_others(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_for("+15555550199", code=21610)
    with twilio_transport(fake_twilio) as transport:
        with pytest.raises(PermanentSendError) as raised:
            transport.send(to="+15555550199", body="x", status_callback=None)
        transport.send(to=TO, body="y", status_callback=None)

    assert raised.value.is_opt_out
    assert [m.to for m in fake_twilio.messages] == [TO]


def test_mapping_ignores_a_code_that_is_only_the_http_status() -> None:
    # twilio uses the HTTP status as `code` when the body is not Twilio's JSON.
    error = error_from_twilio(TwilioRestException(502, "https://x", "Bad gateway", code=502))
    assert isinstance(error, TransientSendError)
    assert (error.code, error.http_status) == (None, 502)
    assert isinstance(
        error_from_twilio(TwilioRestException(404, "u", code=20404)), PermanentSendError
    )


def test_console_transport_logs_the_text(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="fieldapi.sms"):
        result = ConsoleTransport().send(to=TO, body="Your tech is here", status_callback=None)

    assert re.fullmatch(r"CONSOLE[0-9a-f]{32}", result.sid)
    assert result.status == "sent"
    [record] = [r for r in caplog.records if r.name == "fieldapi.sms"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == f"SMS to {TO}: Your tech is here"


def test_build_transport(fake_twilio: FakeTwilio) -> None:
    settings = {
        "account_sid": fake_twilio.account_sid,
        "auth_token": fake_twilio.auth_token,
        "from_number": TEST_FROM_NUMBER,
        "messaging_service_sid": "",  # unset settings arrive as empty strings
        "api_base_url": fake_twilio.base_url,
    }
    assert isinstance(build_transport("console", **settings), ConsoleTransport)
    transport = build_transport(" Twilio ", **settings)
    assert isinstance(transport, TwilioTransport)
    with transport:
        transport.send(to=TO, body="x", status_callback=None)
    assert fake_twilio.messages[0].params["From"] == TEST_FROM_NUMBER
    with pytest.raises(ValueError, match="unknown SMS transport"):
        build_transport("carrier-pigeon")
    with pytest.raises(ValueError, match="from number"):
        build_transport("twilio", **{**settings, "from_number": ""})
    with pytest.raises(ValueError, match="auth token"):
        build_transport("twilio", **{**settings, "auth_token": ""})


def test_error_hierarchy() -> None:
    assert issubclass(TransientSendError, TransportError)
    assert issubclass(PermanentSendError, TransportError)
    assert not issubclass(PermanentSendError, TransientSendError)
