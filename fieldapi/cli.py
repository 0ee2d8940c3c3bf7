"""The `fieldapi` console script."""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from fieldapi.settings import SettingError


class CommandError(Exception):
    """A one-line reason to exit non-zero."""


def database_url() -> str:
    """DATABASE_URL when set; otherwise the project-local cluster, started if needed."""
    from fieldapi.db import normalize_database_url
    from fieldapi.localdb import default_cluster

    configured = os.environ.get("DATABASE_URL")
    if configured:
        return normalize_database_url(configured)
    return default_cluster().ensure()


def check_port_free(host: str, port: int) -> None:
    """Refuse a port another server listens on. Connections in TIME_WAIT, left by a server
    that just stopped, do not count: gunicorn binds with SO_REUSEADDR too."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {port} on {host} is already in use: stop the other server or pass --port"
            ) from error
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    finally:
        probe.close()


def cmd_serve(args: argparse.Namespace) -> None:
    from fieldapi.server import run_gunicorn

    check_port_free(args.host, args.port)
    os.environ["DATABASE_URL"] = database_url()
    run_gunicorn(args.host, args.port, workers=args.workers, threads=args.threads)


def cmd_worker(args: argparse.Namespace) -> None:
    from fieldapi.periodic import run_worker

    os.environ["DATABASE_URL"] = database_url()
    run_worker(once=args.once)


def cmd_db(args: argparse.Namespace) -> None:
    from fieldapi.localdb import default_cluster
    from fieldapi.migrations import upgrade

    if args.db_command == "upgrade":
        upgrade(database_url())
        print("database is up to date")
    elif args.db_command == "start":
        print(database_url())
    elif args.db_command == "stop":
        default_cluster().stop()
    elif args.db_command == "running":
        if not default_cluster().running():
            raise CommandError("the local database is not running")
    elif args.db_command == "url":
        print_psql_url()


def print_psql_url() -> None:
    """The URL psql accepts (libpq's form); how to open psql goes to stderr, so that
    `psql "$(fieldapi db url)"` works."""
    from fieldapi.localdb import default_cluster

    configured = os.environ.get("DATABASE_URL")
    if configured:
        url = configured.replace("postgresql+psycopg://", "postgresql://", 1)
    else:
        cluster = default_cluster()
        cluster.ensure()
        url = cluster.libpq_url()
    print(url)
    if sys.stderr.isatty():
        print('open it with: psql "$(.venv/bin/fieldapi db url)"', file=sys.stderr)


def _session() -> Any:
    from sqlalchemy.orm import Session

    from fieldapi.db import make_engine

    return Session(make_engine(database_url()), expire_on_commit=False)


def cmd_create_org(args: argparse.Namespace) -> None:
    from fieldapi.errors import DomainError
    from fieldapi.onboarding import create_organization

    with _session() as db:
        try:
            organization, _owner = create_organization(
                db,
                name=args.name,
                owner_name=args.owner_name,
                owner_phone=args.owner_phone,
                timezone=args.timezone,
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        db.commit()
        print(organization.id)


def cmd_demo(args: argparse.Namespace) -> None:
    from fieldapi.demo import seed_demo

    if args.drive and (args.minutes <= 0 or args.interval <= 0):
        raise CommandError("--minutes and --interval must be positive")
    if args.if_empty or not args.drive:
        with _session() as db:
            summary = seed_demo(db, only_if_empty=args.if_empty)
            db.commit()
        print(json.dumps(summary, indent=2, default=str), flush=True)
    if args.drive:
        drive_demo(args)


def drive_demo(args: argparse.Namespace) -> None:
    """Simulated technicians drive until they arrive, time is up, or SIGINT/SIGTERM."""
    import signal
    import threading

    import fieldapi.models  # noqa: F401  (every mapper, for the foreign keys between them)
    from fieldapi.config import load_config
    from fieldapi.demo_drive import demo_organization_id, drive
    from fieldapi.jobs.texts import TextSettings
    from fieldapi.locations.service import Limits

    config = load_config()
    limits, texts = Limits.from_config(config), TextSettings.from_config(config)
    stop = threading.Event()
    handlers = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with _session() as db:
            organization_id = demo_organization_id(db)
            if organization_id is None:
                raise CommandError("no demo organization: run `fieldapi demo` first")
            drive(
                db,
                organization_id,
                minutes=args.minutes,
                interval_s=args.interval,
                limits=limits,
                texts=texts,
                wait=stop.wait,
                report=lambda line: print(line, flush=True),
            )
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def cmd_status(args: argparse.Namespace) -> None:
    from datetime import timedelta

    from fieldapi.db import utcnow
    from fieldapi.locations.maintenance import setting
    from fieldapi.status import deployment_status

    if args.overdue_minutes <= 0:
        raise CommandError("--overdue-minutes must be positive")
    # Only what the checks read: a monitoring host needs no Twilio or signing secrets.
    retention_days = int(setting("LOCATION_RETENTION_DAYS"))
    if os.environ.get("FIELDAPI_ENV") == "production" and not os.environ.get("DATABASE_URL"):
        raise CommandError("production settings need DATABASE_URL")
    with _session() as db:
        checks = deployment_status(
            db,
            utcnow(),
            overdue_after=timedelta(minutes=args.overdue_minutes),
            retention_days=retention_days,
        )
    if args.json:
        print(json.dumps([check.as_dict() for check in checks], indent=2))
    else:
        print("\n".join(check.line() for check in checks))
    failed = [check.name for check in checks if not check.ok]
    if failed:
        raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")


def cmd_openapi(args: argparse.Namespace) -> None:
    from fieldapi.openapi import write_spec

    write_spec(args.output)
    print(f"wrote {args.output}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldapi", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API with gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None)
    serve.add_argument("--threads", type=int, default=None)
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="send queued texts and run periodic work")
    worker.add_argument("--once", action="store_true", help="drain what is due, then exit")
    worker.set_defaults(handler=cmd_worker)

    db = commands.add_parser(
        "db",
        help="database: upgrade (migrations); start, stop, running (exit 1 if not) of the "
        'local cluster; url (for psql: psql "$(fieldapi db url)")',
    )
    db.add_argument("db_command", choices=["upgrade", "start", "stop", "running", "url"])
    db.set_defaults(handler=cmd_db)

    org = commands.add_parser("create-org", help="a new organization and its first dispatcher")
    org.add_argument("name")
    org.add_argument("--owner-name", required=True)
    org.add_argument("--owner-phone", required=True)
    org.add_argument("--timezone", default="America/New_York")
    org.set_defaults(handler=cmd_create_org)

    demo = commands.add_parser("demo", help="a demo organization with a team, customers and jobs")
    demo.add_argument("--if-empty", action="store_true", help="only when no organization exists")
    demo.add_argument(
        "--drive",
        action="store_true",
        help="simulate the demo technicians driving to their appointments (creates no "
        "organization, unless with --if-empty and the database is empty)",
    )
    demo.add_argument("--minutes", type=float, default=30.0, help="with --drive: how long")
    demo.add_argument(
        "--interval", type=float, default=5.0, help="with --drive: seconds between pings"
    )
    demo.set_defaults(handler=cmd_demo)

    status = commands.add_parser(
        "status",
        help="is the deployment working: schema, outbox, ping partitions (exit 1 if not)",
    )
    status.add_argument("--json", action="store_true", help="the checks as JSON")
    status.add_argument(
        "--overdue-minutes",
        type=float,
        default=5.0,
        help="fail when a text has been due this long (default 5)",
    )
    status.set_defaults(handler=cmd_status)

    spec = commands.add_parser("openapi", help="write the OpenAPI document")
    spec.add_argument("--output", default="openapi/openapi.json")
    spec.set_defaults(handler=cmd_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from fieldapi.logs import configure_logging

    args = build_parser().parse_args(argv)
    configure_logging(os.environ.get("FIELDAPI_ENV") or "development")
    try:
        args.handler(args)
    except (CommandError, SettingError) as error:
        print(f"fieldapi {args.command}: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        from fieldapi.localdb import LocalDatabaseError

        if isinstance(error, LocalDatabaseError):
            print(f"fieldapi {args.command}: {error}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
