"""The local Twilio-compatible server, driven by plain HTTP, by twilio's client and by hand."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from fieldapi.messaging.signing import is_valid_twilio_request, twilio_signature
from fieldapi.messaging.transports import rewrite_base_url
from fieldapi.messaging.twilio_fake import (
    TEST_FROM_NUMBER,
    FakeTwilio,
    num_segments,
)
from tests.messaging.twilio_server import CallbackReceiver, fake_twilio, twilio_transport

__all__ = ["fake_twilio"]  # the fixture, imported to be used here

SID = re.compile(r"^SM[0-9a-f]{32}$")
TO = "+15555550100"


def post(fake: FakeTwilio, form: dict[str, str], auth: tuple[str, str] | None = None):
    return requests.post(
        fake.messages_url, data=form, auth=auth or (fake.account_sid, fake.auth_token), timeout=5
    )


def control(fake: FakeTwilio, action: str, payload: dict | None = None) -> requests.Response:
    return requests.post(f"{fake.base_url}/_control/{action}", json=payload or {}, timeout=5)


def test_accepts_a_message_with_twilio_shaped_json(fake_twilio: FakeTwilio) -> None:
    form = {"To": TO, "From": TEST_FROM_NUMBER, "Body": "On my way", "StatusCallback": "http://x/s"}
    answer = post(fake_twilio, form)

    assert answer.status_code == 201
    data = answer.json()
    assert SID.match(data["sid"])
    assert data["account_sid"] == fake_twilio.account_sid
    assert (data["to"], data["from"], data["body"]) == (TO, TEST_FROM_NUMBER, "On my way")
    assert data["status"] == "queued"
    assert data["error_code"] is None
    assert data["num_segments"] == "1"
    assert (
        data["uri"] == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages/{data['sid']}.json"
    )
    [message] = fake_twilio.messages
    assert message.sid == data["sid"]
    assert message.status_callback == "http://x/s"
    assert message.params == form


def test_the_twilio_client_parses_the_answer_into_a_message_instance(
    fake_twilio: FakeTwilio,
) -> None:
    client = Client(fake_twilio.account_sid, fake_twilio.auth_token)
    client.api.base_url = fake_twilio.base_url  # plain twilio, without our transport
    try:
        message = client.messages.create(to=TO, from_=TEST_FROM_NUMBER, body="hi")
    finally:
        client.http_client.session.close()  # type: ignore[attr-defined]

    assert SID.match(message.sid or "")
    assert message.status == "queued"
    assert message.date_created is not None and message.date_created.tzinfo is not None
    assert fake_twilio.messages[0].body == "hi"


def test_wrong_credentials_answer_401_with_code_20003(fake_twilio: FakeTwilio) -> None:
    answer = post(fake_twilio, {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"}, ("AC1", "nope"))

    assert answer.status_code == 401
    assert answer.json()["code"] == 20003
    assert fake_twilio.messages == []


@pytest.mark.parametrize(("missing", "code"), [("To", 21604), ("Body", 21602), ("From", 21603)])
def test_missing_parameters_answer_400_with_twilio_codes(
    fake_twilio: FakeTwilio, missing: str, code: int
) -> None:
    form = {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"}
    del form[missing]

    answer = post(fake_twilio, form)

    assert (answer.status_code, answer.json()["code"]) == (400, code)
    assert fake_twilio.messages == []


def test_a_messaging_service_replaces_from(fake_twilio: FakeTwilio) -> None:
    answer = post(fake_twilio, {"To": TO, "MessagingServiceSid": "MG" + "1" * 32, "Body": "x"})

    assert answer.status_code == 201
    assert answer.json()["messaging_service_sid"] == "MG" + "1" * 32


def test_failures_are_used_in_order_then_it_accepts_again(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(status=500, times=2)
    fake_twilio.fail_next(code=21610)
    form = {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"}

    answers = [post(fake_twilio, form) for _ in range(4)]

    assert [a.status_code for a in answers] == [500, 500, 400, 201]
    assert answers[0].json()["code"] == 20500
    assert answers[2].json() == {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    assert len(fake_twilio.messages) == 1


def test_429_carries_retry_after(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(status=429, retry_after=3)

    answer = post(fake_twilio, {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"})

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "3"


def test_fail_for_one_recipient_only(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_for("+15555550199", code=21211)

    bad = post(fake_twilio, {"To": "+15555550199", "From": TEST_FROM_NUMBER, "Body": "x"})
    good = post(fake_twilio, {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"})
    again = post(fake_twilio, {"To": "+15555550199", "From": TEST_FROM_NUMBER, "Body": "x"})

    assert (bad.status_code, bad.json()["code"]) == (400, 21211)
    assert good.status_code == 201
    assert again.status_code == 400
    fake_twilio.clear_failures()
    assert post(fake_twilio, {"To": "+15555550199", "From": "+1", "Body": "x"}).status_code == 201


def test_a_slow_answer_still_accepts(fake_twilio: FakeTwilio) -> None:
    fake_twilio.delay_next(0.3)
    answer_time: list[float] = []
    timer = threading.Timer(0.15, lambda: answer_time.append(len(fake_twilio.messages)))
    timer.start()

    answer = post(fake_twilio, {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"})
    timer.join()

    assert answer.status_code == 201
    assert answer_time == [0]  # nothing accepted while it was still waiting


def test_control_api_drives_it_from_another_process(fake_twilio: FakeTwilio) -> None:
    assert control(fake_twilio, "fail_next", {"status": 503, "times": 1}).status_code == 200
    assert control(fake_twilio, "fail_for", {"to": "+15555550111", "code": 21614}).ok
    form = {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"}

    assert post(fake_twilio, form).status_code == 503
    assert post(fake_twilio, form).status_code == 201
    assert post(fake_twilio, {**form, "To": "+15555550111"}).json()["code"] == 21614

    listed = requests.get(f"{fake_twilio.base_url}/_control/messages", timeout=5).json()
    assert [m["to"] for m in listed["messages"]] == [TO]
    assert control(fake_twilio, "nonsense").status_code == 404
    assert control(fake_twilio, "fail_for", {"code": 21614}).status_code == 400

    assert control(fake_twilio, "reset").ok
    assert fake_twilio.messages == []
    assert post(fake_twilio, {**form, "To": "+15555550111"}).status_code == 201


def test_status_callback_is_signed_like_twilio(fake_twilio: FakeTwilio) -> None:
    with CallbackReceiver() as receiver:
        callback = receiver.url("/v1/webhooks/twilio/status?org=7")
        form = {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x", "StatusCallback": callback}
        sid = post(fake_twilio, form).json()["sid"]

        assert fake_twilio.send_status_callback(sid, "undelivered", error_code=30006) == 204
        [got] = receiver.wait(1)

    assert got.path == "/v1/webhooks/twilio/status?org=7"
    assert got.form == {
        "AccountSid": fake_twilio.account_sid,
        "ApiVersion": "2010-04-01",
        "ErrorCode": "30006",
        "From": TEST_FROM_NUMBER,
        "MessageSid": sid,
        "MessageStatus": "undelivered",
        "SmsSid": sid,
        "SmsStatus": "undelivered",
        "To": TO,
    }
    signature = got.headers["x-twilio-signature"]
    assert RequestValidator(fake_twilio.auth_token).validate(callback, got.form, signature)
    assert not RequestValidator("another-token").validate(callback, got.form, signature)
    assert not RequestValidator(fake_twilio.auth_token).validate(
        callback, {**got.form, "MessageStatus": "delivered"}, signature
    )
    assert fake_twilio.message(sid).status == "undelivered"


def test_status_callback_through_the_control_api_after_a_real_send(
    fake_twilio: FakeTwilio,
) -> None:
    with CallbackReceiver(answer_status=200) as receiver, twilio_transport(fake_twilio) as t:
        callback = receiver.url("/status")
        result = t.send(to=TO, body="x", status_callback=callback)
        answer = control(
            fake_twilio, "status_callback", {"message_sid": result.sid, "status": "delivered"}
        )
        [got] = receiver.wait(1)

    assert answer.json() == {"http_status": 200}
    assert got.form["MessageSid"] == result.sid
    assert "ErrorCode" not in got.form
    assert is_valid_twilio_request(
        fake_twilio.auth_token, callback, got.form, got.headers["x-twilio-signature"]
    )


def test_signing_helpers_agree_with_twilio(fake_twilio: FakeTwilio) -> None:
    url = "https://fieldapi.example.com/v1/webhooks/twilio/inbound"
    params = fake_twilio.inbound_sms_params(from_=TO, body="STOP")
    signature = fake_twilio.sign(url, params)

    assert params["Body"] == "STOP" and params["AccountSid"] == fake_twilio.account_sid
    assert signature == twilio_signature(fake_twilio.auth_token, url, params)
    assert RequestValidator(fake_twilio.auth_token).validate(url, params, signature)
    assert is_valid_twilio_request(fake_twilio.auth_token, url, params, signature)
    assert not is_valid_twilio_request("other", url, params, signature)
    assert not is_valid_twilio_request(fake_twilio.auth_token, url + "x", params, signature)
    assert not is_valid_twilio_request(fake_twilio.auth_token, url, params, None)
    assert not is_valid_twilio_request("", url, params, signature)


def test_segments_follow_gsm7_and_ucs2() -> None:
    assert num_segments("a" * 160) == 1
    assert num_segments("a" * 161) == 2
    assert num_segments("é" * 160) == 1  # é is in GSM-7
    assert num_segments("ł" * 71) == 2  # ł is not: UCS-2, 70 per message


def test_rewrite_base_url_only_touches_the_twilio_api_prefix() -> None:
    base = "http://127.0.0.1:8765"
    api = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"

    assert rewrite_base_url(api, base) == f"{base}/2010-04-01/Accounts/AC1/Messages.json"
    assert rewrite_base_url(api, None) == api
    assert rewrite_base_url(api, "https://api.twilio.com") == api
    assert (
        rewrite_base_url("https://api.twilio.com.evil/x", base) == "https://api.twilio.com.evil/x"
    )
    assert rewrite_base_url("https://messaging.twilio.com/v1/x", base).startswith("https://mess")


def test_runs_by_hand_from_the_command_line() -> None:
    command = [sys.executable, "-m", "fieldapi.messaging.twilio_fake", "--port", "0"]
    command += ["--account-sid", "AC" + "2" * 32, "--auth-token", "tok"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            base_url = re.search(r"http://127\.0\.0\.1:\d+", line)
            assert base_url, line
            listed = requests.get(f"{base_url.group(0)}/_control/messages", timeout=5)
            assert listed.json() == {"messages": []}
            answer = requests.post(
                f"{base_url.group(0)}/2010-04-01/Accounts/{'AC' + '2' * 32}/Messages.json",
                data={"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"},
                auth=("AC" + "2" * 32, "tok"),
                timeout=5,
            )
            assert answer.status_code == 201
        finally:
            process.terminate()
            process.wait(timeout=5)


def test_stop_does_not_wait_for_a_slow_answer() -> None:
    fake = FakeTwilio().start()
    fake.delay_next(30)
    errors: list[Exception] = []

    def send() -> None:
        try:
            post(fake, {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"})
        except requests.RequestException as error:
            errors.append(error)

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 5
    while fake._behaviours and time.monotonic() < deadline:  # until the request takes the delay
        time.sleep(0.01)
    fake.stop()
    sender.join(timeout=5)

    assert not sender.is_alive()
    assert len(errors) == 1  # the connection was dropped, not answered
    assert fake.messages == []


def test_twilio_rest_exception_from_the_fake_carries_code(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(code=21211)
    client = Client(fake_twilio.account_sid, fake_twilio.auth_token)
    client.api.base_url = fake_twilio.base_url
    try:
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(to=TO, from_=TEST_FROM_NUMBER, body="hi")
    finally:
        client.http_client.session.close()  # type: ignore[attr-defined]

    assert (raised.value.status, raised.value.code) == (400, 21211)


def test_the_messages_list_filters_by_to_and_day_sent_as_twilio_does(
    fake_twilio: FakeTwilio,
) -> None:
    client = Client(fake_twilio.account_sid, fake_twilio.auth_token)
    client.api.base_url = fake_twilio.base_url
    for to, body in ((TO, "first"), ("+15555550101", "other"), (TO, "second")):
        post(fake_twilio, {"To": to, "From": TEST_FROM_NUMBER, "Body": body})
    today = datetime.now(UTC).date()

    listed = client.messages.list(to=TO, date_sent_after=today, limit=20)
    assert [m.body for m in listed] == ["second", "first"]  # newest first
    assert all(m.date_sent is not None and m.date_sent.date() == today for m in listed)
    assert client.messages.list(to=TO, date_sent_after=today + timedelta(days=1)) == []
    assert client.messages.list(to=TO, date_sent_before=today - timedelta(days=1)) == []
    assert len(client.messages.list(date_sent=today)) == 3


def test_a_slow_answer_after_accepting_is_held_while_twilio_already_has_the_text(
    fake_twilio: FakeTwilio,
) -> None:
    control(fake_twilio, "slow_answer_next", {"seconds": 30})

    def send() -> None:
        with contextlib.suppress(requests.RequestException):  # dropped when the fake stops
            post(fake_twilio, {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"})

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    fake_twilio.wait_for_messages(1)
    deadline = time.monotonic() + 5
    while fake_twilio.answers_held != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    held = requests.get(f"{fake_twilio.base_url}/_control/answers_held", timeout=5).json()
    assert held == {"count": 1}


def test_a_fail_rate_fails_about_that_share_of_sends(fake_twilio: FakeTwilio) -> None:
    fake_twilio.set_fail_rate(0.3, seed=7)
    form = {"To": TO, "From": TEST_FROM_NUMBER, "Body": "x"}
    codes = [post(fake_twilio, form).status_code for _ in range(200)]
    assert set(codes) == {201, 500}
    assert 40 <= codes.count(500) <= 80
    fake_twilio.clear_failures()
    assert post(fake_twilio, form).status_code == 201
