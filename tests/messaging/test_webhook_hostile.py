"""Signed Twilio webhooks with broken form values: an answer below 500, every time.

A signature only proves Twilio sent the form; it says nothing of its values. Each
parameter of a real status callback and a real inbound text is replaced, one at a time,
by values no real form carries, and by nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fieldapi.messaging.models import Message
from fieldapi.messaging.twilio_fake import FakeTwilio
from tests.conftest import ApiClient, unique_phone
from tests.messaging.conftest import post_form
from tests.messaging.test_status_webhook import job, sent  # noqa: F401

pytestmark = pytest.mark.usefixtures("twilio_token")

ODD_VALUES = ("", " ", "x" * 5000, "\x00", "-1", "99999999999999999999", "ünïcødé ✓", "SM")


def mutations(params: dict[str, str]) -> Iterator[dict[str, str]]:
    for name in sorted(params):
        yield {key: value for key, value in params.items() if key != name}
        for value in ODD_VALUES:
            yield {**params, name: value}
    yield {**params, "ErrorCode": "not-a-code", "Extra": "\x00"}


def test_odd_status_callbacks_are_answered_without_a_5xx(
    client: ApiClient,
    fake_twilio: FakeTwilio,
    sent: Message,  # noqa: F811
) -> None:
    params = fake_twilio.status_callback_params(sent.twilio_sid or "", "delivered")
    answers = {
        post_form(client, "/v1/webhooks/twilio/status", form).status_code
        for form in mutations(params)
    }
    assert 200 in answers and max(answers) < 500, answers  # signed: past the check


def test_odd_inbound_texts_are_answered_without_a_5xx(client: ApiClient) -> None:
    params = FakeTwilio().inbound_sms_params(from_=unique_phone(), body="running late?")
    answers = {
        post_form(client, "/v1/webhooks/twilio/inbound", form).status_code
        for form in mutations(params)
    }
    assert 200 in answers and max(answers) < 500, answers  # signed: past the check
