"""Migrations on a database of their own: two processes at once, down and up again."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, create_engine, make_url, text

from fieldapi.db import normalize_database_url
from fieldapi.migrations import alembic_config, head_revisions, upgrade


@pytest.fixture
def scratch_database_url(engine: Engine, database_url: str) -> Iterator[str]:
    name = f"fieldapi_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(normalize_database_url(database_url)), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_database_url(database_url)).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def index_is_valid(url: str, name: str) -> bool | None:
    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            valid: bool | None = conn.execute(
                text(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = :name"
                ),
                {"name": name},
            ).scalar_one_or_none()
            return valid
    finally:
        probe.dispose()


def test_two_processes_migrating_at_once_take_turns(scratch_database_url: str) -> None:
    migrate = [
        sys.executable,
        "-c",
        "import sys; from fieldapi.migrations import upgrade; upgrade(sys.argv[1])",
        scratch_database_url,
    ]
    both = [subprocess.Popen(migrate, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(process.communicate(timeout=120)[1], process.returncode) for process in both]

    assert [code for _, code in results] == [0, 0], [err for err, _ in results]
    probe = create_engine(scratch_database_url)
    with probe.connect() as conn:
        versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    probe.dispose()
    assert versions == head_revisions()
    assert index_is_valid(scratch_database_url, "ix_messages_queued_at") is True


def test_the_concurrent_index_goes_down_and_up_again(scratch_database_url: str) -> None:
    upgrade(scratch_database_url)
    config = alembic_config(scratch_database_url)

    command.downgrade(config, "0007_lookup_indexes")
    assert index_is_valid(scratch_database_url, "ix_messages_queued_at") is None
    command.upgrade(config, "heads")
    assert index_is_valid(scratch_database_url, "ix_messages_queued_at") is True


def test_migrations_run_without_the_database_s_statement_timeout(
    scratch_database_url: str,
) -> None:
    config = alembic_config(scratch_database_url)
    command.upgrade(config, "0007_lookup_indexes")
    # As set on the role or database behind PgBouncer (see DATABASE_STATEMENT_TIMEOUT_MS).
    name = make_url(scratch_database_url).database
    admin = create_engine(scratch_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET statement_timeout = '500ms'"))
    writer = create_engine(scratch_database_url)
    waited: list[float] = []
    stop = threading.Event()

    def release_after_the_build_waited(busy: Connection) -> None:
        """Once the concurrent index build has waited past the 500 ms timeout, let it go."""
        building = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
            "AND query ILIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'"
        )
        first_seen, deadline = None, time.monotonic() + 60
        with admin.connect() as watcher:
            while time.monotonic() < deadline and not stop.is_set():
                if watcher.execute(building, {"name": name}).scalar_one():
                    first_seen = first_seen or time.monotonic()
                    if time.monotonic() - first_seen >= 1.0:
                        waited.append(time.monotonic() - first_seen)
                        break
                time.sleep(0.05)
        if not stop.is_set():
            busy.rollback()

    try:
        with writer.connect() as busy:
            # A transaction writing to messages: the concurrent index build waits for it.
            busy.execute(text("SET statement_timeout = 0"))
            busy.execute(text("UPDATE messages SET body = body WHERE false"))
            release = threading.Thread(target=release_after_the_build_waited, args=(busy,))
            release.start()
            try:
                command.upgrade(config, "heads")
            finally:
                if not waited:  # the upgrade ended without the build waiting: stop watching
                    stop.set()
                release.join(timeout=60)
    finally:
        writer.dispose()
        admin.dispose()

    assert waited and waited[0] >= 1.0  # the build outlasted the database's timeout
    assert index_is_valid(scratch_database_url, "ix_messages_queued_at") is True


ROWS_BEFORE_DISTRIBUTION_KEYS = """
INSERT INTO organizations (id, name, timezone, arrival_texts, created_at, updated_at)
VALUES (:org, 'Keys Co', 'UTC', true, now(), now()),
       (:enterprise, 'Keys Enterprise', 'UTC', true, now(), now());
INSERT INTO users (id, organization_id, name, phone, role, active, on_duty, created_at,
                   updated_at)
