"""The notification dispatcher (server/dispatch.py): retries, failures, restarts and exactly-once sends.

The failing notifiers here stand in for an SMS provider (the third-party boundary); everything else is real.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from sqlalchemy import select

from gateway.protocol import Alert, encode
from server.config import ServerSettings
from server.crud.alerts import ingest_alert
from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import NotificationRow
from server.dispatch import Dispatcher
from server.notifiers import ConsoleOutbox, NotifierError
from server.run import ServerThread
from tests.server.conftest import ADMIN_HEADERS


class ScriptedProvider:
    """A provider that raises the given errors on the first sends, then accepts every message."""

    name = "scripted"

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent: list[str] = []
        self.calls = 0

    def send(self, *, to: str, channel: str, body: str, notification_id: int | None = None) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(body)
        return f"SM{self.calls:032d}"


class GatedProvider:
    """A provider whose first send blocks until the test opens the gate (a slow provider call)."""

    name = "gated"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.sent: list[str] = []

    def send(self, *, to: str, channel: str, body: str, notification_id: int | None = None) -> str:
        if not self.sent:
            self.entered.set()
            self.gate.wait(5.0)
        self.sent.append(body)
        return f"gated-{len(self.sent)}"


def _notifications(server: ServerThread) -> list[dict[str, Any]]:
    return httpx.get(f"{server.url}/api/notifications", headers=ADMIN_HEADERS, timeout=5.0).json()


def _settled(server: ServerThread) -> list[dict[str, Any]]:
    rows = _notifications(server)
    return rows if rows and all(row["status"] != "pending" for row in rows) else []


def _post(server: ServerThread, alerts: list[Alert]) -> None:
    httpx.post(f"{server.url}/api/ingest/alerts", content=encode(alerts), timeout=5.0).raise_for_status()


def test_retryable_provider_error_is_retried_until_sent(
    start_server: Callable[..., ServerThread], new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards against a rate limit or a provider 5xx losing an SOS message."""
    provider = ScriptedProvider(NotifierError("429 Too Many Requests", retryable=True))
    server = start_server(notifier=provider)

    _post(server, [new_alert()])

    [notification] = wait_until(lambda: _settled(server), timeout_s=2.0, message="not settled")
    assert notification["status"] == "sent"
    assert notification["attempts"] == 2
    assert notification["error"] is None
    assert notification["provider_id"] == f"SM{2:032d}"
    assert provider.calls == 2


