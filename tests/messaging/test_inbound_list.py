"""GET /v1/messages/inbound: the texts customers send back, for dispatchers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Customer
from fieldapi.messaging.models import InboundMessage, Message
from fieldapi.messaging.twilio_fake import TEST_FROM_NUMBER, FakeTwilio
from tests.conftest import ApiClient, plan_of, unique_phone
from tests.messaging.conftest import post_form

PATH = "/v1/messages/inbound"
WEBHOOK = "/v1/webhooks/twilio/inbound"
SENDER = FakeTwilio()  # not started: builds the form Twilio posts

Queue = Callable[..., Message]


@pytest.fixture
def received(db: Session) -> Callable[..., InboundMessage]:
    """Store an inbound text directly, at a chosen time (the webhook stamps the clock's)."""

    def make(
        organization: Organization | None,
        phone: str | None = None,
        body: str = "Running late, use the back door",
        at: datetime | None = None,
    ) -> InboundMessage:
        message = InboundMessage(
            id=uuid.uuid4(),
            organization_id=organization.id if organization else None,
            from_phone=phone or unique_phone(),
            to_phone=TEST_FROM_NUMBER,
            body=body,
            received_at=at or utcnow(),
        )
        db.add(message)
        db.commit()
        return message

    return make


def text_in(client: ApiClient, phone: str, body: str) -> None:
    """A signed inbound-SMS webhook, as Twilio posts it."""
    response = post_form(client, WEBHOOK, SENDER.inbound_sms_params(from_=phone, body=body))
    assert response.status_code == 200, response.get_data(as_text=True)


def national(phone: str) -> str:
    """+14152001234 as people type it: (415) 200-1234."""
    return f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"


def all_pages(client: ApiClient, query: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        response = client.get(f"{PATH}?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.json
        pages += 1
        items += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.mark.usefixtures("twilio_token")
def test_texts_sent_back_through_the_webhook_are_listed_for_their_organization(
    client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
    org: Organization,
    other_org: Organization,
    queue: Queue,
    make_customer: Callable[..., Customer],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    ours, stranger, theirs = unique_phone(), unique_phone(), unique_phone()
    customer = make_customer(org, phone=ours, name="Pat Ours")
    # The same number, an older customer of the other organization.
    make_customer(
        other_org, phone=ours, name="Pat Theirs", created_at=utcnow() - timedelta(days=30)
    )
    make_customer(other_org, phone=theirs, name="Pat Customer")
    queue(org, to=ours)
    queue(org, to=stranger)
    queue(other_org, to=theirs)

    text_in(client, ours, "Running 5 min late")
    text_in(client, stranger, "who is this?")
    text_in(client, ours, "HELP")  # a keyword: answered, not kept
    text_in(client, theirs, "The gate code is 4321")
    text_in(client, ours, "Back door is open")

    stored = db.scalars(select(InboundMessage).where(InboundMessage.from_phone == theirs)).all()
    assert [m.organization_id for m in stored] == [other_org.id]  # theirs exists, elsewhere

    response = dispatcher_client.get(PATH)

    assert response.status_code == 200, response.json
    body = response.json
    assert body["next_cursor"] is None
    assert [m["body"] for m in body["items"]] == [
        "Back door is open",
        "who is this?",
        "Running 5 min late",
    ]
    latest = body["items"][0]
    assert latest["from_phone"] == ours and latest["to_phone"] == TEST_FROM_NUMBER
    assert latest["customer"] == {"id": str(customer.id), "name": "Pat Ours"}
    assert body["items"][1]["from_phone"] == stranger and body["items"][1]["customer"] is None
    row = db.scalars(select(InboundMessage).where(InboundMessage.body == "Back door is open")).one()
    assert latest["id"] == str(row.id)
    assert datetime.fromisoformat(latest["received_at"]) == row.received_at
    assert "4321" not in response.get_data(as_text=True)

    other = login_as(make_user(other_org, role="dispatcher")).get(PATH).json
    assert [(m["body"], m["customer"]["name"]) for m in other["items"]] == [
        ("The gate code is 4321", "Pat Customer")
    ]


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    dispatcher_client: ApiClient,
    org: Organization,
    other_org: Organization,
    received: Callable[..., InboundMessage],
) -> None:
    start = utcnow() - timedelta(hours=1)
    mine = [received(org, at=start + timedelta(minutes=n)) for n in range(7)]
    mine.append(received(org, at=mine[3].received_at))  # a tie, broken by id
    for n in range(7):  # interleaved in time with ours
        received(other_org, at=start + timedelta(minutes=n, seconds=30))
    received(None, at=start + timedelta(minutes=2, seconds=10))  # nobody's

    items, pages = all_pages(dispatcher_client, "limit=3")

    expected = sorted(mine, key=lambda m: (m.received_at, m.id), reverse=True)
    assert pages == 3
    assert [m["id"] for m in items] == [str(m.id) for m in expected]


def test_from_phone_narrows_to_one_sender_in_any_common_form(
    dispatcher_client: ApiClient,
    org: Organization,
    other_org: Organization,
    received: Callable[..., InboundMessage],
) -> None:
    phone = unique_phone()
    start = utcnow() - timedelta(minutes=10)
    first = received(org, phone, body="first", at=start)
    second = received(org, phone, body="second", at=start + timedelta(minutes=1))
    received(org, body="someone else")
    received(other_org, phone, body="to the other organization")

    for form in (phone, national(phone), phone[2:]):
        response = dispatcher_client.get(PATH, query_string={"from_phone": form})
        assert response.status_code == 200, response.json
        assert [m["id"] for m in response.json["items"]] == [str(second.id), str(first.id)]


def test_the_customer_is_the_organizations_oldest_with_that_number(
    dispatcher_client: ApiClient,
    org: Organization,
    make_customer: Callable[..., Customer],
    received: Callable[..., InboundMessage],
) -> None:
    phone = unique_phone()
    make_customer(org, phone=phone, name="Newer Pat", created_at=utcnow() - timedelta(days=1))
    oldest = make_customer(
        org, phone=phone, name="Older Pat", created_at=utcnow() - timedelta(days=9)
    )
    make_customer(org, phone=unique_phone(), name="Someone Else")
    received(org, phone)

    [item] = dispatcher_client.get(PATH).json["items"]

    assert item["customer"] == {"id": str(oldest.id), "name": "Older Pat"}


def test_the_statement_count_does_not_grow_with_the_page(
    dispatcher_client: ApiClient,
    org: Organization,
    make_customer: Callable[..., Customer],
    received: Callable[..., InboundMessage],
    count_queries: Callable[[], Any],
) -> None:
    def listed() -> tuple[int, list[dict[str, Any]]]:
        with count_queries() as statements:
            response = dispatcher_client.get(f"{PATH}?limit=100")
        assert response.status_code == 200, response.json
        return len(statements), response.json["items"]

    phone = unique_phone()
    make_customer(org, phone=phone, name="Customer 0")
    received(org, phone)
    one, items = listed()
    assert [m["customer"]["name"] for m in items] == ["Customer 0"]

    start = utcnow() - timedelta(hours=1)
    for n in range(1, 30):
        phone = unique_phone()
        make_customer(org, phone=phone, name=f"Customer {n}")
        received(org, phone, at=start + timedelta(minutes=n))
    received(org)  # and one from a number that is no customer
    many, items = listed()

    assert len(items) == 31
    assert sum(m["customer"] is not None for m in items) == 30
    assert many == one


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJ4IiwgInkiXQ"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"from_phone": "12"}, "from_phone"),
        ({"from_phone": "not a number"}, "from_phone"),
        ({"from_phone": ""}, "from_phone"),
        ({"from_phone": "+1" + "4" * 40}, "from_phone"),
        ({"from_phone": "+1" + "4" * 80}, "from_phone"),
    ],
)
def test_bad_query_values_are_422(
    dispatcher_client: ApiClient, query: dict[str, str], field: str
) -> None:
    response = dispatcher_client.get(PATH, query_string=query)

    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.json
    assert body["code"] == 422 and body["message"]
    assert field in str(body["errors"])


def test_technicians_are_refused_like_on_the_texts_list_and_strangers_401(
    client: ApiClient,
    org: Organization,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    received: Callable[..., InboundMessage],
) -> None:
    received(org, body="private")
    technician = login_as(make_user(org, role="technician"))

    refused = technician.get(PATH)
    assert refused.status_code == 403
    assert refused.json["code"] == 403 and "private" not in refused.get_data(as_text=True)
    assert technician.get("/v1/messages").status_code == 403

    anonymous = client.get(PATH)
    assert anonymous.status_code == 401 and anonymous.json["code"] == 401


def test_users_with_both_roles_read_the_texts(
    org: Organization,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    received: Callable[..., InboundMessage],
) -> None:
    message = received(org)
    both = login_as(make_user(org, role="both"))

    response = both.get(PATH)

    assert response.status_code == 200
    assert [m["id"] for m in response.json["items"]] == [str(message.id)]


@pytest.mark.parametrize("path", ["/v1/messages?limit=0", "/v1/messages/inbound?limit=0"])
def test_without_a_token_bad_query_arguments_are_still_a_401(client: Any, path: str) -> None:
    assert client.get(path).status_code == 401


def test_one_number_s_texts_are_read_by_their_index(
    db: Session,
    dispatcher_client: ApiClient,
    org: Organization,
    received: Callable[..., InboundMessage],
    query_plans: Callable[[], Any],
) -> None:
    # Not a walk back through every text the organization received.
    phone = unique_phone()
    received(org, phone)
    with query_plans() as plans:
        answer = dispatcher_client.get(PATH, query_string={"from_phone": phone})
    assert answer.status_code == 200 and len(answer.json["items"]) == 1
    plan = plan_of(plans, "FROM inbound_messages")
    assert "ix_inbound_messages_organization_id_from_phone_received_at" in plan, plan
