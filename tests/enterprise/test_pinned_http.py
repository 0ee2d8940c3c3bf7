"""Webhook connections pinned to the checked addresses keep TLS to the URL's name: the
server hears the name (SNI) and its certificate is checked against it."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from fieldapi.enterprise.pinned_http import pinned_session

NAME = "hooks.example.test"  # no DNS here answers it: only the pinned address reaches


class TlsServer:
    def __init__(self, port: int, certificate: Path) -> None:
        self.port, self.certificate = port, certificate
        self.server_names: list[str | None] = []


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={NAME}",
            "-addext",
            f"subjectAltName=DNS:{NAME}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = self.headers.get("Host", "").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = TlsServer(server.server_address[1], cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def heard(_sock: Any, name: str | None, _context: Any) -> None:
        state.server_names.append(name)

    context.sni_callback = heard
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_https_to_the_pinned_address_checks_the_certificate_of_the_name(
    tls_server: TlsServer,
) -> None:
    url = f"https://{NAME}:{tls_server.port}/hook"
    with pinned_session(["127.0.0.1"]) as http:
        answer = http.post(url, data=b"{}", verify=str(tls_server.certificate), timeout=10)
    assert answer.status_code == 200
    assert answer.text == f"{NAME}:{tls_server.port}"  # the Host header
    assert tls_server.server_names == [NAME]  # SNI


def test_a_certificate_for_another_name_is_refused(tls_server: TlsServer) -> None:
    url = f"https://other.example.test:{tls_server.port}/hook"
    with (
        pinned_session(["127.0.0.1"]) as http,
        pytest.raises(requests.exceptions.SSLError, match=r"other\.example\.test"),
    ):
        http.post(url, data=b"{}", verify=str(tls_server.certificate), timeout=10)


def test_the_addresses_are_tried_in_order(tls_server: TlsServer) -> None:
    # Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1): the next is used,
    # as urllib3 tries each address a name resolves to.
    url = f"https://{NAME}:{tls_server.port}/hook"
    with pinned_session(["127.0.0.2", "127.0.0.1"]) as http:
        answer = http.post(url, data=b"{}", verify=str(tls_server.certificate), timeout=10)
    assert answer.status_code == 200
    with pinned_session(["127.0.0.2"]) as http, pytest.raises(requests.ConnectionError):
        http.post(url, data=b"{}", verify=str(tls_server.certificate), timeout=10)
