"""Running the server in a thread (server/run.py): start, stop, restart on the same port, clear failures."""

from __future__ import annotations

import socket
from dataclasses import replace

import httpx
import pytest

from server.config import ServerSettings
from server.run import ServerThread


def test_server_restarts_on_the_same_port_after_serving_connections(settings: ServerSettings) -> None:
    """Guards restarts in tests and the demo: the port must be free again although connections were open.

    Keep-alive connections are closed by the server at shutdown, which leaves them in TIME_WAIT on the
    server's port; binding again then needs SO_REUSEADDR.
    """
    server = ServerThread(settings)
    with server, httpx.Client(base_url=server.url) as client:
        assert client.get("/api/health").status_code == 200
        port = server.port
    assert port != 0

    for _ in range(2):
        with ServerThread(replace(settings, port=port)) as again, httpx.Client(base_url=again.url) as client:
            assert again.port == port
            assert client.get("/api/health").json() == {"status": "ok"}


def test_start_on_a_taken_port_raises_a_clear_error(settings: ServerSettings) -> None:
    """Guards against start() hanging until its timeout when uvicorn cannot bind."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ServerThread(replace(settings, port=taken.getsockname()[1]), startup_timeout_s=5.0)

        with pytest.raises(RuntimeError, match="exited during start-up"):
            server.start()


def test_stopped_server_no_longer_answers(settings: ServerSettings) -> None:
    """Guards stop(): the thread ends and the port stops accepting connections."""
    server = ServerThread(settings).start()
    url = server.url

    server.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/health", timeout=1.0)
    server.stop()  # stopping twice is harmless
