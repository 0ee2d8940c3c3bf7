"""The `fieldapi` console script, run as a person runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.jobs.models import CompleteReason


def run_cli(database_url: str, *args: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=database_url, FIELDAPI_ENV="test", SECRET_KEY="x")
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "-m", "fieldapi.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_create_org_prints_the_id_and_seeds_reasons(database_url: str, committed: Session) -> None:
    result = run_cli(
        database_url,
        "create-org",
        "Cool Air HVAC",
        "--owner-name",
        "Ann Lee",
        "--owner-phone",
        "(312) 555-7788".replace("555", "201"),
        "--timezone",
        "America/Chicago",
    )
    assert result.returncode == 0, result.stderr
    org_id = uuid.UUID(result.stdout.strip())
    organization = committed.get_one(Organization, org_id)
    assert organization.name == "Cool Air HVAC"
    assert organization.timezone == "America/Chicago"
    owner = committed.scalars(select(User).where(User.organization_id == org_id)).one()
    assert (owner.phone, owner.role, owner.name) == ("+13122017788", "dispatcher", "Ann Lee")
    outcomes = committed.scalars(
        select(CompleteReason.outcome).where(CompleteReason.organization_id == org_id)
    ).all()
    assert "complete" in outcomes and outcomes.count("pause") >= 3


def _count_orgs(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Organization)) or 0


def test_create_org_with_invalid_phone_fails_in_one_line(
    database_url: str, committed: Session
) -> None:
    before = _count_orgs(committed)
    result = run_cli(database_url, "create-org", "X", "--owner-name", "Y", "--owner-phone", "12")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "phone" in result.stderr.lower()
    assert _count_orgs(committed) == before


def test_create_org_with_unknown_timezone_fails_in_one_line(
    database_url: str, committed: Session
) -> None:
    before = _count_orgs(committed)
    result = run_cli(
        database_url,
        "create-org",
        "X",
        "--owner-name",
        "Y",
        "--owner-phone",
        "+13122019999",
        "--timezone",
        "Mars/Olympus",
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "timezone" in result.stderr.lower()
    assert _count_orgs(committed) == before


def test_db_upgrade_is_idempotent(database_url: str, committed: Session) -> None:
    first = run_cli(database_url, "db", "upgrade")
    second = run_cli(database_url, "db", "upgrade")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    heads = committed.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
    assert heads >= 1


def test_serve_on_a_port_in_use_says_so(database_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(database_url, "serve", "--port", str(port))
    assert result.returncode != 0
    assert f"port {port}" in result.stderr and "in use" in result.stderr


def test_demo_seeds_once(database_url: str, committed: Session) -> None:
    first = run_cli(database_url, "demo", "--if-empty")
    second = run_cli(database_url, "demo", "--if-empty")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert _count_orgs(committed) == 2  # the demo provider and its enterprise
