"""The API behind Debian's nginx terminating TLS (a self-signed certificate), as
docs/operations.md sets it up: a Twilio webhook signed for the public https address
validates, the rate limits see the caller's address rather than nginx's, and a phone's
connection is kept alive across requests."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session

from fieldapi.messaging.signing import SIGNATURE_HEADER
from fieldapi.messaging.twilio_fake import TEST_AUTH_TOKEN, FakeTwilio
from fieldapi.paths import project_root
from tests.conftest import TEST_SECRET_KEY, unique_phone
from tests.test_serve_script import answers, free_port

NGINX = "/usr/sbin/nginx"
INBOUND_PATH = "/v1/webhooks/twilio/inbound"
SERVE = [sys.executable, "-m", "fieldapi.cli", "serve", "--host", "127.0.0.1"]
SELF_SIGNED = [
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost",
]

NGINX_CONF = """
daemon off;
worker_processes 1;
{user}
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream fieldapi {{ server 127.0.0.1:{api_port}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {root}/cert.pem;
        ssl_certificate_key {root}/key.pem;
        keepalive_timeout 75s;
        client_max_body_size 11m;
        location / {{
            proxy_pass http://fieldapi;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@dataclass
class Proxy:
    port: int
    root: Path

    @property
    def public_url(self) -> str:
        return f"https://localhost:{self.port}"

    def connect(self, source: str = "127.0.0.1") -> http.client.HTTPSConnection:
        context = ssl.create_default_context(cafile=str(self.root / "cert.pem"))
        return http.client.HTTPSConnection(
            "localhost", self.port, context=context, source_address=(source, 0), timeout=20
        )


def wait_for(condition: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} did not come up"
        time.sleep(0.2)


@pytest.fixture
def proxy(database_url: str, committed: Session, tmp_path: Path) -> Iterator[Proxy]:
    root = tmp_path / "nginx"
    root.mkdir()
    subprocess.run(
        [*SELF_SIGNED, "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True,
        capture_output=True,
    )
    port, api_port = free_port(), free_port()
    proxy = Proxy(port, root)
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        FIELDAPI_ENV="test",
        SECRET_KEY=TEST_SECRET_KEY,
        FIELDAPI_VAR_DIR=str(tmp_path / "var"),
        PUBLIC_BASE_URL=proxy.public_url,
        TRUSTED_PROXY_HOPS="1",
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        PASSCODE_RATE_LIMIT="2 per minute",
        WEB_CONCURRENCY="1",
    )
    user = "user root;" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        NGINX_CONF.format(root=root, port=port, api_port=api_port, user=user)
    )
    with (tmp_path / "api.log").open("w") as log:
        api = subprocess.Popen(
            [*SERVE, "--port", str(api_port)],
            env=env,
            cwd=project_root(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    nginx = subprocess.Popen(
        [NGINX, "-p", str(root), "-c", str(root / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: answers(api_port) or api.poll() is not None, "the API")
        assert api.poll() is None, (tmp_path / "api.log").read_text()
        wait_for(lambda: (root / "nginx.pid").exists() or nginx.poll() is not None, "nginx")
        assert nginx.poll() is None, (root / "error.log").read_text()
        yield proxy
    finally:
        for process in (nginx, api):
            process.terminate()
        for process in (nginx, api):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def post_form(
    connection: http.client.HTTPSConnection, path: str, form: dict, signature: str
) -> int:
    connection.request(
        "POST",
        path,
        body=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature},
    )
    response = connection.getresponse()
    response.read()
    return response.status


def test_behind_nginx_webhooks_validate_rate_limits_see_the_caller_and_keep_alive_works(
    proxy: Proxy,
) -> None:
    # A Twilio webhook signed for the public https address validates; one signed for the
    # address gunicorn listens on does not.
    fake = FakeTwilio()  # only its signing
    form = fake.inbound_sms_params(from_=unique_phone(), body="hello")
    public = fake.sign(proxy.public_url + INBOUND_PATH, form)
    internal = fake.sign(f"http://127.0.0.1{INBOUND_PATH}", form)
    with closing(proxy.connect()) as connection:
        assert post_form(connection, INBOUND_PATH, form, internal) == 403
        assert post_form(connection, INBOUND_PATH, form, public) == 200

    # The rate limit (2 per minute here) counts the caller, not nginx.
    def ask(source: str) -> int:
        with closing(proxy.connect(source)) as connection:
            body = json.dumps({"phone": unique_phone()})
            headers = {"Content-Type": "application/json"}
            connection.request("POST", "/v1/auth/passcode", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status

    assert [ask("127.0.0.2") for _ in range(3)] == [202, 202, 429]
    assert ask("127.0.0.3") == 202  # another phone behind the same nginx is not throttled

    # A phone's connection is kept alive across requests.
    with closing(proxy.connect()) as connection:
        statuses, sockets = [], set()
        for _ in range(5):
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            assert (response.getheader("Connection") or "").lower() != "close"
            sockets.add(id(connection.sock))
        assert statuses == [200] * 5
        assert len(sockets) == 1 and connection.sock is not None
