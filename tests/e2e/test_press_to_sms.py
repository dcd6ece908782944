"""A call-button press becomes an SMS through every real part.

simulator -> local broker -> edge agent -> central broker -> gateway -> HTTP -> server -> console outbox,
on a real Mosquitto, real SQLite and real HTTP.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edge.agent import EdgeAgent
from edge.config import DeviceConfig, EdgeConfig
from gateway.config import GatewayConfig
from gateway.protocol import BrokerSettings, Event, EventKind, RejectReason, Stream, encode, uplink_topic
from gateway.service import Gateway
from server.config import ServerSettings
from server.notifiers.console import ConsoleOutbox
from server.run import ServerThread
from simulators import z2m
from tests.harness import LoopThread, Publisher, forget_session, wait_until

RESPONDER_PHONE = "+8613800000077"
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"  # the server's HOMESAFE_ADMIN_TOKEN


@dataclass
class Stack:
    """The central side: server and gateway, with the home registered and a responder on duty."""

    server: ServerThread
    gateway: Gateway
    http: httpx.Client
    outbox_stream: io.StringIO

    def alerts(self, home: str) -> list[dict[str, object]]:
        return self.http.get("/api/alerts", params={"home": home}).raise_for_status().json()

    def notifications(self) -> list[dict[str, object]]:
        return self.http.get("/api/notifications").raise_for_status().json()

    def channels_for(self, home: str) -> list[str]:
        """The channels the home's responders were reached by: an SOS is an SMS and a call at once."""
        return sorted(str(n["channel"]) for n in self.notifications_for(home))

    def notifications_for(self, home: str) -> list[dict[str, object]]:
        alert_ids = {a["id"] for a in self.alerts(home)}
        return [n for n in self.notifications() if n["alert_id"] in alert_ids]


