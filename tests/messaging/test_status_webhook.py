"""POST /v1/webhooks/twilio/status: signed callbacks move a text's status forward, once."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from fieldapi.accounts.models import Organization
from fieldapi.jobs.models import Job
from fieldapi.messaging.models import Message, OptOut, PendingStatusCallback, StatusCallback
from fieldapi.messaging.twilio_fake import FakeTwilio
from fieldapi.messaging.worker import Worker
from tests.conftest import ApiClient
from tests.messaging.conftest import PUBLIC_BASE_URL, STATUS_URL, activity, post_form, reload

PATH = "/v1/webhooks/twilio/status"

pytestmark = pytest.mark.usefixtures("twilio_token")


@pytest.fixture
def job(org: Organization, make_job: Callable[..., Job]) -> Job:
    return make_job(org)


@pytest.fixture
def sent(
    db: Session,
    org: Organization,
    job: Job,
    queue: Callable[..., Message],
    make_worker: Callable[..., Worker],
    fake_twilio: FakeTwilio,
) -> Message:
    """A job's text the worker handed to (fake) Twilio."""
    message = queue(org, job=job, purpose="on_my_way")
    make_worker().run(once=True)
    stored = reload(db, message)
    assert stored.status == "sent"
    return stored


def callback(
    client: ApiClient,
    fake: FakeTwilio,
    message: Message,
    status: str,
    *,
    error_code: int | None = None,
    extra: dict[str, str] | None = None,
) -> TestResponse:
    """Post the status callback the fake Twilio would send, signed as it signs."""
    params = fake.status_callback_params(message.twilio_sid or "", status, error_code)
    params.update(extra or {})
    return post_form(client, PATH, params)


def stored_callbacks(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(StatusCallback)) or 0


def test_the_fake_sends_its_callbacks_to_our_public_url(
    sent: Message, fake_twilio: FakeTwilio
) -> None:
    assert fake_twilio.message(sent.twilio_sid or "").status_callback == STATUS_URL


def test_delivered_is_recorded_and_shows_in_the_jobs_activity_log(
    client: ApiClient, db: Session, sent: Message, job: Job, fake_twilio: FakeTwilio
) -> None:
    response = callback(client, fake_twilio, sent, "delivered")

    assert response.status_code == 200, response.json
    assert response.json == {"result": "applied"}
    stored = reload(db, sent)
    assert stored.status == "delivered" and stored.delivered_at is not None
    [event] = activity(db, job)
    assert (event.actor_kind, event.action, event.organization_id) == (
        "system",
        "text_delivered",
        job.organization_id,
    )
    assert event.details == {
        "message_id": str(sent.id),
        "purpose": "on_my_way",
        "to": sent.to_phone,
        "status": "delivered",
    }


def test_the_same_callback_twice_is_handled_once(
    client: ApiClient, db: Session, sent: Message, job: Job, fake_twilio: FakeTwilio
) -> None:
    first = callback(client, fake_twilio, sent, "delivered")
    second = callback(client, fake_twilio, sent, "delivered")

    assert first.json == {"result": "applied"}
    assert second.status_code == 200
    assert second.json == {"result": "duplicate"}
    assert len(activity(db, job)) == 1
    assert stored_callbacks(db) == 1


def test_status_only_moves_forward(
    client: ApiClient, db: Session, sent: Message, job: Job, fake_twilio: FakeTwilio
) -> None:
    assert callback(client, fake_twilio, sent, "delivered").json == {"result": "applied"}
    late = callback(client, fake_twilio, sent, "sent")
    assert late.status_code == 200 and late.json == {"result": "ignored"}
    assert reload(db, sent).status == "delivered"
    # a different outcome at the same rank does not overwrite the first either
    assert callback(client, fake_twilio, sent, "undelivered").json == {"result": "ignored"}
    assert callback(client, fake_twilio, sent, "read").json == {"result": "applied"}

    stored = reload(db, sent)
    assert stored.status == "read" and stored.error_code is None
    assert [e.action for e in activity(db, job)] == ["text_delivered"]


