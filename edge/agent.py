"""One home's edge agent: device messages in from the local broker, canonical events out to the uplink.

Three loops share the spool. The local loop turns each Zigbee2MQTT message into events and stores them
before anything else; the uplink loop publishes what is stored (alarms first) with QoS 1 and removes
each event only after the central broker's PUBACK; the watch loop reports devices that went silent.
Each broker loop reconnects on its own with backoff and jitter, so a city's hubs coming back after an
outage do not arrive all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import aiomqtt
import msgspec

from edge.adapters import PayloadError, Reading, readings_for
from edge.adapters.discovery import DiscoveredDevice, parse_bridge_devices
from edge.config import DeviceConfig, EdgeConfig
from edge.health import CHECKIN_INTERVAL_S, DEFAULT_CHECKIN_S, HealthFilter, SilenceWatch
from edge.spool import Priority, Spool
from gateway.protocol import Event, EventKind, HomeStatus, Stream, aiomqtt_options, encode, uplink_topic

_LOGGER = logging.getLogger(__name__)

AGENT_VERSION = "homesafe-edge/0.2"
PUBLISH_BATCH = 50
MIN_BACKOFF_S = 0.5
MAX_BACKOFF_S = 60.0
_IGNORED_SUFFIXES = ("/set", "/get")
_BRIDGE_DEVICES = "bridge/devices"


def backoff_delays(min_s: float = MIN_BACKOFF_S, max_s: float = MAX_BACKOFF_S) -> Iterator[float]:
    """Exponential backoff with jitter: each delay is uniform in [d/2, d], d doubling up to `max_s`."""
    delay = min_s
    while True:
        yield random.uniform(delay / 2, delay)
        delay = min(delay * 2, max_s)


def local_utc_offset(ts: float, timezone: str | None = None) -> int:
    """The home's UTC offset at `ts`, in seconds, daylight saving included: of `timezone` if given, else
    of the hub's own zone."""
    if timezone is None:
        return int(time.localtime(ts).tm_gmtoff)
    offset = datetime.fromtimestamp(ts, ZoneInfo(timezone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


class EdgeAgent:
    """Runs until cancelled: `await agent.run()`; counters are public for heartbeats and tests."""

    def __init__(self, config: EdgeConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._devices = config.device_by_name
        self._prefix = config.z2m_base_topic + "/"
        self._status_topic = uplink_topic(config.home, Stream.STATUS)
        self._topic_of = {
            Priority.URGENT: uplink_topic(config.home, Stream.EVENTS),
            Priority.NORMAL: uplink_topic(config.home, Stream.EVENTS),
            Priority.BULK: uplink_topic(config.home, Stream.TELEMETRY),
        }
        self.spool = Spool(config.spool_path, max_events=config.spool_max_events)
        self._health = HealthFilter()
        self._silence = SilenceWatch(
            {d.name: d.checkin_s or CHECKIN_INTERVAL_S.get(d.type or "", DEFAULT_CHECKIN_S) for d in config.devices},
            clock(),
        )
        self.discovered: dict[str, DiscoveredDevice] = {}
        self._stored = asyncio.Event()
        self.uplink_connected = asyncio.Event()
        self.local_connected = asyncio.Event()
        self.events_stored = 0
        self.events_published = 0
        self.payload_errors: Counter[str] = Counter()
        self.unknown_devices: set[str] = set()
        self.availability: dict[str, bool] = {d.name: True for d in config.devices}

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._local_loop(), name=f"edge-local-{self.config.home}")
                tasks.create_task(self._uplink_loop(), name=f"edge-uplink-{self.config.home}")
                tasks.create_task(self._watch_loop(), name=f"edge-watch-{self.config.home}")
        finally:
            self.spool.close()

    # -- device side -------------------------------------------------------------------------------------

    def on_device_message(self, topic: str, payload: bytes) -> list[Event]:
        """Turn one local-broker message into stored events; bad payloads are counted and logged, never raised."""
        if not topic.startswith(self._prefix):
            return []
        name = topic[len(self._prefix):]
        if name == _BRIDGE_DEVICES:
            self.on_bridge_devices(payload)
            return []
        if name.startswith("bridge/") or name.endswith(_IGNORED_SUFFIXES):
            return []
        availability = name.endswith("/availability")
        if availability:
            name = name[: -len("/availability")]
        device = self._devices.get(name)
        if device is None or device.type is None:
            self._report_unknown(name, "not in the configuration nor in Zigbee2MQTT's device list"
                                 if device is None else "its type is not configured and not yet discovered")
            return []
        now = self._clock()
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
        if not availability and self._silence.heard(device.name, now):
            readings.insert(0, Reading(EventKind.AVAILABILITY, True, {"reason": "resumed"}))
        readings = [r for r in readings
                    if r.kind is not EventKind.DEVICE_HEALTH or self._health.worth_sending(device.name, r.data, now)]
        return self._store(device, readings, now)

    def on_bridge_devices(self, payload: bytes) -> None:
        """Learn models and types from Zigbee2MQTT's retained device list (sent again on every change).

        A configured device without type or model gets them; a paired device missing from the
        configuration is still forwarded (an SOS button must work before anyone assigns it a room)
        and reported as unconfigured.
        """
        try:
            self.discovered = parse_bridge_devices(payload)
        except PayloadError as exc:
            _LOGGER.warning("home %s: unreadable bridge/devices: %s", self.config.home, exc)
            return
        for name, found in self.discovered.items():
            configured = self._devices.get(name)
            if configured is None:
                if found.device_type is None:
                    continue
                self._devices[name] = DeviceConfig(name=name, type=found.device_type, model=found.model)
                self._report_unknown(name, f"paired as a {found.device_type} ({found.model}) but has no room "
                                     "or role in the configuration; forwarding its events meanwhile")
            else:
                if configured.type and found.device_type and configured.type != found.device_type:
                    _LOGGER.warning("home %s: %s is configured as %s but Zigbee2MQTT's %s looks like a %s",
                                    self.config.home, name, configured.type, found.model, found.device_type)
                self._devices[name] = replace(configured, type=configured.type or found.device_type,
                                              model=configured.model or found.model)
            device = self._devices[name]
            if device.type is not None:
                self._silence.watch(name, device.checkin_s or CHECKIN_INTERVAL_S.get(device.type, DEFAULT_CHECKIN_S),
                                    self._clock())
                self.availability.setdefault(name, True)

    def _report_unknown(self, name: str, why: str) -> None:
        if name not in self.unknown_devices:
            self.unknown_devices.add(name)
            _LOGGER.warning("home %s: device %r %s", self.config.home, name, why)

    def _store(self, device: DeviceConfig, readings: list[Reading], ts: float) -> list[Event]:
        if not readings:
            return []
        for reading in readings:
            if reading.kind is EventKind.AVAILABILITY:
                self.availability[device.name] = bool(reading.value)

        def build(first_seq: int) -> list[Event]:
            return [
                Event(id=uuid.uuid4().hex, home=self.config.home, device=device.name, kind=r.kind, ts=ts,
                      seq=first_seq + i, value=r.value, room=device.room, role=device.role, data=r.data)
                for i, r in enumerate(readings)
            ]

        events = self.spool.append(device.name, build)
        self.events_stored += len(events)
        self._stored.set()
        return events

    def _readings(self, device: DeviceConfig, payload: bytes) -> list[Reading]:
        try:
            decoded = msgspec.json.decode(payload)
        except msgspec.DecodeError as exc:
            raise PayloadError(f"not JSON: {exc}") from None
        except RecursionError:  # msgspec's answer to absurdly nested JSON
            raise PayloadError("JSON nested too deeply") from None
        if not isinstance(decoded, dict):
            raise PayloadError(f"expected a JSON object, got {type(decoded).__name__}")
        return list(readings_for(device.type or "", decoded, device.model))

    def _availability(self, payload: bytes) -> list[Reading]:
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
        return [Reading(EventKind.AVAILABILITY, state == "online", {"reason": "zigbee2mqtt"})]

    def check_silence(self) -> list[Event]:
        """Report devices quiet past their check-in interval (a dead battery, a device carried away)."""
        now = self._clock()
        events: list[Event] = []
        for name, quiet_s in self._silence.newly_silent(now):
            _LOGGER.warning("home %s: device %s silent for %.0f s", self.config.home, name, quiet_s)
            reading = Reading(EventKind.AVAILABILITY, False, {"reason": "silent", "silent_s": round(quiet_s)})
            events += self._store(self._devices[name], [reading], now)
        return events

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self._silence.next_check(self._clock()))
            self.check_silence()

    async def _local_loop(self) -> None:
        options = aiomqtt_options(self.config.local)
        identifier = f"homesafe-edge-{self.config.home}-local"
        delays = backoff_delays()
        while True:
            try:
                # A persistent session: device messages published while the agent restarts wait for it.
                async with aiomqtt.Client(**options, identifier=identifier, clean_session=False) as client:
                    await client.subscribe(self._prefix + "#", qos=1)
                    self.local_connected.set()
                    delays = backoff_delays()
                    _LOGGER.info("home %s: reading devices on %s", self.config.home, self.config.local.url)
                    async for message in client.messages:
                        self.on_device_message(message.topic.value, bytes(message.payload))  # type: ignore[arg-type]
            except aiomqtt.MqttError as exc:
                self.local_connected.clear()
                delay = next(delays)
                _LOGGER.warning("home %s: local broker lost (%s); retry in %.1f s", self.config.home, exc, delay)
                await asyncio.sleep(delay)

    # -- uplink side -------------------------------------------------------------------------------------

    def status(self, *, online: bool) -> bytes:
        """The retained status message: a heartbeat when online, the last will when not."""
        return encode(HomeStatus(
            home=self.config.home, online=online, ts=self._clock(), agent=AGENT_VERSION,
            heartbeat_s=self.config.heartbeat_s, utc_offset_s=local_utc_offset(self._clock(), self.config.timezone),
            spool_depth=self.spool.depth(), devices=dict(self.availability),
            unconfigured=sorted(self.unknown_devices), payload_errors=sum(self.payload_errors.values()),
            dropped=self.spool.dropped(),
        ))

    async def _uplink_loop(self) -> None:
        options = aiomqtt_options(self.config.uplink)
        identifier = f"homesafe-edge-{self.config.home}"
        delays = backoff_delays()
        while True:
            will = aiomqtt.Will(self._status_topic, self.status(online=False), qos=1, retain=True)
            client = aiomqtt.Client(**options, identifier=identifier, will=will, clean_session=True,
                                    max_inflight_messages=PUBLISH_BATCH)
            client.pending_calls_threshold = 2 * PUBLISH_BATCH  # we pipeline a batch on purpose
            try:
                async with client:
                    await client.publish(self._status_topic, self.status(online=True), qos=1, retain=True)
                    self.uplink_connected.set()
                    delays = backoff_delays()
                    _LOGGER.info("home %s: uplink %s connected, %d events spooled", self.config.home,
                                 self.config.uplink.url, self.spool.depth())
                    await self._drain_forever(client)
            except aiomqtt.MqttError as exc:
                self.uplink_connected.clear()
                delay = next(delays)
                _LOGGER.warning("home %s: uplink lost (%s); %d events spooled, retry in %.1f s",
                                self.config.home, exc, self.spool.depth(), delay)
                await asyncio.sleep(delay)

    async def _drain_forever(self, client: aiomqtt.Client) -> None:
        # Heartbeats follow the agent's clock (a simulation's clock runs faster than the wall), checked
        # at least every second of wall time.
        next_heartbeat = self._clock() + self.config.heartbeat_s
        while True:
            self._stored.clear()
            batch = self.spool.peek(PUBLISH_BATCH)
            if batch:
                # Pipelined: QoS 1 messages on one connection keep their order; each waits for its PUBACK.
                await asyncio.gather(*(client.publish(self._topic_of[priority], body, qos=1)
                                       for _, priority, body in batch))
                self.spool.remove([pos for pos, _, _ in batch])
                self.events_published += len(batch)
                continue
            if self._clock() >= next_heartbeat:
                await client.publish(self._status_topic, self.status(online=True), qos=1, retain=True)
                next_heartbeat = self._clock() + self.config.heartbeat_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stored.wait(), timeout=min(1.0, max(0.0, next_heartbeat - self._clock())))
