"""Helpers for the tracker-app tests: a device of the technician, its token."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient


@pytest.fixture
def device_token(tech_client: ApiClient) -> str:
    """A device of the `tech` fixture, added through the API as a user would."""
    response = tech_client.post("/v1/me/devices", json={"name": "Sam's phone"})
    assert response.status_code == 201, response.json
    token: str = response.json["token"]
    return token