def test_early_statuses_do_not_move_a_sent_text_back(
    client: ApiClient, db: Session, sent: Message, fake_twilio: FakeTwilio
) -> None:
    for status in ("accepted", "queued", "sending", "sent"):
        assert callback(client, fake_twilio, sent, status).json == {"result": "ignored"}
    assert reload(db, sent).status == "sent"


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_an_error_code_is_stored_with_the_failure(
    client: ApiClient,
    db: Session,
    sent: Message,
    job: Job,
    fake_twilio: FakeTwilio,
    status: str,
) -> None:
    response = callback(client, fake_twilio, sent, status, error_code=30003)

    assert response.json == {"result": "applied"}
    stored = reload(db, sent)
    assert (stored.status, stored.error_code) == (status, 30003)
    assert stored.error_message == "Unreachable destination handset."
    assert stored.delivered_at is None
    [event] = activity(db, job)
    assert event.action == f"text_{status}" and event.details["error_code"] == 30003


def test_an_unsubscribed_failure_records_the_opt_out(
    client: ApiClient, db: Session, sent: Message, fake_twilio: FakeTwilio
) -> None:
    callback(client, fake_twilio, sent, "failed", error_code=21610)

    opt_out = db.get(OptOut, sent.to_phone)
    assert opt_out is not None and opt_out.source == "twilio"


def test_an_unknown_status_or_extra_parameters_are_logged_and_answered_200(
    client: ApiClient,
    db: Session,
    sent: Message,
    fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="fieldapi.messaging"):
        unknown = callback(client, fake_twilio, sent, "teleported")
        extra = callback(
            client, fake_twilio, sent, "delivered", extra={"NewTwilioField": "x", "Foo": "y"}
        )

    assert unknown.status_code == 200 and unknown.json == {"result": "unknown_status"}
    assert "unknown status 'teleported'" in caplog.text
    assert extra.status_code == 200 and extra.json == {"result": "applied"}
    assert "unexpected parameters ['Foo', 'NewTwilioField']" in caplog.text
    assert reload(db, sent).status == "delivered"


def test_an_unknown_sid_is_kept_and_answered_200(
    client: ApiClient, db: Session, sent: Message
) -> None:
    sid = "SM" + "9" * 32
    response = post_form(client, PATH, {"MessageSid": sid, "MessageStatus": "delivered"})

    assert response.status_code == 200 and response.json == {"result": "pending"}
    row = db.scalar(select(PendingStatusCallback).where(PendingStatusCallback.message_sid == sid))
    assert row is not None and row.status == "delivered"
    assert reload(db, sent).status == "sent"


@pytest.mark.parametrize("code", ["thirty-three", "99999999999999999999", "-5"])
def test_an_error_code_that_is_not_one_is_ignored_not_a_500(
    client: ApiClient, db: Session, sent: Message, fake_twilio: FakeTwilio, code: str
) -> None:
    response = callback(client, fake_twilio, sent, "undelivered", extra={"ErrorCode": code})
    assert response.status_code == 200
    stored = reload(db, sent)
    assert stored.status == "undelivered" and stored.error_code is None


def test_the_signature_covers_the_public_url_with_its_query(
    client: ApiClient, db: Session, sent: Message, fake_twilio: FakeTwilio
) -> None:
    """Behind a TLS proxy the app sees http://localhost/...; Twilio signed the https URL."""
    params = fake_twilio.status_callback_params(sent.twilio_sid or "", "delivered")
    path = PATH + "?tenant=a&b=1"
    response = post_form(client, path, params, sign_url=PUBLIC_BASE_URL + path)
    assert response.status_code == 200
    assert reload(db, sent).status == "delivered"


# -- refused: nothing changes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    ["missing", "garbage", "other token", "other url", "http instead of https", "tampered"],
)
def test_without_a_valid_signature_it_is_403_and_nothing_changes(
    client: ApiClient,
    db: Session,
    sent: Message,
    job: Job,
    fake_twilio: FakeTwilio,
    how: str,
) -> None:
    params = fake_twilio.status_callback_params(sent.twilio_sid or "", "delivered")
    good = fake_twilio.sign(STATUS_URL, params)
    signature = {
        "missing": "",
        "garbage": "bm90IGEgc2lnbmF0dXJl",
        "other token": FakeTwilio(auth_token="someone-else").sign(STATUS_URL, params),
        "other url": fake_twilio.sign("https://evil.example/v1/webhooks/twilio/status", params),
        "http instead of https": fake_twilio.sign(STATUS_URL.replace("https", "http"), params),
        "tampered": good,
    }[how]
    if how == "tampered":
        params = dict(params, MessageStatus="failed", ErrorCode="30007")

    response = post_form(client, PATH, params, signature=signature)

    assert response.status_code == 403
    assert response.json["code"] == 403 and response.json["message"]
    assert reload(db, sent).status == "sent"
    assert stored_callbacks(db) == 0
    assert activity(db, job) == []


