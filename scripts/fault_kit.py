"""What the fault scripts share: a throwaway PostGIS, `fieldapi worker` processes, waiting for
a condition, stopping what was started, and bench_ingest's HTTP helpers.

Imported by `scripts/fault_*.py` (run as files, so `scripts/` is on their import path).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "faults"


@dataclass(frozen=True)
class Scratch:
    """A run's folder and its cluster: `url` for SQLAlchemy, `dsn` for psycopg."""

    workdir: Path
    cluster: Any  # fieldapi.localdb.LocalCluster
    url: str
    dsn: str


@contextmanager
def scratch_database(prefix: str, *, port_base: int, fast: bool = False) -> Iterator[Scratch]:
    """A migrated throwaway cluster on a Unix socket in a new temporary folder, removed after.

    `fast`: fsync off (for scripts that do not stop PostgreSQL under load)."""
    from fieldapi.localdb import LocalCluster
    from fieldapi.migrations import upgrade

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    workdir.chmod(0o755)  # the cluster's owner (postgres, when we are root) must enter it
    cluster = LocalCluster(
        root=workdir / "pg", port=port_base + os.getpid() % 5000, fast_and_unsafe=fast
    )
    try:
        url = cluster.ensure(DATABASE)
        upgrade(url)
        dsn = f"host={cluster.socket_dir} port={cluster.port} user=fieldapi dbname={DATABASE}"
        yield Scratch(workdir, cluster, url, dsn)
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A `fieldapi worker` process, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "fieldapi.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(processes: Sequence[subprocess.Popen[bytes]], *, grace_s: float = 15.0) -> None:
    """SIGTERM each process still running, SIGKILL it after `grace_s`."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], bool], timeout_s: float, *, every_s: float = 0.05) -> bool:
    """True once `condition()` is; False if it still is not after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


def load_bench() -> ModuleType:
    """scripts/bench_ingest.py as a module: its seeding, tokens, server and raw HTTP."""
    spec = importlib.util.spec_from_file_location("bench_ingest", ROOT / "scripts/bench_ingest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ingest"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
