"""One log format (JSON lines in production, readable lines otherwise) and a request id on
every line of a request, echoed as X-Request-Id."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from fieldapi.app import create_app
from tests.conftest import TEST_CONFIG, ApiClient
from tests.test_serve_script import DIRECT, answers, free_port

READABLE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ \[[^\]]+\] "
)


def test_every_answer_carries_a_request_id(client: ApiClient) -> None:
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/v1/me").headers["X-Request-Id"]  # a 401 too
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second
    sent = client.get("/healthz", headers={"X-Request-Id": "app-7f3a:42"})
    assert sent.headers["X-Request-Id"] == "app-7f3a:42"
    for unfit in ("x" * 200, "two words", "<script>"):
        answer = client.get("/healthz", headers={"X-Request-Id": unfit})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])


def test_the_log_lines_of_a_request_carry_its_id(
    engine: Engine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app: Flask = create_app(dict(TEST_CONFIG, DATABASE_URL=database_url), engine=engine)

    @app.get("/log-twice")
    def log_twice() -> str:
        logging.getLogger("fieldapi.probe").info("first")
        logging.getLogger("fieldapi.probe").warning("second")
        return "ok"

    with caplog.at_level(logging.INFO, logger="fieldapi.probe"):
        answer = app.test_client().get("/log-twice")
        logging.getLogger("fieldapi.probe").info("after the request")
    request_id = answer.headers["X-Request-Id"]
    ids = [getattr(r, "request_id", None) for r in caplog.records if r.name == "fieldapi.probe"]
    assert ids == [request_id, request_id, "-"]


def worker_once(env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "fieldapi.cli", "worker", "--once"],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any("worker" in line and "started" in line for line in lines), lines
    return lines


def test_production_logs_json_lines(database_url: str) -> None:
    lines = worker_once(
        {
            "FIELDAPI_ENV": "production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "k",
            "PUBLIC_BASE_URL": "https://api.example.test",
            "SMS_TRANSPORT": "twilio",
            "TWILIO_AUTH_TOKEN": "t",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_FROM": "+13125550100",
        }
    )
    for line in lines:
        entry = json.loads(line)
        assert set(entry) >= {"time", "level", "logger", "request_id", "message"}, entry


def test_development_logs_readable_lines(database_url: str) -> None:
    lines = worker_once({"FIELDAPI_ENV": "development", "DATABASE_URL": database_url})
    assert all(READABLE.match(line) for line in lines), lines


def test_fieldapi_serve_writes_an_access_log_in_development_in_the_same_format(
    database_url: str, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        FIELDAPI_ENV="development",
        FIELDAPI_VAR_DIR=str(tmp_path),
        WEB_CONCURRENCY="1",
    )
    env.pop("ACCESS_LOG", None)
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "fieldapi.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not answers(port):
            assert serve.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        probe = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-Id": "probe-42"}
        )
        with DIRECT.open(probe, timeout=5) as answer:
            assert answer.headers["X-Request-Id"] == "probe-42"
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert all(READABLE.match(line) for line in lines), lines
    access = [line for line in lines if "gunicorn.access" in line and "GET /healthz" in line]
    assert len(access) == 1 and "[probe-42]" in access[0], lines
