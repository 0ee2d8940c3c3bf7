"""HTTP to the addresses a webhook's host was checked to resolve to, not to a second DNS
answer. A host whose DNS gives a public address to the check and 127.0.0.1 to the
connection a moment later (DNS rebinding) would otherwise reach inside our network.

urllib3 resolves the host itself when it opens a connection and has no resolver hook, so
the connection classes here open the socket to the checked addresses (in order, as
urllib3 tries a name's addresses) and leave the host name to TLS (SNI, the certificate
check) and to the Host header.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError


def _open(connection: Any, addresses: Sequence[str]) -> socket.socket:
    failure: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection(
                (address, connection.port),
                connection.timeout,
                source_address=connection.source_address,
            )
        except TimeoutError as error:
            raise ConnectTimeoutError(
                connection, f"Connection to {connection.host} ({address}) timed out."
            ) from error
        except OSError as error:
            failure = error
            continue
        for option in connection.socket_options or ():
            sock.setsockopt(*option)
        return sock
    raise NewConnectionError(connection, f"Failed to connect to {', '.join(addresses)}: {failure}")


def pinned_session(addresses: Sequence[str]) -> requests.Session:
    """A session whose connections go to `addresses` whatever the URL's host resolves to
    now; close it after use."""
    pinned = tuple(addresses)

    class PinnedHTTP(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _open(self, pinned)

    class PinnedHTTPS(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _open(self, pinned)

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPS

    class PinnedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: it would resolve the host
    adapter = PinnedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
