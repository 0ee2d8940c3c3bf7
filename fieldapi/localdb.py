"""A project-local PostGIS cluster for development and tests.

The cluster listens on a Unix socket only (no TCP port is opened), in a directory
that only its owner can enter. PostgreSQL refuses to run as root, so when we are
root the cluster runs as the `postgres` system user. That user cannot enter a clone
in a private folder (`/root/...`, a `mktemp -d` folder): the cluster then lives in
postgres's home instead, and `var/postgres` is a symbolic link to it.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")
DEFAULT_PORT = 54329
DATABASE_NAME = "fieldapi"
SUPERUSER = "fieldapi"


class LocalDatabaseError(RuntimeError):
    pass


def pg_bin(name: str) -> str:
    for directory in PG_BIN_CANDIDATES:
        path = Path(directory) / name
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if not found:
        raise LocalDatabaseError(f"PostgreSQL binary {name!r} not found; install postgresql-15")
    return found


def _run_as_owner() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _chown_to_owner(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class LocalCluster:
    root: Path
    port: int = DEFAULT_PORT
    fast_and_unsafe: bool = False  # fsync off: for throwaway test clusters only

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql+psycopg://{self.libpq_url(database).removeprefix('postgresql://')}"

    def libpq_url(self, database: str = DATABASE_NAME) -> str:
        """The URL as psql and every libpq client take it."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_run_as_owner(), *args], capture_output=True, text=True, check=check, cwd="/"
        )

    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialized():
            return False
        result = self._run(pg_bin("pg_ctl"), "status", "-D", str(self.datadir), check=False)
        return result.returncode == 0

    def init(self) -> None:
        for directory in (self.root, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o700)
            _chown_to_owner(directory)
        result = self._run(
            pg_bin("initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            check=False,
        )
        if result.returncode != 0:
            raise LocalDatabaseError(f"initdb failed: {result.stderr.strip()}")

    def start(self) -> None:
        options = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{self.socket_dir}'",
            f"-p {self.port}",
            "-c max_connections=200",
        ]
        if self.fast_and_unsafe:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        # The log lives beside the data so the cluster's owner can write it.
        self.logfile.touch(exist_ok=True)
        _chown_to_owner(self.logfile)
        result = self._run(
            pg_bin("pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-o",
            " ".join(options),
            check=False,
        )
        if result.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-2000:]
            raise LocalDatabaseError(f"PostgreSQL did not start: {result.stderr.strip()}\n{tail}")

    def stop(self) -> None:
        if self.running():
            self._run(pg_bin("pg_ctl"), "stop", "-D", str(self.datadir), "-m", "fast", "-w")

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run(
            pg_bin("psql"),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-c",
            sql,
            check=False,
        )
        if result.returncode != 0:
            raise LocalDatabaseError(result.stderr.strip())
        return result.stdout.strip()

    def create_database(self, name: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
        try:
            self.psql("CREATE EXTENSION IF NOT EXISTS postgis", database=name)
        except LocalDatabaseError as error:
            raise LocalDatabaseError(
                f"{error}\nPostGIS is missing: apt-get install postgresql-15-postgis-3"
            ) from error

    def ensure(self, database: str = DATABASE_NAME) -> str:
        """Initialize and start the cluster as needed; return the database URL."""
        if not self.initialized():
            self.init()
        if not self.running():
            self.start()
        for _ in range(50):
            if (self.socket_dir / f".s.PGSQL.{self.port}").exists():
                break
            time.sleep(0.1)
        self.create_database(database)
        return self.url(database)


def _postgres_can_enter(path: Path) -> bool:
    """access(2) as postgres: needs search permission on every folder above `path`."""
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(path)], capture_output=True
    )
    return result.returncode == 0


def cluster_root(var: Path) -> Path:
    """Where the cluster of the state folder `var` lives: `var/postgres`, unless we are
    root and postgres cannot enter `var`; then a folder in postgres's home named after
    `var`, linked from `var/postgres`."""
    preferred = var / "postgres"
    if os.geteuid() != 0:
        return preferred
    if preferred.is_symlink():
        return preferred.resolve()
    var.mkdir(parents=True, exist_ok=True)
    if _postgres_can_enter(var):
        return preferred
    try:
        home = Path(pwd.getpwnam("postgres").pw_dir)
    except KeyError as error:
        raise LocalDatabaseError(
            "the local database runs as the `postgres` user, which does not exist; install "
            "postgresql-15 (it creates that user), or set DATABASE_URL to a PostGIS database"
        ) from error
    if not _postgres_can_enter(home):
        raise LocalDatabaseError(
            f"the `postgres` user can enter neither {var} nor its home {home}: clone the "
            f"project where postgres can reach it (e.g. under /srv or /opt), set "
            f"FIELDAPI_VAR_DIR to such a folder, or set DATABASE_URL"
        )
    digest = hashlib.sha256(str(var.resolve()).encode()).hexdigest()[:16]
    outside = home / "fieldapi-clusters" / digest
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.parent.chmod(0o755)
    if preferred.is_dir() and not (preferred / "data" / "PG_VERSION").exists():
        shutil.rmtree(preferred)  # what an initdb that postgres could not run left behind
    if not preferred.exists():
        preferred.symlink_to(outside, target_is_directory=True)
    return outside


def default_cluster() -> LocalCluster:
    from fieldapi.paths import var_dir

    return LocalCluster(root=cluster_root(var_dir()))
