"""Telling the home that help is coming: an `ack` command down its `cmd` topic, QoS 1.

An acknowledgement never waits for the broker: it only commits (`alerts.ack_published_at` stays empty)
and wakes this publisher. The publisher's own thread publishes what is unpublished and stamps it once
the broker has it, so a broker outage or a server restart delays the message, never the acknowledgement,
and never loses it while it is still worth saying (`max_age_s`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
import paho.mqtt.client as paho
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.protocol import BrokerSettings, downlink_topic, paho_client
from gateway.protocol.messages import Command, CommandType
from server.background import WakeableLoop
from server.db.tables import AlertRow, AlertStatus

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_AGE_S: Final = 3600.0  # an ack older than this would only confuse the resident
REPUBLISH_AFTER_S: Final = 30.0  # a publish not confirmed by then is sent again (QoS 1: duplicates are fine)
PUBLISH_WAIT_S: Final = 2.0
BATCH_SIZE: Final = 100
_ROLE_OF_PREFIX: Final = {
    "responder": "responder",
    "visitor": "responder",
    "phone": "responder",
    "contact": "family",
    "user": "operator",
    "api": "operator",
    "operator": "operator",
    "maintenance": "operator",
    "emergency": "operator",
}
_encode = msgspec.json.Encoder().encode


def _utcnow() -> datetime:
    return datetime.now(UTC)


def actor_role(actor: str | None) -> str:
    """The role an actor acted in, for the resident to hear: responder, family or operator."""
    prefix = (actor or "").split(":", 1)[0]
    return _ROLE_OF_PREFIX.get(prefix, "responder")


def ack_command(*, alert_id: str, ref: str, actor: str | None) -> bytes:
    """The JSON payload of an ack, e.g. `{"type":"ack","alert_id":"a1","ref":"K3F9Q2","by":"responder"}`."""
    return _encode(Command(type=CommandType.ACK, alert_id=alert_id, ref=ref, by=actor_role(actor)))


class AckPublisher(WakeableLoop):
    """Publishes acks of acknowledged (or resolved without ack) alerts from its own thread.

    Args:
        sessions: session factory of the server's database.
        broker: where the homes' hubs listen.
        interval_s: sweep period (acks by another server, or after a broker outage, are seen this late).
        max_age_s: acks older than this are not published any more.
        clock: aware-UTC "now", injectable for tests.
    """

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        broker: BrokerSettings,
        interval_s: float = 1.0,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__(interval_s=interval_s)
        self.sessions = sessions
        self.broker = broker
        self.max_age_s = max_age_s
        self.clock = clock
        self._client: paho.Client | None = None
        self._inflight: dict[str, tuple[paho.MQTTMessageInfo, float]] = {}

    thread_name = "homesafe-ack-publisher"

    def start(self) -> None:
        """Connect in the background (paho reconnects by itself) and start the publishing thread."""
        if self.running:
            raise RuntimeError("ack publisher already running; stop() it before starting it again")
        client = paho_client(self.broker, f"homesafe-server-acks-{uuid.uuid4().hex[:12]}")
        client.on_connect = self._on_connect
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        client.loop_start()
        self._client = client
        super().start()
        _LOGGER.info("publishing acks to %s", self.broker.url)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and disconnect; unpublished acks stay unstamped rows for the next start."""
        super().stop(timeout_s)
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self._inflight.clear()

    def _on_connect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            _LOGGER.warning("ack publisher could not connect to %s: %s", self.broker.url, reason)
            return
        self._wake.set()  # publish what waited for the broker

    def run_once(self) -> int:
        """Publish unpublished acks and stamp those the broker confirmed; returns how many were stamped."""
        client = self._client
        if client is None or not client.is_connected():
            return 0
        now = self.clock()
        done_at = func.coalesce(AlertRow.acknowledged_at, AlertRow.resolved_at)
        with self.sessions() as session:
            rows = session.execute(
                select(AlertRow.id, AlertRow.home, AlertRow.ref, AlertRow.acknowledged_by, AlertRow.resolved_by)
                .where(
                    AlertRow.ack_published_at.is_(None),
                    AlertRow.status.in_((AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED)),
                    done_at > now - timedelta(seconds=self.max_age_s),
                )
                .order_by(done_at)
                .limit(BATCH_SIZE)
            ).all()
        mono = time.monotonic()
        for stale in [key for key, (_info, sent) in self._inflight.items() if mono - sent > self.max_age_s]:
            del self._inflight[stale]  # paho keeps retrying it on its own; we stop waiting for it
        for alert_id, home, ref, acked_by, resolved_by in rows:
            held = self._inflight.get(alert_id)
            if held is not None and (held[0].is_published() or mono - held[1] < REPUBLISH_AFTER_S):
                continue
            payload = ack_command(alert_id=alert_id, ref=ref, actor=acked_by or resolved_by)
            self._inflight[alert_id] = (client.publish(downlink_topic(home), payload, qos=1), mono)
        stamped = 0
        deadline = time.monotonic() + PUBLISH_WAIT_S
        for alert_id, (info, _sent) in list(self._inflight.items()):
            while not info.is_published() and time.monotonic() < deadline and not self._stopping.is_set():
                time.sleep(0.01)
            if not info.is_published():
                continue
            with self.sessions() as session:
                session.execute(
                    update(AlertRow)
                    .where(AlertRow.id == alert_id, AlertRow.ack_published_at.is_(None))
                    .values(ack_published_at=self.clock())
                    .execution_options(synchronize_session=False)
                )
                session.commit()
            del self._inflight[alert_id]
            stamped += 1
            _LOGGER.debug("ack of alert %s published", alert_id)
        return stamped

    def sweep(self) -> None:
        self.run_once()
