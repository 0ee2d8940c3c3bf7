"""Restarting a server: a port left with connections in TIME_WAIT is free to serve on."""

from __future__ import annotations

import socket

import pytest

from fieldapi.cli import CommandError, check_port_free


def port_in_time_wait() -> int:
    """A port whose server (listening with SO_REUSEADDR, as gunicorn does) closed its side
    of a connection first, as a stopping server does: the kernel keeps that connection in
    TIME_WAIT for a minute."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port: int = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server's side closes first: TIME_WAIT is on its port
    client.recv(1)
    client.close()
    listener.close()
    return port


def test_a_port_with_only_time_wait_connections_is_free() -> None:
    port = port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # what the check used to do: refused
    check_port_free("127.0.0.1", port)


def test_a_port_a_server_listens_on_is_refused() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(CommandError, match="already in use"):
            check_port_free("127.0.0.1", busy.getsockname()[1])
