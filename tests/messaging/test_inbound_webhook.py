"""POST /v1/webhooks/twilio/inbound: opt-out keywords, START, HELP, and other texts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import Organization
from fieldapi.jobs.models import Job
from fieldapi.messaging.models import InboundMessage, Message, OptOut
from fieldapi.messaging.twilio_fake import FakeTwilio
from fieldapi.messaging.worker import Worker
from tests.conftest import ApiClient, unique_phone
from tests.messaging.conftest import activity, post_form, reload

PATH = "/v1/webhooks/twilio/inbound"
SENDER = FakeTwilio()  # not started: builds the form Twilio posts

pytestmark = pytest.mark.usefixtures("twilio_token")

Queue = Callable[..., Message]


def text_in(client: ApiClient, from_: str, body: str, **kwargs: str) -> TestResponse:
    params = SENDER.inbound_sms_params(from_=from_, body=body)
    params.update(kwargs)
    return post_form(client, PATH, params)


def twiml(response: TestResponse) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def inbound(db: Session, phone: str) -> list[InboundMessage]:
    return list(
        db.scalars(
            select(InboundMessage)
            .where(InboundMessage.from_phone == phone)
            .order_by(InboundMessage.received_at)
        )
    )


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "  Stop \n",
        "UNSUBSCRIBE",
        "end",
        "Quit",
        "STOPALL",
        "revoke",
        "OptOut",
        "cancel",
    ],
)
def test_opt_out_keywords_record_the_opt_out(
    client: ApiClient, db: Session, org: Organization, queue: Queue, body: str
) -> None:
    phone = unique_phone()
    queue(org, to=phone)

    root = twiml(text_in(client, phone, body))

    assert list(root) == []  # no reply of ours: Twilio confirms opt-outs itself
    opt_out = db.get(OptOut, phone)
    assert opt_out is not None
    assert (opt_out.source, opt_out.keyword) == ("reply", body.strip().upper())
    assert opt_out.organization_id == org.id
    assert inbound(db, phone) == []


def test_an_opt_out_blocks_the_texts_waiting_for_that_number(
    client: ApiClient,
    db: Session,
    org: Organization,
    queue: Queue,
    make_job: Callable[..., Job],
    make_worker: Callable[..., Worker],
    fake_twilio: FakeTwilio,
) -> None:
    phone = unique_phone()
    job = make_job(org, customer_phone=phone)
    waiting = queue(org, to=phone, job=job)
    other = queue(org)

    twiml(text_in(client, phone, "STOP"))
    later = queue(org, to=phone, job=job)
    make_worker().run(once=True)

    for message in (waiting, later):
        stored = reload(db, message)
        assert stored.status == "blocked"
        assert stored.error_message == "The recipient opted out by replying STOP."
    assert [m.to for m in fake_twilio.messages] == [other.to_phone]
    assert [e.action for e in activity(db, job)] == ["text_blocked", "text_blocked"]


@pytest.mark.parametrize("body", ["START", "yes", " unstop "])
def test_opt_in_keywords_remove_the_opt_out(
    client: ApiClient, db: Session, org: Organization, queue: Queue, body: str
) -> None:
    phone = unique_phone()
    twiml(text_in(client, phone, "STOP"))
    assert db.get(OptOut, phone) is not None

    twiml(text_in(client, phone, body))

    db.expire_all()
    assert db.get(OptOut, phone) is None
    assert queue(org, to=phone).status == "queued"


@pytest.mark.parametrize("body", ["HELP", "info", " Help "])
def test_help_answers_with_a_short_twiml_text_naming_the_organization(
    client: ApiClient, db: Session, org: Organization, queue: Queue, body: str
) -> None:
    phone = unique_phone()
    queue(org, to=phone)

    root = twiml(text_in(client, phone, body))

    [message] = list(root)
    assert message.tag == "Message"
    assert message.text is not None
    assert "Done Right Home Services" in message.text and "STOP" in message.text
    assert len(message.text) <= 160
    assert db.get(OptOut, phone) is None and inbound(db, phone) == []


def test_help_from_a_number_we_never_texted_still_answers(client: ApiClient) -> None:
    [message] = list(twiml(text_in(client, unique_phone(), "HELP")))
    assert message.text and "STOP" in message.text


def test_other_text_is_kept_for_the_organization_that_last_texted_the_number(
    client: ApiClient,
    db: Session,
    org: Organization,
    other_org: Organization,
    queue: Queue,
) -> None:
    phone = unique_phone()
    queue(org, to=phone)
    queue(other_org, to=phone)  # the latest one

    root = twiml(text_in(client, phone, "Running 5 min late, stop by the back door"))

    assert list(root) == []
    [stored] = inbound(db, phone)
    assert stored.organization_id == other_org.id
    assert stored.body == "Running 5 min late, stop by the back door"
    assert stored.twilio_sid and stored.to_phone
    assert db.get(OptOut, phone) is None


def test_a_text_from_a_number_nobody_texted_is_kept_without_an_organization(
    client: ApiClient, db: Session
) -> None:
    phone = unique_phone()
    twiml(text_in(client, phone, "who is this?"))
    [stored] = inbound(db, phone)
    assert stored.organization_id is None


def test_a_text_with_nul_characters_is_stored_without_them(client: ApiClient, db: Session) -> None:
    phone = unique_phone()
    twiml(text_in(client, phone, "a\x00b", To="+1500\x005550006"))
    [stored] = inbound(db, phone)
    assert (stored.body, stored.to_phone) == ("ab", "+15005550006")


def test_a_retried_inbound_webhook_is_stored_once(client: ApiClient, db: Session) -> None:
    phone = unique_phone()
    params = SENDER.inbound_sms_params(from_=phone, body="hello")
    assert post_form(client, PATH, params).status_code == 200
    assert post_form(client, PATH, params).status_code == 200
    assert len(inbound(db, phone)) == 1


def test_an_unsigned_stop_changes_nothing(client: ApiClient, db: Session) -> None:
    phone = unique_phone()
    params = SENDER.inbound_sms_params(from_=phone, body="STOP")

    response = post_form(client, PATH, params, signature="")

    assert response.status_code == 403 and response.is_json
    assert db.get(OptOut, phone) is None


def test_a_start_signed_for_another_number_is_refused(client: ApiClient, db: Session) -> None:
    phone = unique_phone()
    twiml(text_in(client, phone, "STOP"))
    params = SENDER.inbound_sms_params(from_=unique_phone(), body="START")
    signature = SENDER.sign("https://api.example.test" + PATH, params)
    params["From"] = phone  # someone swaps the sender

    assert post_form(client, PATH, params, signature=signature).status_code == 403
    assert db.get(OptOut, phone) is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"From": ""}, "From"),
        ({"From": "not-a-number"}, "From"),
        ({"MessageSid": "SM1"}, "MessageSid"),
    ],
)
def test_bad_fields_are_400(
    client: ApiClient, db: Session, change: dict[str, str], field: str
) -> None:
    params = SENDER.inbound_sms_params(from_=unique_phone(), body="STOP")
    params.update(change)

    response = post_form(client, PATH, params)

    assert response.status_code == 400
    assert field in response.json["errors"]
    assert db.scalars(select(OptOut)).all() == []


def test_a_missing_body_is_400(client: ApiClient, db: Session) -> None:
    params = SENDER.inbound_sms_params(from_=unique_phone(), body="x")
    del params["Body"]
    assert post_form(client, PATH, params).status_code == 400


def test_inbound_bodies_over_64_kib_are_413(client: ApiClient, db: Session) -> None:
    phone = unique_phone()
    response = text_in(client, phone, "STOP", Padding="x" * 70_000)
    assert response.status_code == 413
    assert db.get(OptOut, phone) is None


def test_inbound_json_is_415(client: ApiClient) -> None:
    response = client.post(PATH, json={"From": unique_phone(), "Body": "STOP"})
    assert response.status_code == 415
