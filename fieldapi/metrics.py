"""`GET /metrics` in Prometheus' text format: requests by route and status, pings stored and
rejected (the apps' and the tracker apps'), texts by status, the outbox's and the enterprise
webhook queue's depth and age, the database pool in use.

Off unless a setting allows someone in: `METRICS_TOKEN` (sent as `Authorization: Bearer`)
or `METRICS_ALLOW_FROM` (addresses or networks, matched against the client address the
rate limits use); either lets a scraper in. Counters live in each process: under gunicorn
each worker answers with its own (add them up by `instance`/`pid`), the database figures
are the same from any of them.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import text

from fieldapi.db import database
from fieldapi.errors import NotFound
from fieldapi.extensions import client_address
from fieldapi.settings import Setting, SettingError, parse_list

METRICS_PATH = "/metrics"


def _networks(raw: str) -> list[str]:
    items = parse_list(raw)
    try:
        for item in items:
            ipaddress.ip_network(item, strict=False)
    except ValueError as error:
        raise SettingError(f"not an address or network: {error}") from error
    return items


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "METRICS_TOKEN",
        "",
        str,
        "lets a scraper read `GET /metrics` with `Authorization: Bearer <token>`; "
        "unset, and with `METRICS_ALLOW_FROM` unset, `/metrics` answers 404",
    ),
    Setting(
        "METRICS_ALLOW_FROM",
        [],
        _networks,
        "addresses or networks (comma separated, e.g. `127.0.0.1,10.0.0.0/8`) that may read "
        "`GET /metrics` without the token",
    ),
)

OUTBOX_SQL = text(
    "SELECT status, count(*), "
    "COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at) "
    "FILTER (WHERE next_attempt_at <= now())), 0) "
    "FROM messages WHERE status IN ('queued', 'sending') GROUP BY status"
)
# Unlike a text, a webhook waits mostly in backoff (its receiver down), not due: its age
# is from the change, so a receiver down shows before the deliveries start to fail.
WEBHOOKS_SQL = text(
    "SELECT status, count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) "
    "FROM webhook_deliveries WHERE status IN ('queued', 'sending') GROUP BY status"
)
TEXTS_SQL = text("SELECT status, count(*) FROM messages GROUP BY status")


class Metrics:
    """One app's metrics, in its own registry (tests build many apps in one process)."""

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "fieldapi_http_requests",
            "Requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fieldapi_http_request_duration_seconds",
            "Time to answer, by route and method.",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.pings = Counter(
            "fieldapi_pings", "Pings received, by outcome.", ["outcome"], registry=self.registry
        )
        self.registry.register(DatabaseCollector(app))
        # The labelled children by their labels: `labels()` validates and locks on each
        # call, a measurable share of a one-ping upload when done twice per request.
        self._answered: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def observe(self, rule: str, method: str, status: int, seconds: float) -> None:
        """One answered request."""
        key = (rule, method, str(status))
        counter = self._answered.get(key)
        if counter is None:
            counter = self._answered[key] = self.requests.labels(*key)
        counter.inc()
        timed = self._timed.get(key[:2])
        if timed is None:
            timed = self._timed[key[:2]] = self.latency.labels(rule, method)
        timed.observe(seconds)


class DatabaseCollector(Collector):
    """What the database says at scrape time: texts by status, the outbox, the webhook
    queue, the pool."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine = database(self.app).engine
        pool: Any = engine.pool
        in_use = GaugeMetricFamily(
            "fieldapi_db_pool_connections", "This process's pool.", labels=["state", "pid"]
        )
        pid = str(os.getpid())
        for state, read in (("in_use", "checkedout"), ("idle", "checkedin"), ("size", "size")):
            if hasattr(pool, read):
                in_use.add_metric([state, pid], float(getattr(pool, read)()))
        yield in_use
        texts = GaugeMetricFamily(
            "fieldapi_texts", "Texts in the outbox by status.", labels=["status"]
        )
        depth = GaugeMetricFamily(
            "fieldapi_outbox_depth", "Texts waiting to be sent or being sent.", labels=["status"]
        )
        age = GaugeMetricFamily(
            "fieldapi_outbox_oldest_due_seconds",
            "How long the oldest due text has waited.",
            labels=["status"],
        )
        hook_depth = GaugeMetricFamily(
            "fieldapi_webhook_queue_depth",
            "Enterprise webhook deliveries waiting to be sent or being sent.",
            labels=["status"],
        )
        hook_age = GaugeMetricFamily(
            "fieldapi_webhook_queue_oldest_seconds",
            "How long the oldest undelivered webhook delivery has waited since its change.",
            labels=["status"],
        )
        with database(self.app).read_sessions() as db:
            for status, count in db.execute(TEXTS_SQL):
                texts.add_metric([status], float(count))
            for status, count, waited in db.execute(OUTBOX_SQL):
                depth.add_metric([status], float(count))
                age.add_metric([status], float(waited))
            for status, count, waited in db.execute(WEBHOOKS_SQL):
                hook_depth.add_metric([status], float(count))
                hook_age.add_metric([status], float(waited))
        yield texts
        yield depth
        yield age
        yield hook_depth
        yield hook_age


blp = Blueprint("metrics", __name__)


def metrics(app: Flask | None = None) -> Metrics:
    found: Metrics = (app or current_app).extensions["fieldapi.metrics"]
    return found


def count_pings(stored: int, duplicates: int, rejected: int) -> None:
    """Called by the ingest views with what one request did."""
    counter = metrics().pings
    for outcome, n in (("stored", stored), ("duplicate", duplicates), ("rejected", rejected)):
        if n:
            counter.labels(outcome).inc(n)


def _allowed() -> bool:
    config = current_app.config
    token = config.get("METRICS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    networks = config.get("METRICS_ALLOW_FROM") or []
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_address())
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


@blp.route(METRICS_PATH)
def get_metrics() -> Response:
    if not _allowed():
        raise NotFound("Not found.")  # it does not exist for whoever may not read it
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(metrics().registry), content_type=content_type)


_STARTED = "fieldapi.metrics_started"


def _start_timer() -> None:
    request.environ[_STARTED] = time.perf_counter()


def _observe(response: Response) -> Response:
    environ = request.environ
    started = environ.pop(_STARTED, None)
    if started is not None:
        rule = request.url_rule
        metrics().observe(
            rule.rule if rule is not None else "unmatched",
            request.method,
            response.status_code,
            time.perf_counter() - started,
        )
    return response


def init_metrics(app: Flask) -> None:
    app.extensions["fieldapi.metrics"] = Metrics(app)
    app.register_blueprint(blp)
    app.before_request(_start_timer)
    app.after_request(_observe)
