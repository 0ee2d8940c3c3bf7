"""The ETA tests' organization and its technician, logged in."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fieldapi.accounts.models import Organization, User
from tests.conftest import ApiClient


@pytest.fixture
def org(make_org: Callable[..., Organization]) -> Organization:
    return make_org()


@pytest.fixture
def tech(org: Organization, make_user: Callable[..., User]) -> User:
    return make_user(org, role="technician", name="Sam Ortiz")


@pytest.fixture
def tech_client(tech: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(tech)
