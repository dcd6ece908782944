"""Real parts, started for tests: brokers, an asyncio loop thread for edge agents, a paho publisher.

Nothing here fakes a HomeSafe component; it only starts and stops the real ones.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import paho.mqtt.client as paho

from gateway.protocol import BrokerSettings, paho_client

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop on a daemon thread, for async parts (edge agents) in sync tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(_cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class Publisher:
    """A connected paho client that publishes and waits for the broker's acknowledgement."""

    def __init__(self, broker: BrokerSettings, client_id: str) -> None:
        self.client = paho_client(broker, client_id)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(5)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish to {topic} failed: {paho.error_string(info.rc)}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(predicate: Callable[[], T], timeout_s: float = 5.0, interval_s: float = 0.02, what: str = "") -> T:
    """Poll until `predicate()` is truthy; fail with `what` if it never is."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what or predicate}")
        time.sleep(interval_s)


def forget_session(broker: BrokerSettings, client_id: str) -> None:
    """Drop a persistent session a test left on a shared broker, so it stops queueing for nobody."""
    client = paho_client(broker, client_id, clean_session=True)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


class Recorder:
    """A persistent QoS 1 subscriber that keeps every uplink message in arrival order (a witness, not a part)."""

    def __init__(self, broker: BrokerSettings, client_id: str, topic_filter: str = "hs/v1/+/+/+") -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.client = paho_client(broker, client_id, clean_session=False)
        self.client.on_connect = lambda c, *_: c.subscribe(topic_filter, qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload))

    def events(self) -> list[Any]:
        """The canonical events seen so far (status messages left out), in arrival order."""
        from gateway.protocol import Event, decode_event, parse_topic

        with self._lock:
            messages = list(self.messages)
        events = []
        for topic, payload in messages:
            parts = parse_topic(topic)
            if parts is not None and parts.stream.value in ("events", "telemetry"):
                event = decode_event(payload, parts.home, time.time())
                if isinstance(event, Event):
                    events.append(event)
        return events

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