@pytest.fixture
def stack(broker: BrokerSettings, tmp_path: Path, home_id: str) -> Iterator[Stack]:
    stream = io.StringIO()
    server = ServerThread(ServerSettings(database_url=f"sqlite:///{tmp_path / 'server.db'}", port=0,
                                         admin_token=ADMIN_TOKEN), notifier=ConsoleOutbox(stream=stream))
    server.start()
    http = httpx.Client(base_url=server.url, timeout=5, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    http.post("/api/homes", json={"id": home_id, "community": "c-test"}).raise_for_status()
    http.post("/api/responders", json={"name": "On duty", "phone": RESPONDER_PHONE,
                                       "community": "c-test"}).raise_for_status()
    config = GatewayConfig(broker=broker, server_url=server.url, worker_id=f"test-{uuid.uuid4().hex[:8]}",
                           outbox_path=str(tmp_path / "outbox.db"))
    gateway = Gateway(config)
    gateway.start()
    gateway.wait_connected()
    try:
        yield Stack(server, gateway, http, stream)
    finally:
        gateway.stop()
        forget_session(broker, config.client_id)
        http.close()
        server.stop()


def _edge_config(home: str, broker: BrokerSettings, tmp_path: Path) -> EdgeConfig:
    return EdgeConfig(home=home, local=broker, uplink=broker, spool_path=str(tmp_path / "spool.db"),
                      z2m_base_topic=f"zigbee2mqtt/{home}",
                      devices=(DeviceConfig("sos_button", "button", "bedroom", "pendant"),))


def _press_event(home: str, event_id: str, seq: int = 0) -> Event:
    return Event(id=event_id, home=home, device="sos_button", kind=EventKind.SOS, ts=time.time(), seq=seq,
                 data={"action": "single"})


def test_press_reaches_the_outbox_as_one_notification_within_a_second(
    stack: Stack, broker: BrokerSettings, home_id: str, tmp_path: Path, loop_thread: LoopThread
) -> None:
    agent = EdgeAgent(_edge_config(home_id, broker, tmp_path))
    loop_thread.spawn(agent.run())
    wait_until(lambda: agent.uplink_connected.is_set() and agent.local_connected.is_set(), what="edge connected")
    device = Publisher(broker, f"sim-{home_id}")
    try:
        pressed = time.monotonic()
        device.publish(f"zigbee2mqtt/{home_id}/sos_button", z2m.button_press("single"))
        sent = wait_until(lambda: [n for n in stack.notifications_for(home_id)
                                   if n["status"] == "sent" and n["channel"] == "sms"],
                          timeout_s=1.0, interval_s=0.01, what="the SMS in the outbox")
        elapsed = time.monotonic() - pressed
        time.sleep(0.3)  # anything extra would show up now
        notifications = stack.notifications_for(home_id)
    finally:
        device.close()
    assert elapsed < 1.0
    assert sorted(str(n["channel"]) for n in notifications) == ["sms", "voice"], notifications
    assert sent[0]["to"] == RESPONDER_PHONE and sent[0]["channel"] == "sms"
    assert "SOS" in str(sent[0]["body"]) and home_id in str(sent[0]["body"])
    assert [a["type"] for a in stack.alerts(home_id)] == ["SOS"]
    assert f"SMS to {RESPONDER_PHONE}" in stack.outbox_stream.getvalue()


def test_redelivered_event_makes_one_alert(stack: Stack, broker: BrokerSettings, home_id: str) -> None:
    uplink = Publisher(broker, f"edge-{home_id}")
    try:
        payload = encode(_press_event(home_id, uuid.uuid4().hex))
        topic = uplink_topic(home_id, Stream.EVENTS)
        uplink.publish(topic, payload)
        uplink.publish(topic, payload)  # what a QoS 1 redelivery or a spool replay looks like
        wait_until(lambda: stack.gateway.worker.duplicates >= 1, what="the duplicate to be seen")
        wait_until(lambda: stack.notifications_for(home_id), what="the notification")
        time.sleep(0.3)
    finally:
        uplink.close()
    assert len(stack.alerts(home_id)) == 1
    assert stack.channels_for(home_id) == ["sms", "voice"], "one SMS and one call, not two of each"


def test_bad_messages_are_counted_by_reason_and_the_next_press_still_alerts(
    stack: Stack, broker: BrokerSettings, home_id: str
) -> None:
    topic = uplink_topic(home_id, Stream.EVENTS)
    good = _press_event(home_id, "placeholder")
    bad = {
        RejectReason.MALFORMED_JSON: b'{"id": "x", "home": ',
        RejectReason.UNKNOWN_KIND: encode({**_as_dict(good), "id": uuid.uuid4().hex, "kind": "teleport"}),
        RejectReason.SCHEMA: encode({**_as_dict(good), "id": uuid.uuid4().hex, "seq": "first"}),
        RejectReason.HOME_MISMATCH: encode(_press_event("someone-else", uuid.uuid4().hex)),
    }
    before = dict(stack.gateway.worker.rejected)
    uplink = Publisher(broker, f"edge-{home_id}")
    try:
        for payload in bad.values():
            uplink.publish(topic, payload)
        uplink.publish(topic, encode(_press_event(home_id, uuid.uuid4().hex)))
        wait_until(lambda: stack.notifications_for(home_id), what="the valid press to notify")
    finally:
        uplink.close()
    rejected = stack.gateway.worker.rejected
    assert {reason: rejected[reason] - before.get(reason, 0) for reason in bad} == dict.fromkeys(bad, 1)
    assert [a["type"] for a in stack.alerts(home_id)] == ["SOS"]


def test_press_while_the_server_is_down_is_notified_once_when_it_is_back(
    stack: Stack, broker: BrokerSettings, home_id: str, tmp_path: Path, loop_thread: LoopThread
) -> None:
    agent = EdgeAgent(_edge_config(home_id, broker, tmp_path))
    loop_thread.spawn(agent.run())
    wait_until(lambda: agent.uplink_connected.is_set() and agent.local_connected.is_set(), what="edge connected")
    stack.server.stop()
    device = Publisher(broker, f"sim-{home_id}")
    try:
        device.publish(f"zigbee2mqtt/{home_id}/sos_button", z2m.button_press("hold"))
        wait_until(lambda: stack.gateway.worker.alerts_raised >= 1, what="the gateway to raise the alert")
        time.sleep(3.0)  # the server stays down; the alert waits in the gateway's outbox
        assert len(stack.gateway.outbox) == 1
        stack.server.start()
        wait_until(lambda: [n for n in stack.notifications_for(home_id) if n["status"] == "sent"], timeout_s=10,
                   what="the notification after the server came back")
        time.sleep(1.5)  # a second delivery or a second send would show up now
    finally:
        device.close()
    assert len(stack.alerts(home_id)) == 1
    assert stack.channels_for(home_id) == ["sms", "voice"], "one SMS and one call, not two of each"
    assert len(stack.gateway.outbox) == 0


def _as_dict(event: Event) -> dict[str, object]:
    return {f: getattr(event, f) for f in event.__struct_fields__}
