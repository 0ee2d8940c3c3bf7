"""The application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface
from flask_smorest import Api

from fieldapi.config import load_config
from fieldapi.db import Database, make_engine, resolve_database_url, server_limits
from fieldapi.errors import register_error_handlers
from fieldapi.logs import init_request_ids
from fieldapi.openapi import SchemaRulesPlugin, exclusive_bounds, null_or_the_nested_schema

API_SPEC = {
    "API_TITLE": "fieldapi",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    # /openapi.json and the interactive reference at /docs, on the vendored Swagger UI
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/app/vendor/swagger-ui/",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Backend of the Dispatch Field and Dispatch Manager apps."},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        # Every operation takes a bearer token unless it says otherwise: the public ones
        # (login, probes, webhooks, links, booking, tracker ingest) carry `security=[]`.
        "security": [{"bearerAuth": []}],
    },
}


class NoCookieSession(SessionInterface):
    """Callers authenticate with bearer tokens, so Flask's signed-cookie session is never
    used: without this, every request still builds its signing serializer."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None  # Flask puts a NullSession in place: writing to it is an error

    def save_session(self, app: Flask, session: object, response: Response) -> None:
        return None


def create_app(config: dict[str, Any] | None = None, *, engine: Any = None) -> Flask:
    """Build the app from the environment; `config` overrides individual settings."""
    app = Flask(__name__, static_folder=None)
    app.session_interface = NoCookieSession()
    settings = load_config()
    settings.update(config or {})
    app.config.update(settings)
    app.config.update(API_SPEC)
    app.config["MAX_CONTENT_LENGTH"] = max(
        settings["MAX_JSON_BYTES"], settings.get("MAX_PHOTO_BYTES", 0) + 64 * 1024
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.getLogger("fieldapi").setLevel(logging.INFO)
    init_request_ids(app)

    url = resolve_database_url(app.config["DATABASE_URL"])
    if engine is None:
        limits = server_limits(url, int(app.config["DATABASE_STATEMENT_TIMEOUT_MS"]))
        engine = make_engine(url, echo=app.config["SQL_ECHO"], connect_args=limits)
    Database(engine).init_app(app)

    api = Api(app, spec_kwargs={"marshmallow_plugin": SchemaRulesPlugin()})
    api.ma_plugin.converter.add_attribute_function(null_or_the_nested_schema)
    api.ma_plugin.converter.add_attribute_function(exclusive_bounds)
    app.extensions["fieldapi.api"] = api
    register_error_handlers(app)
    register_blueprints(app, api)
    return app


def register_blueprints(app: Flask, api: Api) -> None:
    from fieldapi import health
    from fieldapi.metrics import init_metrics

    init_metrics(app)  # first: its timer starts before the other hooks run
    from fieldapi.accounts.views import blueprints as accounts
    from fieldapi.documents.views import blueprints as documents
    from fieldapi.documents.views import pages as document_pages
    from fieldapi.enterprise.views import blueprints as enterprise
    from fieldapi.eta import views as eta_views
    from fieldapi.jobs.views import blueprints as jobs
    from fieldapi.locations import device_views, dispatch_views, privacy_views
    from fieldapi.locations.protocols import views as tracker_views
    from fieldapi.locations.views import blueprints as locations
    from fieldapi.messaging.views import blueprints as messaging
    from fieldapi.public.views import blueprints as public
    from fieldapi.public.views import pages as public_pages
    from fieldapi.web.views import blp as web

    api.register_blueprint(health.blp)
    app.register_blueprint(web)
    app.register_blueprint(public_pages)
    app.register_blueprint(document_pages)
    for blueprint in (*accounts, *messaging, *locations, *jobs, *enterprise, *public, *documents):
        api.register_blueprint(blueprint, url_prefix=f"/v1{blueprint.url_prefix or ''}")
    api.register_blueprint(device_views.blp, url_prefix="/v1")
    api.register_blueprint(privacy_views.blp, url_prefix="/v1")
    api.register_blueprint(dispatch_views.blp, url_prefix="/v1")
    api.register_blueprint(eta_views.blp, url_prefix="/v1")
    api.register_blueprint(tracker_views.blp)
    from fieldapi.extensions import init_extensions
    from fieldapi.input_guard import init_input_guard

    init_extensions(app)
    init_input_guard(app)
