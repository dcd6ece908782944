"""A gateway restart keeps each home's state: no second alert for an episode in progress."""

import time
import uuid
from pathlib import Path

from gateway.config import GatewayConfig
from gateway.protocol import BrokerSettings, Event, EventKind, Stream, encode, uplink_topic
from gateway.service import Gateway
from gateway.statestore import StateStore
from tests.harness import Publisher, forget_session, wait_until


def test_smoke_episode_survives_a_gateway_restart(broker: BrokerSettings, tmp_path: Path, home_id: str) -> None:
    config = GatewayConfig(broker=broker, server_url="http://127.0.0.1:9", worker_id=f"test-{home_id}",
                           outbox_path=str(tmp_path / "outbox.db"))
    uplink = Publisher(broker, f"edge-{home_id}")
    topic = uplink_topic(home_id, Stream.EVENTS)

    def smoke(seq: int) -> bytes:
        return encode(Event(id=uuid.uuid4().hex, home=home_id, device="smoke1", kind=EventKind.SMOKE,
                            ts=time.time(), seq=seq, value=True))

    try:
        with Gateway(config) as first:
            first.wait_connected()
            uplink.publish(topic, smoke(0))
            wait_until(lambda: first.worker.alerts_raised == 1, what="the smoke alert")
        assert home_id in StateStore(config.state_file).load()
        with Gateway(config) as second:
            second.wait_connected()
            assert home_id in second.worker.homes, "state restored at start"
            uplink.publish(topic, smoke(1))  # the detector still sounds: same episode
            wait_until(lambda: second.worker.accepted == 1, what="the repeat")
            assert second.worker.alerts_raised == 0
    finally:
        uplink.close()
        forget_session(broker, config.client_id)


def test_an_unreadable_snapshot_starts_that_home_fresh(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    store._db.execute("INSERT INTO homes VALUES ('h-bad', ?)", (b'{"version": 99}',))
    assert store.load() == {}
