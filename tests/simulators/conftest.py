"""Fixtures for simulator tests: a real subscriber on the shared broker that cleans up retained messages."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import paho.mqtt.client as paho
import pytest

from gateway.protocol import BrokerSettings, paho_client

RETAINED_SUFFIXES = ("/availability", "/bridge/devices")


class Subscriber:
    """A paho subscriber that keeps (topic, payload, qos) of everything under a filter, in arrival order."""

    def __init__(self, broker: BrokerSettings, topic_filter: str) -> None:
        self.broker = broker
        self.messages: list[tuple[str, bytes, int]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = paho_client(broker, f"test-sim-sub-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = lambda client, *_: client.subscribe(topic_filter, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError(f"no SUBACK for {topic_filter} from {broker.url}")

    def _on_message(self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, message.qos))

    def snapshot(self) -> list[tuple[str, bytes, int]]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        # Scenarios publish retained bridge/devices and availability: clear them on the shared broker.
        retained = {topic for topic, _, _ in self.snapshot() if topic.endswith(RETAINED_SUFFIXES)}
        for topic in retained:
            self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscribe(broker: BrokerSettings) -> Iterator[Callable[[str], Subscriber]]:
    """`subscribe(filter)` -> a connected, subscribed `Subscriber`, closed (and retained topics cleared) after."""
    made: list[Subscriber] = []

    def make(topic_filter: str) -> Subscriber:
        made.append(Subscriber(broker, topic_filter))
        return made[-1]

    yield make
    for subscriber in made:
        subscriber.close()


@pytest.fixture
def topic_root() -> str:
    """A base-topic root no other test (or earlier run on a shared broker) uses."""
    return f"simtest-{uuid.uuid4().hex[:10]}"