def test_without_an_auth_token_configured_every_callback_is_refused(
    client: ApiClient,
    db: Session,
    sent: Message,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
    app: Flask,
) -> None:
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
    response = callback(client, fake_twilio, sent, "delivered")
    assert response.status_code == 403
    assert reload(db, sent).status == "sent"


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus"])
def test_missing_fields_are_400(
    client: ApiClient, db: Session, sent: Message, fake_twilio: FakeTwilio, missing: str
) -> None:
    params = fake_twilio.status_callback_params(sent.twilio_sid or "", "delivered")
    del params[missing]
    params.pop("SmsSid" if missing == "MessageSid" else "SmsStatus")

    response = post_form(client, PATH, params)

    assert response.status_code == 400
    assert missing in response.json["errors"]
    assert reload(db, sent).status == "sent" and stored_callbacks(db) == 0


def test_a_sid_that_is_not_a_sid_is_400(client: ApiClient, db: Session) -> None:
    response = post_form(client, PATH, {"MessageSid": "x" * 500, "MessageStatus": "delivered"})
    assert response.status_code == 400
    assert stored_callbacks(db) == 0


def test_a_body_over_64_kib_is_413(client: ApiClient, db: Session, sent: Message) -> None:
    params = {"MessageSid": sent.twilio_sid or "", "MessageStatus": "delivered", "X": "a" * 70_000}
    response = post_form(client, PATH, params)
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert reload(db, sent).status == "sent"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_a_wrong_content_type_is_415(
    client: ApiClient, db: Session, sent: Message, fake_twilio: FakeTwilio, content_type: str
) -> None:
    params = fake_twilio.status_callback_params(sent.twilio_sid or "", "delivered")
    response = post_form(client, PATH, params, content_type=content_type)
    assert response.status_code == 415
    assert response.is_json and response.json["code"] == 415
    assert reload(db, sent).status == "sent"


def test_a_body_that_is_not_utf8_is_400(client: ApiClient) -> None:
    response = client.post(
        PATH,
        data=b"MessageSid=\xff\xfe&MessageStatus=delivered",
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 400 and response.is_json


def test_get_is_405_json(client: ApiClient) -> None:
    response = client.get(PATH)
    assert response.status_code == 405 and response.is_json


def test_each_organization_s_callback_finds_its_own_text_by_the_sid_alone(
    client: ApiClient,
    db: Session,
    org: Organization,
    other_org: Organization,
    queue: Callable[..., Message],
    make_worker: Callable[..., Worker],
    fake_twilio: FakeTwilio,
) -> None:
    ours, theirs = queue(org), queue(other_org)
    assert make_worker().run(once=True) == 2  # until none is due

    assert callback(client, fake_twilio, reload(db, theirs), "delivered").json == {
        "result": "applied"
    }
    assert callback(client, fake_twilio, reload(db, ours), "undelivered").json == {
        "result": "applied"
    }
    assert (reload(db, ours).status, reload(db, theirs).status) == ("undelivered", "delivered")
    stored = db.execute(select(StatusCallback.organization_id, StatusCallback.message_id)).all()
    assert sorted(stored) == sorted([(org.id, ours.id), (other_org.id, theirs.id)])


def test_the_lookup_by_sid_across_organizations_has_an_index_of_its_own(db: Session) -> None:
    # Without ix_messages_twilio_sid the planner walks the whole (organization_id,
    # twilio_sid) key instead (a full index scan, as slow as the table grows).
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        db.scalars(text("EXPLAIN SELECT * FROM messages WHERE twilio_sid = 'SM1' FOR UPDATE")).all()
    )
    assert "Index Scan using ix_messages_twilio_sid" in plan, plan
