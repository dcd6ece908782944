"""The alert lifecycle through real HTTP (server/api/routes/alerts.py, server/crud/lifecycle.py): a real
server, a real SQLite file, a real broker; the notifier records what a provider would have been given."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from sqlalchemy import select

from gateway.protocol import Alert, AlertType, BrokerSettings, Severity, downlink_topic, encode, paho_client
from server.config import ServerSettings
from server.crud.lifecycle import notification_failed
from server.db.tables import AlertRow, ContactRow, EscalationStepRow
from server.notifiers import NotifierError
from server.run import ServerThread
from simulators.mosquitto import MosquittoProcess, free_port
from tests.server.conftest import ADMIN_HEADERS

RESPONDERS = ("+8613800000001", "+8613800000002")
CONTACTS = ("+8613900000001", "+8613900000002")
OPERATOR = "+8610000000000"
FAST = 0.01  # a minute of policy wait lasts 0.6 s


@dataclass(frozen=True)
class Sent:
    """One message a provider was handed."""

    to: str
    channel: str
    body: str
    notification_id: int | None


class RecordingProvider:
    """Stands in for the SMS/voice provider (the third-party boundary): records, or refuses some numbers."""

    name = "recording"

    def __init__(self, refuse: set[tuple[str, str]] | None = None) -> None:
        self.refuse = refuse or set()
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def send(self, *, to: str, channel: str, body: str, notification_id: int | None = None) -> str:
        if (to, channel) in self.refuse:
            raise NotifierError("21217 phone number not reachable", retryable=False)
        with self._lock:
            self.sent.append(Sent(to, channel, body, notification_id))
            return f"rec-{len(self.sent)}"


@pytest.fixture
def fast_settings(settings: ServerSettings) -> ServerSettings:
    return replace(settings, time_scale=FAST, operator_phone=OPERATOR)


def _register(server: ServerThread, home: str = "h0003") -> None:
    with httpx.Client(base_url=server.url, timeout=5.0, headers=ADMIN_HEADERS) as client:
        client.post("/api/homes", json={"id": home, "community": "east"}).raise_for_status()
        for index, phone in enumerate(RESPONDERS):
            body = {"name": f"responder {index}", "phone": phone, "community": "east"}
            client.post("/api/responders", json=body).raise_for_status()
    # Contacts have no API yet (the registry work adds it): straight into the table.
    with server.app.state.sessions() as session:
        for order, phone in enumerate(CONTACTS):
            session.add(ContactRow(home=home, name=f"family {order}", phone=phone, relation="child", order=order))
        session.commit()


def _ingest(server: ServerThread, *alerts: Alert) -> dict[str, int]:
    response = httpx.post(f"{server.url}/api/ingest/alerts", content=encode(list(alerts)), timeout=5.0)
    response.raise_for_status()
    return response.json()


def _detail(server: ServerThread, alert_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/alerts/{alert_id}", headers=ADMIN_HEADERS, timeout=5.0)
    response.raise_for_status()
    return response.json()


def _notes(server: ServerThread, alert_id: str) -> list[dict[str, Any]]:
    return [e for e in _detail(server, alert_id)["timeline"] if e["entry"] == "notification"]


def _steps(server: ServerThread, alert_id: str) -> list[int]:
    return [e["step"] for e in _notes(server, alert_id)]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sos_climbs_on_time_stops_at_ack_and_resolves_with_a_full_timeline(
    start_server: Callable[..., ServerThread],
    fast_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
    make_token: Callable[..., str],
) -> None:
    """Guards the whole lifecycle: SMS and call at once, the next person when nobody answers, silence
    after an acknowledgement, a resolution with its outcome, and all of it in the timeline in order."""
    provider = RecordingProvider()
    server = start_server(fast_settings, notifier=provider)
    _register(server)
    alert = new_alert()

    started = time.monotonic()
    assert _ingest(server, alert) == {"accepted": 1, "duplicates": 0}
    def first_step() -> list[Sent]:
        sent = [s for s in provider.sent if s.to == RESPONDERS[0]]
        return sent if len(sent) == 2 else []

    assert {s.channel for s in wait_until(first_step, message="first step not sent")} == {"sms", "voice"}
    assert time.monotonic() - started < 0.5
    wait_until(lambda: _steps(server, alert.id) == [0, 0, 1, 1], timeout_s=2.0, message="no second step")
    climbed = time.monotonic() - started
    assert 0.5 <= climbed < 1.5  # 60 s of policy wait, scaled by 0.01

    second_responder = _bearer(make_token("responder", responder_id=2))
    ack = httpx.post(f"{server.url}/api/alerts/{alert.id}/ack", headers=second_responder, timeout=5.0)

    assert ack.status_code == 200, ack.text
    assert (ack.json()["status"], ack.json()["acknowledged_by"]) == ("acknowledged", "responder:2")
    time.sleep(2.0)  # well past steps 2 and 3 (0.9 s each)
    assert _steps(server, alert.id) == [0, 0, 1, 1]
    assert not {s.to for s in provider.sent} & set(CONTACTS)

    resolved = httpx.post(
        f"{server.url}/api/alerts/{alert.id}/resolve",
        json={"outcome": "resident_fine", "note": "pressed by mistake while cleaning"},
        headers={**_bearer(make_token("operator", name="desk")), "X-HomeSafe-Actor": "user:forged"},
        timeout=5.0,
    )

    assert resolved.status_code == 200, resolved.text
    detail = _detail(server, alert.id)
    assert (detail["status"], detail["outcome"]) == ("resolved", "resident_fine")
    tokens = httpx.get(f"{server.url}/api/tokens", headers=ADMIN_HEADERS, timeout=5.0).json()
    desk = next(token["id"] for token in tokens if token["name"] == "desk")
    assert detail["resolved_by"] == f"token:{desk}"  # the caller's token, whatever a header claims
    assert detail["note"] == "pressed by mistake while cleaning"
    timeline = detail["timeline"]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    kinds = [e["kind"] for e in timeline]
    assert kinds[:4] == ["opened", "step_sent", "notification", "notification"]
    assert kinds.index("notified") < kinds.index("acknowledged") < kinds.index("resolved") == len(kinds) - 1
    assert kinds.count("step_sent") == 2 and "step_skipped" not in kinds
    ack_entry = next(e for e in timeline if e["kind"] == "acknowledged")
    assert (ack_entry["actor"], ack_entry["channel"], ack_entry["from_status"]) == ("responder:2", "api", "notified")
    notes = [e for e in timeline if e["entry"] == "notification"]
    assert [(e["step"], e["recipient"], e["channel"], e["status"]) for e in notes] == [
        (0, "responder:1", "sms", "sent"),
        (0, "responder:1", "voice", "sent"),
        (1, "responder:2", "sms", "sent"),
        (1, "responder:2", "voice", "sent"),
    ]
    with server.app.state.sessions() as session:
        states = session.scalars(select(EscalationStepRow.state).where(EscalationStepRow.alert_id == alert.id)).all()
    assert sorted(states) == ["cancelled", "sent", "sent"]


def test_restart_mid_ladder_resumes_at_the_right_step_and_sends_nothing_twice(
    fast_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards "no alert lost on server restart with escalations pending": the ladder is rows, so a new
    process picks up the pending step when it falls due, and repeats none that were already sent."""
    first_provider, second_provider = RecordingProvider(), RecordingProvider()
    first = ServerThread(fast_settings, notifier=first_provider).start()
    try:
        _register(first)
        alert = new_alert()
        _ingest(first, alert)
        wait_until(lambda: 1 in _steps(first, alert.id), timeout_s=2.0, message="step 1 not reached")
    finally:
        first.stop()
    with first.app.state.sessions() as session:
        pending = session.scalars(
            select(EscalationStepRow).where(
                EscalationStepRow.alert_id == alert.id, EscalationStepRow.state == "pending"
            )
        ).one()
    time.sleep(max(0.0, (pending.due_at.timestamp() - time.time())) + 0.3)  # it falls due while we are down

    second = ServerThread(replace(fast_settings, port=first.port), notifier=second_provider).start()
    restarted = time.time()
    try:
        wait_until(lambda: 5 in _steps(second, alert.id), timeout_s=6.0, message="ladder did not finish")
        notes = _notes(second, alert.id)
    finally:
        second.stop()

    per_step = Counter((n["step"], n["recipient"], n["channel"]) for n in notes)
    assert set(per_step.values()) == {1}
    assert sorted({step for step, _, _ in per_step}) == [0, 1, 2, 3, 4, 5]
    resumed = [n for n in notes if n["step"] == pending.step_index]
    assert resumed
    assert min(_epoch(n["at"]) for n in resumed) >= restarted - 0.5  # fired by the new process
    assert max(_epoch(n["at"]) for n in notes if n["step"] < pending.step_index) < restarted
    delivered = [s.notification_id for s in first_provider.sent + second_provider.sent]
    assert len(delivered) == len(set(delivered)) == len(notes)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def test_refused_notification_escalates_at_once_not_after_the_wait(
    start_server: Callable[..., ServerThread],
    settings: ServerSettings,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards against an unreachable number costing the resident the step's whole minute."""
    provider = RecordingProvider(refuse={(RESPONDERS[0], "voice")})
    server = start_server(replace(settings, operator_phone=OPERATOR), notifier=provider)  # real time
    _register(server)
    alert = new_alert()

    started = time.monotonic()
    _ingest(server, alert)
    wait_until(lambda: [s for s in provider.sent if s.to == RESPONDERS[1]], timeout_s=3.0, message="no escalation")

    assert time.monotonic() - started < 3.0  # the policy's wait is 60 s
    failed = [e for e in _detail(server, alert.id)["timeline"] if e["kind"] == "notification_failed"]
    assert [(e["step"], e["channel"]) for e in failed] == [(0, "voice")]
    assert "next step now" in failed[0]["detail"]


def test_provider_failure_report_escalates_once_however_often_it_comes(
    start_server: Callable[..., ServerThread],
    settings: ServerSettings,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the receipt path (`notification_failed`): the next step at once, and a repeated receipt
    does not skip a rung."""
    provider = RecordingProvider()
    server = start_server(replace(settings, operator_phone=OPERATOR), notifier=provider)
    _register(server)
    alert = new_alert()
    _ingest(server, alert)
    [sms, _voice] = wait_until(lambda: len(_notes(server, alert.id)) == 2 and _notes(server, alert.id), message="x")

    for _ in range(3):
        with server.app.state.sessions() as session:
            notification_failed(session=session, notification_id=sms["notification_id"], error="30003 unreachable")

    wait_until(lambda: 1 in _steps(server, alert.id), timeout_s=2.0, message="no escalation after the receipt")
    time.sleep(0.3)
    assert _steps(server, alert.id) == [0, 0, 1, 1]  # step 2 still waits its minute
    statuses = {n["notification_id"]: n["status"] for n in _notes(server, alert.id)}
    assert statuses[sms["notification_id"]] == "failed"


def test_second_sos_while_open_updates_the_alert_instead_of_a_second_ladder(
    start_server: Callable[..., ServerThread],
    fast_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards a resident pressing the button again: one alert counting the presses, one set of messages."""
    provider = RecordingProvider()
    server = start_server(replace(fast_settings, time_scale=1.0), notifier=provider)
    _register(server)
    first, again = new_alert(), new_alert(evidence={"press": "double"})

    assert _ingest(server, first) == {"accepted": 1, "duplicates": 0}
    assert _ingest(server, again) == {"accepted": 1, "duplicates": 0}
    assert _ingest(server, again) == {"accepted": 0, "duplicates": 1}  # a replay of the merged one

    [alert] = httpx.get(f"{server.url}/api/alerts", headers=ADMIN_HEADERS, timeout=5.0).json()
    assert (alert["id"], alert["count"], alert["status"] in ("open", "notified")) == (first.id, 2, True)
    assert alert["evidence"]["_merged"][0]["id"] == again.id
    assert alert["last_event_at"] is not None
    assert _steps(server, first.id) == [0, 0]
    kinds = [e["kind"] for e in _detail(server, first.id)["timeline"]]
    assert kinds.count("opened") == 1 and kinds.count("merged") == 1
    missing = httpx.get(f"{server.url}/api/alerts/{again.id}", headers=ADMIN_HEADERS, timeout=5.0)
    assert missing.status_code == 404


def test_api_refuses_what_the_lifecycle_does_not_allow(
    start_server: Callable[..., ServerThread],
    fast_settings: ServerSettings,
    new_alert: Callable[..., Alert],
) -> None:
    """Guards the acceptance interface: 404 unknown, 409 resolving twice or acking a resolved alert, 422 a
    bad outcome naming the field, and a repeated ack by the same person changing nothing."""
    server = start_server(replace(fast_settings, time_scale=1.0), notifier=RecordingProvider())
    alert = new_alert(type=AlertType.WATER, severity=Severity.HIGH)
    _ingest(server, alert)
    base = f"{server.url}/api/alerts"

    with httpx.Client(timeout=5.0, headers=ADMIN_HEADERS) as client:
        assert client.get(f"{base}/nope").status_code == 404
        assert client.post(f"{base}/nope/ack").status_code == 404
        assert client.post(f"{base}/nope/resolve", json={"outcome": "other"}).status_code == 404
        bad = client.post(f"{base}/{alert.id}/resolve", json={"outcome": "aliens", "note": "?"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "outcome"]
        assert client.post(f"{base}/{alert.id}/ack").json()["acknowledged_by"] == "admin"
        assert client.post(f"{base}/{alert.id}/ack").status_code == 200
        done = client.post(f"{base}/{alert.id}/resolve", json={"outcome": "false_alarm", "note": None})
        assert (done.status_code, done.json()["outcome"]) == (200, "false_alarm")
        again = client.post(f"{base}/{alert.id}/resolve", json={"outcome": "other"})
        assert (again.status_code, "already resolved" in again.json()["detail"]) == (409, True)
        assert client.post(f"{base}/{alert.id}/ack").status_code == 409

    kinds = [e["kind"] for e in _detail(server, alert.id)["timeline"] if e["entry"] == "transition"]
    assert kinds.count("acknowledged") == 1 and "ack_again" not in kinds


def _subscriber(broker: BrokerSettings, topic: str) -> tuple[paho.Client, list[bytes]]:
    received: list[bytes] = []
    subscribed = threading.Event()
    client = paho_client(broker, f"test-cmd-{time.monotonic_ns()}")
    client.on_message = lambda _c, _u, message: received.append(message.payload)
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_connect = lambda c, *_args: c.subscribe(topic, qos=1)
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert subscribed.wait(5.0), "subscription not confirmed"
    return client, received


@pytest.fixture
def cmd_listener(broker: BrokerSettings, home_id: str) -> Iterator[list[bytes]]:
    client, received = _subscriber(broker, downlink_topic(home_id))
    yield received
    client.disconnect()
    client.loop_stop()


def test_acknowledgement_is_published_down_the_homes_cmd_topic(
    start_server: Callable[..., ServerThread],
    fast_settings: ServerSettings,
    broker: BrokerSettings,
    home_id: str,
    cmd_listener: list[bytes],
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
    make_token: Callable[..., str],
) -> None:
    """Guards "the elder hears back": the hub gets an ack naming the alert, its ref and a role, no name."""
    server = start_server(replace(fast_settings, mqtt_url=broker.url), notifier=RecordingProvider())
    _register(server, home_id)
    alert = new_alert(home=home_id)
    _ingest(server, alert)

    first_responder = _bearer(make_token("responder", responder_id=1))
    httpx.post(f"{server.url}/api/alerts/{alert.id}/ack", headers=first_responder, timeout=5.0).raise_for_status()

    [payload] = wait_until(lambda: cmd_listener, timeout_s=3.0, message="no ack on the cmd topic")
    ref = _detail(server, alert.id)["ref"]
    assert json.loads(payload) == {"type": "ack", "alert_id": alert.id, "ref": ref, "by": "responder"}
    with server.app.state.sessions() as session:
        stamped = wait_until(lambda: session.get(AlertRow, alert.id, populate_existing=True).ack_published_at,
                             message="publish not stamped")
    assert stamped is not None


def test_broker_outage_never_blocks_the_acknowledgement_and_the_ack_follows_later(
    start_server: Callable[..., ServerThread],
    fast_settings: ServerSettings,
    new_alert: Callable[..., Alert],
    wait_until: Callable[..., Any],
) -> None:
    """Guards the acknowledgement against the broker: it is answered at once while the broker is down,
    and the ack goes out (and is stamped) once the broker is back."""
    mosquitto = MosquittoProcess(port=free_port())
    server = start_server(replace(fast_settings, mqtt_url=mosquitto.url, time_scale=1.0), notifier=RecordingProvider())
    alert = new_alert()
    _ingest(server, alert)

    started = time.monotonic()
    response = httpx.post(f"{server.url}/api/alerts/{alert.id}/ack", headers=ADMIN_HEADERS, timeout=5.0)

    assert response.status_code == 200 and time.monotonic() - started < 0.5
    time.sleep(0.3)

    def stamped() -> Any:
        with server.app.state.sessions() as session:
            return session.get(AlertRow, alert.id).ack_published_at

    assert stamped() is None
    mosquitto.start()
    try:
        wait_until(stamped, timeout_s=10.0, message="ack not published after the broker came back")
    finally:
        mosquitto.stop()
