"""The local PostGIS from a clone in a private (0700) folder, and who stops it.

As root the cluster runs as `postgres`, which cannot enter a 0700 folder of root's: the
cluster must start anyway. `scripts/serve` stops it on exit only if it started it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldapi.localdb import pg_bin
from tests.test_serve_script import ROOT, answers, free_port


@pytest.fixture(scope="module")
def private_clone_var() -> Iterator[Path]:
    """The `var/` of a clone inside a folder only its owner may enter (mkdtemp: 0700); its
    cluster is made once for the module (initdb is the slow part)."""
    private = Path(tempfile.mkdtemp(prefix="fieldapi-private-"))
    assert private.stat().st_mode & 0o077 == 0
    var = private / "clone" / "var"
    yield var
    fieldapi(var, "db", "stop")
    cluster = (var / "postgres").resolve()
    shutil.rmtree(private, ignore_errors=True)
    shutil.rmtree(cluster, ignore_errors=True)


def environment(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_URL"}}
    return dict(env, FIELDAPI_VAR_DIR=str(var), FIELDAPI_ENV="development", WEB_CONCURRENCY="1")


def fieldapi(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fieldapi.cli", *args],
        env=environment(var),
        capture_output=True,
        text=True,
        timeout=120,
    )


def running(var: Path) -> bool:
    return fieldapi(var, "db", "running").returncode == 0


def serve_until_sigterm(var: Path, log: Path) -> None:
    """`scripts/serve --port P` up to its first answer, then stopped as a supervisor does."""
    port = free_port()
    with log.open("w") as out:
        serve = subprocess.Popen(
            [str(ROOT / "scripts" / "serve"), "--port", str(port)],
            env=environment(var),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not answers(port):
            assert serve.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0, log.read_text()
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def test_the_local_database_runs_from_a_private_folder_and_psql_opens_its_url(
    private_clone_var: Path,
) -> None:
    started = fieldapi(private_clone_var, "db", "start")
    assert started.returncode == 0, started.stderr
    assert running(private_clone_var)

    url = fieldapi(private_clone_var, "db", "url").stdout.strip()
    assert url.startswith("postgresql://")
    psql = subprocess.run(
        [pg_bin("psql"), url, "-X", "-A", "-t", "-c", "SELECT extname FROM pg_extension"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert psql.returncode == 0, psql.stderr
    assert "postgis" in psql.stdout.split()


def test_serve_stops_only_the_database_it_started(private_clone_var: Path) -> None:
    log = private_clone_var.parent / "serve.log"
    assert fieldapi(private_clone_var, "db", "start").returncode == 0

    serve_until_sigterm(private_clone_var, log)  # the database was already running
    assert running(private_clone_var), "serve stopped a database it had not started"

    assert fieldapi(private_clone_var, "db", "stop").returncode == 0
    assert not running(private_clone_var)
    serve_until_sigterm(private_clone_var, log)  # this time serve starts it
    assert not running(private_clone_var), "serve left the database it started running"
