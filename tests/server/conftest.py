"""Fixtures for the server tests: a real SQLite file, real servers on free ports, real HTTP."""

from __future__ import annotations

import io
import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.protocol import Alert, AlertType, Severity
from server.config import ServerSettings
from server.notifiers import ConsoleOutbox, Notifier
from server.run import ServerThread

FAST_SWEEP_S = 0.05  # the tests wait for sweeps; production sweeps every second
ADMIN_TOKEN = "test-admin-token-0123456789"  # HOMESAFE_ADMIN_TOKEN of the test servers
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


# Modules whose tests run on PostgreSQL as well as SQLite (elsewhere: tests marked `@pytest.mark.postgres`);
# the rest of the suite runs on SQLite only, so the suite does not take twice as long
# (HOMESAFE_TEST_POSTGRES_ALL=1 twins every test that takes `db_url`, to check a change against PostgreSQL).
BOTH_DATABASES = frozenset(
    {"test_lifecycle", "test_escalation_ladder", "test_ingest_route", "test_registry_routes", "test_crud_alerts",
     "test_dispatcher"}
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give the tests of `BOTH_DATABASES`, and those marked `postgres`, a `[postgresql]` twin."""
    module = metafunc.module.__name__.rpartition(".")[2]
    if "db_url" in metafunc.fixturenames and (
        module in BOTH_DATABASES
        or metafunc.definition.get_closest_marker("postgres")
        or os.environ.get("HOMESAFE_TEST_POSTGRES_ALL") == "1"
    ):
        from tests.server.postgres import skip_marks

        backends = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, *skip_marks()])]
        metafunc.parametrize("db_url", backends, indirect=True)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a new PostgreSQL database (tests/server/postgres.py) in a twin."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'homesafe.db'}"
        return
    from tests.server.postgres import fresh_database

    with fresh_database() as url:
        yield url


@pytest.fixture
def outbox_stream() -> io.StringIO:
    """Where the console outbox of the test servers writes its lines."""
    return io.StringIO()


@pytest.fixture
def outbox(outbox_stream: io.StringIO) -> ConsoleOutbox:
    """The real console notifier, writing to `outbox_stream`."""
    return ConsoleOutbox(outbox_stream)


@pytest.fixture
def settings(db_url: str) -> ServerSettings:
    """Settings of a test server: the test database, a port picked by the OS, fast sweeps."""
    return ServerSettings(database_url=db_url, port=0, dispatch_interval_s=FAST_SWEEP_S, admin_token=ADMIN_TOKEN)


@pytest.fixture
def start_server(settings: ServerSettings, outbox: ConsoleOutbox) -> Iterator[Callable[..., ServerThread]]:
    """Start a `ServerThread` (default: test settings and console outbox); all are stopped after the test."""
    started: list[ServerThread] = []

    def start(server_settings: ServerSettings | None = None, *, notifier: Notifier | None = None) -> ServerThread:
        thread = ServerThread(server_settings or settings, notifier=notifier or outbox)
        started.append(thread)
        return thread.start()

    yield start
    for thread in started:
        thread.stop()


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    """One running test server."""
    return start_server()


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    """An HTTP client for `server`, as the admin."""
    with httpx.Client(base_url=server.url, timeout=5.0, headers=ADMIN_HEADERS) as http:
        yield http


_alert_numbers = itertools.count(1)


@pytest.fixture
def new_alert() -> Callable[..., Alert]:
    """Build a protocol SOS alert with a unique id; keyword arguments override fields."""

    def build(**fields: Any) -> Alert:
        number = next(_alert_numbers)
        now = time.time()
        values: dict[str, Any] = {
            "id": f"alert-{number:06d}",
            "home": "h0003",
            "type": AlertType.SOS,
            "severity": Severity.CRITICAL,
            "ts": now,
            "raised_at": now,
            "device": "sos_button",
            "event_id": f"event-{number:06d}",
        }
        values.update(fields)
        return Alert(**values)

    return build


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """Poll `probe` until it returns something truthy; fail with `message` after `timeout_s`."""

    def wait(probe: Callable[[], Any], *, timeout_s: float = 1.0, message: str = "condition not met") -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"{message} within {timeout_s} s; last probe gave {result!r}")
            time.sleep(0.01)

    return wait


@pytest.fixture
def make_token(db_url: str) -> Callable[..., str]:
    """Issue an API token straight into the test database: `make_token("responder", responder_id=3)`."""
    from datetime import UTC, datetime

    from server.auth import Role, issue_token
    from server.db.session import create_schema, make_engine, make_sessionmaker

    def issue(role: str, *, responder_id: int | None = None, communities: tuple[str, ...] = (), name: str = "t") -> str:
        engine = make_engine(db_url)
        try:
            create_schema(engine)
            with make_sessionmaker(engine)() as session:
                _row, token = issue_token(
                    session=session,
                    name=name,
                    role=Role(role),
                    created_by="test",
                    now=datetime.now(UTC),
                    responder_id=responder_id,
                    communities=communities,
                )
                session.commit()
        finally:
            engine.dispose()
        return token

    return issue
