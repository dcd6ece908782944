"""One home's edge agent: device messages in from the local broker, canonical events out to the uplink.

Two loops share the spool: the local loop turns each Zigbee2MQTT message into events and stores them
before anything else; the uplink loop publishes what is stored (alarms first) with QoS 1 and removes
each event only after the central broker's PUBACK. Each loop reconnects on its own with backoff and
jitter, so a city's hubs coming back after an outage do not arrive all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiomqtt
import msgspec

from edge.adapters import PayloadError, readings_for
from edge.config import DeviceConfig, EdgeConfig
from edge.spool import Spool
from gateway.protocol import Event, EventKind, HomeStatus, Stream, aiomqtt_options, encode, uplink_topic

_LOGGER = logging.getLogger(__name__)

AGENT_VERSION = "homesafe-edge/0.1"
PUBLISH_BATCH = 50
MIN_BACKOFF_S = 0.5
MAX_BACKOFF_S = 60.0
_IGNORED_SUFFIXES = ("/set", "/get")


def backoff_delays(min_s: float = MIN_BACKOFF_S, max_s: float = MAX_BACKOFF_S) -> Any:
    """Exponential backoff with full jitter: each delay is uniform in [d/2, d], d doubling to `max_s`."""
    delay = min_s
    while True:
        yield random.uniform(delay / 2, delay)
        delay = min(delay * 2, max_s)


class EdgeAgent:
    """Runs until cancelled: `await agent.run()`; counters are public for heartbeats and tests."""

    def __init__(self, config: EdgeConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._devices = config.device_by_name
        self._prefix = config.z2m_base_topic + "/"
        self._status_topic = uplink_topic(config.home, Stream.STATUS)
        self._events_topic = uplink_topic(config.home, Stream.EVENTS)
        self.spool = Spool(config.spool_path)
        self._stored = asyncio.Event()
        self.uplink_connected = asyncio.Event()
        self.local_connected = asyncio.Event()
        self.events_stored = 0
        self.events_published = 0
        self.payload_errors: Counter[str] = Counter()
        self.unknown_devices: set[str] = set()
        self.availability: dict[str, bool] = {}

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._local_loop(), name=f"edge-local-{self.config.home}")
                tasks.create_task(self._uplink_loop(), name=f"edge-uplink-{self.config.home}")
        finally:
            self.spool.close()

    # -- device side -------------------------------------------------------------------------------------

    def on_device_message(self, topic: str, payload: bytes) -> list[Event]:
        """Turn one local-broker message into stored events; bad payloads are counted and logged, never raised."""
        if not topic.startswith(self._prefix):
            return []
        name = topic[len(self._prefix):]
        if name.startswith("bridge/") or name.endswith(_IGNORED_SUFFIXES):
            return []
        availability = name.endswith("/availability")
        if availability:
            name = name[: -len("/availability")]
        device = self._devices.get(name)
        if device is None:
            if name not in self.unknown_devices:
                self.unknown_devices.add(name)
                _LOGGER.warning("home %s: unknown device %r; add it to the configuration", self.config.home, name)
            return []
        try:
            readings = self._availability(payload) if availability else self._readings(device, payload)
        except PayloadError as exc:
            self.payload_errors[device.name] += 1
            _LOGGER.warning("home %s: bad payload from %s: %s; payload %r", self.config.home, device.name, exc,
                            payload[:200])
            return []
        except Exception:
            # An adapter bug must cost this message, not the agent that guards the home.
            self.payload_errors[device.name] += 1
            _LOGGER.exception("home %s: adapter for %s failed on %r", self.config.home, device.name, payload[:200])
            return []
        if not readings:
            return []
        ts = self._clock()

        def build(first_seq: int) -> list[Event]:
            return [
                Event(id=uuid.uuid4().hex, home=self.config.home, device=device.name, kind=kind, ts=ts,
                      seq=first_seq + i, value=value, room=device.room, role=device.role, data=data)
                for i, (kind, value, data) in enumerate(readings)
            ]

        events = self.spool.append(device.name, build)
        self.events_stored += len(events)
        self._stored.set()
        return events

    def _readings(self, device: DeviceConfig, payload: bytes) -> list[tuple[EventKind, Any, dict[str, Any]]]:
        try:
            decoded = msgspec.json.decode(payload)
        except msgspec.DecodeError as exc:
            raise PayloadError(f"not JSON: {exc}") from None
        if not isinstance(decoded, dict):
            raise PayloadError(f"expected a JSON object, got {type(decoded).__name__}")
        return [(r.kind, r.value, r.data) for r in readings_for(device.type, decoded, device.model)]

    def _availability(self, payload: bytes) -> list[tuple[EventKind, Any, dict[str, Any]]]:
        # Current Zigbee2MQTT sends {"state":"online"}; older versions a plain online/offline.
        text = payload.strip()
        if text.startswith(b"{"):
            try:
                state = msgspec.json.decode(text).get("state")
            except (msgspec.DecodeError, AttributeError):
                raise PayloadError(f"bad availability payload {payload[:100]!r}") from None
        else:
            state = text.decode(errors="replace")
        if state not in ("online", "offline"):
            raise PayloadError(f"availability must be online or offline, got {state!r}")
        return [(EventKind.AVAILABILITY, state == "online", {})]

    async def _local_loop(self) -> None:
        options = aiomqtt_options(self.config.local)
        identifier = f"homesafe-edge-{self.config.home}-local"
        for delay in backoff_delays():
            try:
                # A persistent session: device messages published while the agent restarts wait for it.
                async with aiomqtt.Client(**options, identifier=identifier, clean_session=False) as client:
                    await client.subscribe(self._prefix + "#", qos=1)
                    self.local_connected.set()
                    _LOGGER.info("home %s: reading devices on %s", self.config.home, self.config.local.url)
                    async for message in client.messages:
                        self.on_device_message(message.topic.value, bytes(message.payload))  # type: ignore[arg-type]
            except aiomqtt.MqttError as exc:
                self.local_connected.clear()
                _LOGGER.warning("home %s: local broker lost (%s); retry in %.1f s", self.config.home, exc, delay)
            await asyncio.sleep(delay)

    # -- uplink side -------------------------------------------------------------------------------------

    def status(self, *, online: bool) -> bytes:
        return encode(HomeStatus(home=self.config.home, online=online, ts=self._clock(), agent=AGENT_VERSION,
                                 spool_depth=self.spool.depth(), devices=self.availability))

    async def _uplink_loop(self) -> None:
        options = aiomqtt_options(self.config.uplink)
        will = aiomqtt.Will(self._status_topic, self.status(online=False), qos=1, retain=True)
        identifier = f"homesafe-edge-{self.config.home}"
        delays = backoff_delays()
        while True:
            try:
                async with aiomqtt.Client(**options, identifier=identifier, will=will, clean_session=True,
                                          max_inflight_messages=PUBLISH_BATCH) as client:
                    delays = backoff_delays()
                    await client.publish(self._status_topic, self.status(online=True), qos=1, retain=True)
                    self.uplink_connected.set()
                    _LOGGER.info("home %s: uplink %s connected", self.config.home, self.config.uplink.url)
                    await self._drain_forever(client)
            except aiomqtt.MqttError as exc:
                self.uplink_connected.clear()
                delay = next(delays)
                _LOGGER.warning("home %s: uplink lost (%s); %d events spooled, retry in %.1f s",
                                self.config.home, exc, self.spool.depth(), delay)
                await asyncio.sleep(delay)

    async def _drain_forever(self, client: aiomqtt.Client) -> None:
        next_heartbeat = time.monotonic() + self.config.heartbeat_s
        while True:
            self._stored.clear()
            batch = self.spool.peek(PUBLISH_BATCH)
            if batch:
                # Pipelined: QoS 1 messages on one connection keep their order; each waits for its PUBACK.
                await asyncio.gather(*(client.publish(self._events_topic, body, qos=1) for _, body in batch))
                self.spool.remove([pos for pos, _ in batch])
                self.events_published += len(batch)
                continue
            if time.monotonic() >= next_heartbeat:
                await client.publish(self._status_topic, self.status(online=True), qos=1, retain=True)
                next_heartbeat = time.monotonic() + self.config.heartbeat_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stored.wait(), timeout=max(0.0, next_heartbeat - time.monotonic()))

