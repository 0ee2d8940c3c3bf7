"""The app skeleton: probes and the one JSON error shape for every error."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine

from fieldapi.app import create_app
from tests.conftest import TEST_CONFIG, ApiClient


def assert_error_shape(body: dict[str, Any], status: int) -> None:
    assert body["code"] == status
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]


def test_healthz_answers_without_auth(client: ApiClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_the_database(client: ApiClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}


def test_readyz_is_503_json_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir&connect_timeout=1"
    app = create_app(dict(TEST_CONFIG, DATABASE_URL=url), engine=create_engine(url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.is_json
    assert_error_shape(response.json, 503)


def test_unknown_path_is_a_json_404(client: ApiClient) -> None:
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert_error_shape(response.json, 404)
    assert response.json["status"] == "Not Found"


def test_wrong_method_is_a_json_405(client: ApiClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.is_json
    assert_error_shape(response.json, 405)


def test_a_crash_is_a_json_500_without_a_trace(app: Flask) -> None:
    crashing = create_app(dict(app.config))

    @crashing.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    response = crashing.test_client().get("/boom")
    assert response.status_code == 500
    assert response.is_json
    assert_error_shape(response.json, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_protected_endpoint_without_token_is_401(client: ApiClient) -> None:
    response = client.get("/v1/me")
    assert response.status_code == 401
    assert_error_shape(response.json, 401)


@pytest.mark.parametrize("header", ["Bearer nonsense", "Basic abc", "Bearer "])
def test_bad_tokens_are_401(client: ApiClient, header: str) -> None:
    response = client.get("/v1/me", headers={"Authorization": header})
    assert response.status_code == 401


def test_there_is_no_cookie_session(app: Flask) -> None:
    """Bearer tokens only: Flask's cookie session is not even opened (it costs a signing
    serializer per request), and writing to it fails loudly instead of setting a cookie."""
    from flask import session
    from flask.sessions import NullSession

    with app.test_request_context("/healthz"):
        app.preprocess_request()
        assert isinstance(session._get_current_object(), NullSession)  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError):
            session["user"] = "x"
    response = app.test_client().get("/healthz")
    assert "Set-Cookie" not in response.headers
