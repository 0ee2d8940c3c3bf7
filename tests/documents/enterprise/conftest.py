"""Documents on a job an enterprise offered: the enterprise tests' provider, team,
enterprise, connection and offer."""

# ruff: noqa: F401  (fixtures)
from tests.enterprise.conftest import (
    connected,
    dispatcher,
    dispatcher_client,
    enterprise,
    manager,
    manager_client,
    offer,
    provider,
    tech,
    tech_client,
)