def test_non_retryable_provider_error_fails_the_notification(
    start_server: Callable[..., ServerThread], new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards against retrying forever what the provider will never take (an invalid number)."""
    provider = ScriptedProvider(NotifierError("21211 invalid 'To' number", retryable=False))
    server = start_server(notifier=provider)
    alert = new_alert()

    _post(server, [alert])

    rows = wait_until(lambda: len(_settled(server)) == 2 and _settled(server), message="not settled")
    [notification] = [row for row in rows if row["status"] == "failed"]
    assert (notification["status"], notification["attempts"]) == ("failed", 1)
    assert notification["error"] == "21211 invalid 'To' number"
    assert notification["sent_at"] is None
    # Not retried: instead the ladder climbed at once (here to its end notice, which went out).
    assert provider.calls == 2


def test_notifier_bug_is_retried_like_a_transient_error(
    start_server: Callable[..., ServerThread], new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards against an untranslated exception in a notifier dropping the message or killing the thread."""
    provider = ScriptedProvider(KeyError("sid"))
    server = start_server(notifier=provider)

    _post(server, [new_alert()])

    [notification] = wait_until(lambda: _settled(server), timeout_s=2.0, message="not settled")
    assert (notification["status"], notification["attempts"]) == ("sent", 2)


def test_notification_pending_at_a_crash_is_sent_once_after_restart(
    db_url: str,
    start_server: Callable[..., ServerThread],
    new_alert: Callable[..., Alert],
    outbox_stream: io.StringIO,
    wait_until: Callable[..., Any],
) -> None:
    """Guards "no alert lost on server restart": a committed alert whose SMS never left is sent on start.

    The alert is committed through the same crud the route uses, with no server running: the state a
    server killed right after the ingest commit leaves behind.
    """
    engine = make_engine(db_url)
    create_schema(engine)
    with make_sessionmaker(engine)() as session:
        assert ingest_alert(session=session, alert=new_alert(), operator_phone="+8610000000000") is not None
    engine.dispose()

    server = start_server()

    [notification] = wait_until(lambda: _settled(server), message="pending notification not sent after start")
    assert (notification["status"], notification["attempts"]) == ("sent", 1)
    assert outbox_stream.getvalue().count(" to +8610000000000: ") == 1


def test_server_restarted_on_the_same_port_sends_what_the_last_one_could_not(
    settings: ServerSettings,
    new_alert: Callable[..., Alert],
    outbox_stream: io.StringIO,
    wait_until: Callable[..., Any],
) -> None:
    """Guards restarts during a provider outage: the new process sends the backlog, each message once."""
    down = ScriptedProvider(*[NotifierError("503 Service Unavailable", retryable=True) for _ in range(1000)])
    first = ServerThread(settings, notifier=down)
    first.start()
    try:
        _post(first, [new_alert(home="h0001"), new_alert(home="h0002")])  # one home would merge them
        wait_until(lambda: down.calls >= 2, message="provider never tried")
    finally:
        first.stop()
    # The same port as before (the gateway's URL must keep working) and the same database.
    second = ServerThread(replace(settings, port=first.port), notifier=ConsoleOutbox(outbox_stream))
    with second:
        assert second.port == first.port
        rows = wait_until(lambda: len(_settled(second)) == 2 and _settled(second), timeout_s=3.0, message="backlog")

    assert [row["status"] for row in rows] == ["sent", "sent"]
    assert outbox_stream.getvalue().count("\n") == 2


def test_two_servers_on_one_database_send_each_notification_once(
    start_server: Callable[..., ServerThread],
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the claim: sweeps and wakes of two dispatchers racing over one outbox never double-send."""
    streams = [io.StringIO(), io.StringIO()]
    servers = [start_server(notifier=ConsoleOutbox(stream)) for stream in streams]
    alerts = [new_alert(home=f"h{i:04d}") for i in range(40)]

    for i, alert in enumerate(alerts):
        _post(servers[i % 2], [alert])

    wait_until(lambda: len(_settled(servers[0])) == len(alerts), timeout_s=5.0, message="not all sent")
    homes = re.findall(r"at home (h\d{4})", streams[0].getvalue() + streams[1].getvalue())
    assert sorted(homes) == sorted(alert.home for alert in alerts)
    assert all(stream.getvalue() for stream in streams)  # both dispatchers took part


def test_stopping_dispatcher_hands_back_claims_it_did_not_try(
    db_url: str, new_alert: Callable[..., Alert], wait_until: Callable[..., Any]
) -> None:
    """Guards a graceful restart mid-batch: untried claims are due at once, not after the lease."""
    engine = make_engine(db_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        for home in ("h0001", "h0002", "h0003"):  # one home each: alerts of one home are merged
            ingest_alert(session=session, alert=new_alert(home=home), operator_phone="+8610000000000")
    provider = GatedProvider()
    dispatcher = Dispatcher(sessions=sessions, notifier=provider, interval_s=60.0)
    dispatcher.start()
    assert provider.entered.wait(2.0)

    stopper = threading.Thread(target=dispatcher.stop)
    stopper.start()
    wait_until(lambda: dispatcher.stopping, message="stop not requested")
    provider.gate.set()
    stopper.join(5.0)

    with sessions() as session:
        rows = session.scalars(select(NotificationRow).order_by(NotificationRow.id)).all()
    assert [(row.status, row.attempts, row.not_before) for row in rows] == [
        ("sent", 1, None),
        ("pending", 0, None),
        ("pending", 0, None),
    ]
    assert Dispatcher(sessions=sessions, notifier=provider).run_once() == 2
    assert len(provider.sent) == 3
    engine.dispose()


def test_a_receipt_that_beats_mark_sent_is_not_overwritten(tmp_path) -> None:
    """Guards against a fast 'delivered' callback being overwritten by the dispatcher's later 'sent'."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from server.crud.notifications import Claim, mark_sent
    from server.db.session import create_schema, make_engine, make_sessionmaker
    from server.db.tables import AlertRow, NotificationRow

    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    with sessions() as session:
        session.add(AlertRow(id="a1", home="h1", type="SOS", severity="critical", status="open", ref="ABC123",
                             opened_at=now, raised_at=now, received_at=now, evidence={}))
        session.add(NotificationRow(alert_id="a1", to="+8613800000001", channel="sms", body="b", status="delivered",
                                    attempts=1, created_at=now))
        session.commit()
        row_id = session.scalars(select(NotificationRow.id)).one()
    with sessions() as session:
        mark_sent(session=session, claim=Claim(id=row_id, alert_id="a1", to="+8613800000001", channel="sms",
                                               body="b", attempts=1), provider_id="SM1", now=now)
    with sessions() as session:
        row = session.get(NotificationRow, row_id)
        assert (row.status, row.provider_id) == ("delivered", "SM1")
