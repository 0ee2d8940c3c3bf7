"""Two API processes on different ports and two workers, one database, as on two machines:
a passcode asked on one is rate-limited on the other, a login made on one works on the
other, an idempotency key replays across them, and each text goes out once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.messaging.twilio_fake import FakeTwilio
from fieldapi.onboarding import create_organization
from fieldapi.paths import project_root
from tests.conftest import TEST_SECRET_KEY, unique_phone
from tests.messaging.test_worker_processes import WorkerProcess
from tests.messaging.twilio_server import fake_twilio
from tests.test_serve_script import DIRECT, free_port

__all__ = ["fake_twilio"]  # the fixture, imported to be used here
SERVE = [sys.executable, "-m", "fieldapi.cli", "serve", "--host", "127.0.0.1"]


def call(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with DIRECT.open(request, timeout=20) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read() or b"null")


@pytest.fixture
def env(database_url: str, fake_twilio: FakeTwilio, tmp_path: Path) -> dict[str, str]:
    values = dict(os.environ)
    values.update(fake_twilio.env())
    values.update(
        DATABASE_URL=database_url,
        FIELDAPI_ENV="test",
        SECRET_KEY=TEST_SECRET_KEY,
        FIELDAPI_VAR_DIR=str(tmp_path / "var"),
        PUBLIC_BASE_URL="http://127.0.0.1:8000",
        WEB_CONCURRENCY="1",
        WORKER_POLL_SECONDS="0.05",
        WORKER_MAINTENANCE_MINUTES="0",
        PYTHONUNBUFFERED="1",
    )
    return values


@pytest.fixture
def machines(
    committed: Session, env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[list[int], list[WorkerProcess]]]:
    ports = [free_port(), free_port()]
    servers = []
    for port in ports:
        with (tmp_path / f"api-{port}.log").open("w") as log:
            servers.append(
                subprocess.Popen(
                    [*SERVE, "--port", str(port)],
                    env=env,
                    cwd=project_root(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    workers = [WorkerProcess(env, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        deadline = time.monotonic() + 60
        for port, server in zip(ports, servers, strict=True):
            while True:
                try:
                    if call(port, "GET", "/readyz")[0] == 200:
                        break
                except OSError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / f"api-{port}.log"
                ).read_text()
                time.sleep(0.2)
        for worker in workers:
            worker.wait_started()
        yield ports, workers
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        for worker in workers:
            worker.close()


def test_two_api_processes_and_two_workers_behave_as_one(
    committed: Session,
    machines: tuple[list[int], list[WorkerProcess]],
    fake_twilio: FakeTwilio,
) -> None:
    (a, b), _workers = machines
    phone = unique_phone()
    create_organization(
        committed, name="Two Machines HVAC", owner_name="Dana Reyes", owner_phone=phone
    )
    committed.commit()

    status, _h, sent = call(a, "POST", "/v1/auth/passcode", {"phone": phone})
    assert status == 202 and sent["resend_after"] > 0
    status, headers, _body = call(b, "POST", "/v1/auth/passcode", {"phone": phone})
    assert status == 429 and int(headers["Retry-After"]) > 0  # the other machine's code

    [text] = fake_twilio.wait_for_messages(1, timeout_s=20)
    code = re.search(r"\b(\d{4,8})\b", text.body)
    assert text.to == phone and code is not None
    status, _h, tokens = call(b, "POST", "/v1/auth/session", {"phone": phone, "passcode": code[1]})
    assert status == 201
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, _h, me = call(a, "GET", "/v1/me", headers=auth)
    assert status == 200 and me["phone"] == phone

    customer = {
        "name": "Pat Customer",
        "phone": unique_phone(),
        "address": "1 Main St",
        "lat": 41.88,
        "lon": -87.63,
        "timezone": "America/Chicago",
    }
    keyed = {**auth, "Idempotency-Key": "two-machines-1"}
    first = call(a, "POST", "/v1/customers", customer, keyed)
    again = call(b, "POST", "/v1/customers", customer, keyed)
    assert first[0] == again[0] == 201
    assert again[1].get("Idempotent-Replayed") == "true" and again[2]["id"] == first[2]["id"]
    status, _h, listed = call(a, "GET", "/v1/customers", headers=auth)
    assert [c["id"] for c in listed["items"]] == [first[2]["id"]]

    time.sleep(1.0)  # both workers polled many times: still one text at Twilio
    assert [m.to for m in fake_twilio.messages] == [phone]