VALUES (:user, :org, 'Dana', '+13125550101', 'dispatcher', true, false, now(), now());
INSERT INTO customers (id, organization_id, name, timezone, created_at, updated_at)
VALUES (:customer, :org, 'Pat', 'UTC', now(), now());
INSERT INTO jobs (id, organization_id, customer_id, title, offer_state, canceled, status,
                  created_at, updated_at)
VALUES (:job, :org, :customer, 'Leak', 'none', false, 'unscheduled', now(), now());
INSERT INTO messages (id, organization_id, job_id, to_phone, body, purpose, status,
                      twilio_sid, attempts, next_attempt_at, queued_at, updated_at)
VALUES (:of_job, NULL, :job, '+13125550199', 'On my way', 'on_my_way', 'delivered',
        'SM-of-job', 1, now(), now(), now()),
       (:of_user, NULL, NULL, '+13125550101', 'code', 'passcode', 'sent', 'SM-of-user',
        1, now(), now(), now()),
       (:of_nobody, NULL, NULL, '+13125550177', 'code', 'passcode', 'sent', 'SM-of-nobody',
        1, now(), now(), now());
INSERT INTO sms_status_callbacks (message_sid, status, received_at, message_id,
                                  organization_id)
VALUES ('SM-of-job', 'delivered', now(), :of_job, NULL),
       ('SM-of-nobody', 'delivered', now(), :of_nobody, NULL),
       ('SM-not-yet', 'sent', now() - interval '1 hour', NULL, NULL);
INSERT INTO activity_events (organization_id, job_id, at, actor_kind, action, details)
VALUES (:org, :job, now(), 'system', 'created', '{}');
INSERT INTO webhook_deliveries (event_id, organization_id, job_id, type, payload, status,
                                attempts, next_attempt_at, attempt_log, created_at)
VALUES (:event, :enterprise, :job, 'job.created', '{}', 'queued', 0, now(), '[]', now());
"""


def test_distribution_keys_take_a_database_with_rows_up_and_down(
    scratch_database_url: str,
) -> None:
    config = alembic_config(scratch_database_url)
    command.upgrade(config, "0015_nearest")
    ids = {
        name: uuid.uuid4()
        for name in (
            "org",
            "enterprise",
            "user",
            "customer",
            "job",
            "of_job",
            "of_user",
            "of_nobody",
            "event",
        )
    }
    probe = create_engine(scratch_database_url)
    try:
        with probe.begin() as conn:
            for statement in ROWS_BEFORE_DISTRIBUTION_KEYS.split(";"):
                if statement.strip():
                    parameters = {k: v for k, v in ids.items() if f":{k}" in statement}
                    conn.execute(text(statement), parameters)

        command.upgrade(config, "0016_distribution_keys")
        with probe.connect() as conn:
            texts = dict(conn.execute(text("SELECT id, organization_id FROM messages")).all())
            callbacks = conn.execute(
                text("SELECT message_sid, organization_id, message_id FROM sms_status_callbacks")
            ).all()
            pending = conn.execute(
                text("SELECT message_sid, status FROM sms_pending_callbacks")
            ).all()
            keys = dict(
                conn.execute(
                    text(
                        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) "
                        "FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text "
                        "IN ('messages', 'activity_events', 'webhook_deliveries')"
                    )
                ).all()
            )
        # The job's text and the user's login code get their organization; the text of
        # no one goes, with its callback; the callback of no text yet waits as pending.
        assert texts == {ids["of_job"]: ids["org"], ids["of_user"]: ids["org"]}
        assert callbacks == [("SM-of-job", ids["org"], ids["of_job"])]
        assert pending == [("SM-not-yet", "sent")]
        assert set(keys.values()) == {"PRIMARY KEY (organization_id, id)"}

        command.downgrade(config, "0015_nearest")
        with probe.connect() as conn:
            callbacks = conn.execute(
                text(
                    "SELECT message_sid, organization_id, message_id FROM sms_status_callbacks "
                    "ORDER BY message_sid"
                )
            ).all()
            key = conn.execute(
                text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = 'pk_messages'"
                )
            ).scalar_one()
        assert callbacks == [
            ("SM-not-yet", None, None),
            ("SM-of-job", ids["org"], ids["of_job"]),
        ]
        assert key == "PRIMARY KEY (id)"
        command.upgrade(config, "heads")
    finally:
        probe.dispose()
