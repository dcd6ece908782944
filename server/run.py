"""Running the server: blocking for `homesafe server`, or in a thread for tests and the demo."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Final, cast

import uvicorn

from server import redaction
from server.app import create_app
from server.config import ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from server.notifiers import Notifier

_LOGGER = logging.getLogger(__name__)

DEFAULT_STARTUP_TIMEOUT_S: Final = 10.0
DEFAULT_STOP_TIMEOUT_S: Final = 10.0
GRACEFUL_SHUTDOWN_S: Final = 5
_POLL_S: Final = 0.005


def build_server(settings: ServerSettings, *, notifier: Notifier | None = None) -> uvicorn.Server:
    """A uvicorn server for a fresh app of `settings`; quiet (warnings only, no access log), and phone
    numbers masked in what the Twilio library and tracebacks log (`server.redaction`)."""
    redaction.install()
    config = uvicorn.Config(
        create_app(settings, notifier=notifier),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return uvicorn.Server(config)


def serve(settings: ServerSettings, *, notifier: Notifier | None = None) -> None:
    """Run the server in this thread until SIGINT or SIGTERM."""
    if settings.admin_token is None:
        _LOGGER.warning("HOMESAFE_ADMIN_TOKEN is unset: only tokens in the database open the API; "
                        "make one with `homesafe token create --role admin --name NAME`")
    if settings.ingest_token is None:
        _LOGGER.warning("HOMESAFE_INGEST_TOKEN is unset: anyone who reaches this server can post alerts; "
                        "set it (and the gateway's --ingest-token) unless the network is closed")
    build_server(settings, notifier=notifier).run()


class ServerThread:
    """A server running in a daemon thread, e.g. `with ServerThread(settings) as server: httpx.get(server.url)`.

    Reusable: each `start()` builds a fresh app on the same settings (same port, same database), which
    is how tests restart a server.
    """

    def __init__(
        self,
        settings: ServerSettings,
        *,
        notifier: Notifier | None = None,
        startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.notifier = notifier
        self.startup_timeout_s = startup_timeout_s
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._exit: BaseException | None = None

    @property
    def app(self) -> FastAPI:
        """The app being served."""
        if self.server is None:
            raise RuntimeError("server not started; call start() first")
        return cast("FastAPI", self.server.config.app)

    @property
    def port(self) -> int:
        """The port accepting connections (the one picked by the OS when the settings say 0)."""
        return self._port if self._port is not None else self.settings.port

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:8000`."""
        host = self.settings.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> ServerThread:
        """Start serving; returns once connections are accepted, raises `RuntimeError` if that fails."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("server thread already running; stop() it first")
        settings = self.settings
        if self._port is not None and settings.port == 0:
            settings = replace(settings, port=self._port)  # restart on the port the OS picked first
        server = build_server(settings, notifier=self.notifier)
        thread = threading.Thread(
            target=self._run, args=(server,), name=f"homesafe-server-{settings.port}", daemon=True
        )
        self.server, self._thread, self._exit = server, thread, None
        thread.start()
        deadline = time.monotonic() + self.startup_timeout_s
        while not server.started:
            if not thread.is_alive():
                cause = f" ({self._exit!r})" if self._exit is not None else ""
                raise RuntimeError(
                    f"server on {settings.host}:{settings.port} exited during start-up{cause}; "
                    "is the port in use or the database unreachable? uvicorn logged the cause"
                ) from self._exit
            if time.monotonic() > deadline:
                server.should_exit = True
                thread.join(DEFAULT_STOP_TIMEOUT_S)
                raise RuntimeError(
                    f"server on {settings.host}:{settings.port} did not accept connections within "
                    f"{self.startup_timeout_s:.1f} s; raise startup_timeout_s or check the log"
                )
            time.sleep(_POLL_S)
        self._port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def _run(self, server: uvicorn.Server) -> None:
        # uvicorn calls sys.exit() when it cannot bind; keep that in this thread and report it in start().
        try:
            server.run()
        except (SystemExit, Exception) as exc:
            self._exit = exc

    def stop(self, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        """Shut down gracefully (the lifespan stops the dispatcher) and wait for the thread."""
        server, thread = self.server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout_s)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout_s)
        self._thread = None
        if thread.is_alive():
            raise RuntimeError(f"server thread on port {self.port} did not stop within {2 * timeout_s:.1f} s")

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
