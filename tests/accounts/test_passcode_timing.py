"""A passcode request is answered no sooner than PASSCODE_ANSWER_FLOOR_MS, registered number
or not: the text queued only for a registered one hides under the floor. (How the two
compare in time is measured by scripts/fault_enumeration, over 200 pairs, not here.)"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from fieldapi.accounts.models import User
from tests.conftest import ApiClient, unique_phone


def answered_after(client: ApiClient, phone: str) -> float:
    started = time.monotonic()
    assert client.post("/v1/auth/passcode", json={"phone": phone}).status_code == 202
    return time.monotonic() - started


def test_registered_and_unknown_numbers_both_wait_for_the_floor(
    make_app: Callable[..., Flask], technician: User
) -> None:
    client = ApiClient(make_app(PASSCODE_ANSWER_FLOOR_MS=300).test_client())
    assert answered_after(client, technician.phone) >= 0.3
    assert answered_after(client, unique_phone()) >= 0.3


def test_a_refused_request_is_not_held_up(make_app: Callable[..., Flask], technician: User) -> None:
    """A 429 (asked again within 30 s) reads the same rows for every number: no floor,
    which also keeps a flood of refused requests from holding workers."""
    client = ApiClient(make_app(PASSCODE_ANSWER_FLOOR_MS=5000).test_client())
    client.post("/v1/auth/passcode", json={"phone": technician.phone})
    started = time.monotonic()
    again = client.post("/v1/auth/passcode", json={"phone": technician.phone})
    assert again.status_code == 429
    assert time.monotonic() - started < 5
