"""`./scripts/serve` as a supervisor runs it: up, answering, and gone on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Straight to the port, whatever http_proxy the environment sets.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def answers(port: int) -> bool:
    try:
        with DIRECT.open(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_the_server_and_the_worker(
    database_url: str, committed: Session, tmp_path: Path
) -> None:
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        FIELDAPI_ENV="development",
        FIELDAPI_VAR_DIR=str(tmp_path),
    )
    with (tmp_path / "serve.log").open("w") as log:
        serve = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not answers(port):
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "scripts/serve never answered /readyz"
            time.sleep(0.3)

        serve.send_signal(signal.SIGTERM)  # to the script alone, as a supervisor sends it
        assert serve.wait(timeout=30) == 0

        deadline = time.monotonic() + 15
        while group_alive(serve.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_alive(serve.pid), "a process of scripts/serve outlived it"
        assert not answers(port)
    finally:
        if group_alive(serve.pid):
            os.killpg(serve.pid, signal.SIGKILL)
