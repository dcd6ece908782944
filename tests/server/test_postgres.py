"""The server on PostgreSQL, end to end: a real `ServerThread` and a real `homesafe server` process.

Skipped when no PostgreSQL answers at HOMESAFE_TEST_POSTGRES_URL; a failure when HOMESAFE_REQUIRE_POSTGRES=1 (CI).
The modules listed in conftest's `BOTH_DATABASES` run on PostgreSQL too; these tests cover what they do not:
the command line, restarts on one PostgreSQL database, and time zones of the database session.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from gateway.protocol import Alert, encode
from server.config import ServerSettings
from server.crud.alerts import ingest_alert
from server.db import migrate
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import AlertRow, NotificationRow
from server.notifiers import ConsoleOutbox
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS, ADMIN_TOKEN, FAST_SWEEP_S
from tests.server.postgres import fresh_database, skip_marks

pytestmark = [pytest.mark.postgres, *skip_marks()]

REPO = Path(__file__).resolve().parents[2]
RESPONDER = "+8613800000001"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database."""
    with fresh_database() as url:
        yield url


def _register(http: httpx.Client) -> None:
    http.post("/api/homes", json={"id": "h0003", "community": "east"}).raise_for_status()
    body = {"name": "Wang", "phone": RESPONDER, "community": "east", "on_duty": True}
    http.post("/api/responders", json=body).raise_for_status()


def _sent(http: httpx.Client) -> list[dict[str, Any]]:
    return [row for row in http.get("/api/notifications").json() if row["status"] == "sent"]


@pytest.fixture
def pg_server(pg_url: str, outbox_stream: io.StringIO) -> Iterator[ServerThread]:
    """A test server on `pg_url` (not through `start_server`, whose `db_url` would make a SQLite twin)."""
    settings = ServerSettings(
        database_url=pg_url, port=0, dispatch_interval_s=FAST_SWEEP_S, admin_token=ADMIN_TOKEN
    )
    server = ServerThread(settings, notifier=ConsoleOutbox(outbox_stream))
    yield server.start()
    server.stop()


def test_sos_on_postgresql_is_notified_acknowledged_and_survives_a_restart(
    pg_server: ServerThread,
    outbox_stream: io.StringIO,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the main path on PostgreSQL: press → SMS and call → ack stops the ladder → a restart resends nothing."""
    server = pg_server
    alert = new_alert()
    with httpx.Client(base_url=server.url, headers=ADMIN_HEADERS, timeout=5.0) as http:
        _register(http)
        assert http.post("/api/ingest/alerts", content=encode([alert])).json() == {"accepted": 1, "duplicates": 0}
        sent = wait_until(lambda: len(_sent(http)) == 2 and _sent(http), timeout_s=3.0, message="SOS not sent")
        assert {(row["to"], row["channel"]) for row in sent} == {(RESPONDER, "sms"), (RESPONDER, "voice")}
        assert f"[outbox] SMS to {RESPONDER}: HomeSafe SOS at home h0003" in outbox_stream.getvalue()

        acked = http.post(f"/api/alerts/{alert.id}/ack")
        assert acked.status_code == 200, acked.text
        assert acked.json()["status"] == "acknowledged"
    server.stop()

    server.start()
    with httpx.Client(base_url=server.url, headers=ADMIN_HEADERS, timeout=5.0) as http:
        detail = http.get(f"/api/alerts/{alert.id}").json()
        assert detail["status"] == "acknowledged"
        kinds = [entry.get("kind") for entry in detail["timeline"]]
        assert "acknowledged" in kinds
        assert len(_sent(http)) == 2  # nothing sent twice after the restart
    assert migrate.current(server.app.state.engine) == migrate.head()


def test_timestamps_come_back_aware_utc_whatever_the_session_time_zone(
    pg_url: str, new_alert: Callable[..., Alert]
) -> None:
    """Guards against PostgreSQL handing back times in the connection's zone, or storing local times as UTC."""
    shanghai = make_url(pg_url).update_query_dict({"options": "-c timezone=Asia/Shanghai"})
    engine = make_engine(shanghai.render_as_string(hide_password=False))
    try:
        create_schema(engine)
        sessions = make_sessionmaker(engine)
        beijing = datetime(2026, 11, 24, 11, 0, 12, tzinfo=timezone(timedelta(hours=8)))
        with sessions() as session:
            ingest_alert(session=session, alert=new_alert(id="a1"), operator_phone="op", now=beijing)
        with sessions() as session:
            received_at = session.scalars(select(AlertRow.received_at)).one()
            created_at = session.scalars(select(NotificationRow.created_at)).one()
            evidence = session.scalars(select(AlertRow.ladder)).one()
    finally:
        engine.dispose()
    assert received_at == created_at == datetime(2026, 11, 24, 3, 0, 12, tzinfo=UTC)
    assert received_at.tzinfo is UTC
    assert isinstance(evidence, dict)  # JSON comes back as data, not text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_homesafe_server_command_runs_on_postgresql(
    pg_url: str, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards `homesafe server --database-url postgresql+psycopg://...`: it migrates, serves and notifies."""
    port = _free_port()
    env = {**os.environ, "HOMESAFE_ADMIN_TOKEN": ADMIN_TOKEN, "HOMESAFE_LINK_SECRET": "x" * 32}
    env.pop("HOMESAFE_DATABASE_URL", None)
    command = [sys.executable, "-m", "homesafe.cli", "server", "--port", str(port), "--database-url", pg_url]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=ADMIN_HEADERS, timeout=5.0) as http:

            def up() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"homesafe server exited {process.returncode}: {process.communicate()[1][-2000:]}")
                try:
                    return http.get("/api/health").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(up, timeout_s=30.0, message="homesafe server not up")
            _register(http)
            alert = new_alert()
            assert http.post("/api/ingest/alerts", content=encode([alert])).status_code == 200
            wait_until(lambda: len(_sent(http)) == 2, timeout_s=5.0, message="SOS not sent")
            assert http.get(f"/api/alerts/{alert.id}").json()["status"] == "notified"
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    # uvicorn stops gracefully on SIGTERM, then re-raises it so that a supervisor sees why the process ended.
    assert process.returncode in (0, -signal.SIGTERM), err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    engine = make_engine(pg_url)
    try:
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()
