"""Every device type of the safety package and the home-care bed, end to end.

A simulated Zigbee2MQTT payload goes to the home's broker, through the real edge agent and the real
central broker, and must arrive at the gateway as the right canonical event.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Iterator

import pytest

from edge.agent import EdgeAgent
from edge.config import DeviceConfig, EdgeConfig
from gateway.config import GatewayConfig
from gateway.protocol import BrokerSettings, Event, EventKind
from gateway.service import Gateway
from simulators import z2m
from tests.harness import LoopThread, Publisher, forget_session, wait_until

DEVICES = (
    DeviceConfig("pendant", "button", "bedroom", "pendant"),
    DeviceConfig("hall_pir", "motion", "hallway"),
    DeviceConfig("front_door", "contact", "hallway", "front_door"),
    DeviceConfig("kitchen_smoke", "smoke", "kitchen"),
    DeviceConfig("kitchen_gas", "gas", "kitchen"),
    DeviceConfig("bath_leak", "water", "bathroom"),
    DeviceConfig("bath_radar", "radar", "bathroom"),
    DeviceConfig("wristband", "wearable", None, "wearable"),
    DeviceConfig("bed_mat", "bed_mat", "bedroom"),
)
_BURST = [[math.sin(i / 5), 0.1, 0.98] for i in range(50)]

# (device, payload, the canonical (kind, value) the gateway must see, a data field that must come along)
CASES = [
    ("pendant", z2m.button_press("hold"), (EventKind.SOS, True), ("action", "hold")),
    ("hall_pir", z2m.motion(True), (EventKind.MOTION, True), None),
    ("front_door", z2m.contact(door_open=True), (EventKind.DOOR, True), None),
    ("kitchen_smoke", z2m.smoke(True), (EventKind.SMOKE, True), None),
    ("kitchen_gas", z2m.gas(True), (EventKind.GAS, True), None),
    ("bath_leak", z2m.water_leak(True), (EventKind.WATER, True), None),
    ("bath_radar", z2m.radar(True), (EventKind.PRESENCE, True), None),
    ("bath_radar", z2m.radar(True, fall=True), (EventKind.FALL, True), None),
    ("wristband", z2m.wearable_burst(1_800_000_000.0, 50.0, _BURST), (EventKind.ACCEL, None), ("fs", 50.0)),
    ("wristband", z2m.wearable_sos(), (EventKind.SOS, True), None),
    ("bed_mat", z2m.bed_mat(in_bed=True, heart_rate=62, breathing_rate=14), (EventKind.BED, True), None),
    ("bed_mat", z2m.bed_mat(in_bed=True, heart_rate=61, breathing_rate=15), (EventKind.VITALS, None),
     ("heart_rate", 61)),
    ("kitchen_smoke", z2m.smoke(False, battery=7, battery_low=True), (EventKind.DEVICE_HEALTH, None),
     ("battery_low", True)),
    ("hall_pir/availability", z2m.availability(False, legacy=True), (EventKind.AVAILABILITY, False), None),
]


class Seen:
    """The gateway's event tap: what it accepted, for the test to wait on."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, home: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.home == home]


@pytest.fixture(scope="module")
def seen_and_home(broker: BrokerSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Seen, str]]:
    home = f"dev{uuid.uuid4().hex[:8]}"
    tmp = tmp_path_factory.mktemp("every-device")
    seen = Seen()
    gateway = Gateway(GatewayConfig(broker=broker, server_url="http://127.0.0.1:9", worker_id=f"test-{home}",
                                    outbox_path=str(tmp / "outbox.db")), taps=[seen])
    gateway.start()
    gateway.wait_connected()
    agent = EdgeAgent(EdgeConfig(home=home, local=broker, uplink=broker, spool_path=str(tmp / "spool.db"),
                                 z2m_base_topic=f"zigbee2mqtt/{home}", devices=DEVICES))
    loop = LoopThread()
    loop.spawn(agent.run())
    wait_until(lambda: agent.uplink_connected.is_set() and agent.local_connected.is_set(), what="agent up")
    try:
        yield seen, home
    finally:
        loop.close()
        gateway.stop()
        forget_session(broker, gateway.config.client_id)


@pytest.mark.parametrize(("device", "payload", "expected", "data"), CASES, ids=[f"{c[0]}-{c[2][0]}" for c in CASES])
def test_device_payload_arrives_as_the_right_canonical_event(
    seen_and_home: tuple[Seen, str], broker: BrokerSettings, device: str, payload: bytes,
    expected: tuple[EventKind, object], data: tuple[str, object] | None,
) -> None:
    seen, home = seen_and_home
    name = device.split("/", maxsplit=1)[0]
    before = len(seen.of(home))
    publisher = Publisher(broker, f"z2m-{home}-{uuid.uuid4().hex[:4]}")
    try:
        publisher.publish(f"zigbee2mqtt/{home}/{device}", payload)
        matches = wait_until(
            lambda: [e for e in seen.of(home)[before:] if e.device == name and (e.kind, e.value) == expected],
            what=f"{expected} from {device} at the gateway")
    finally:
        publisher.close()
    event = matches[0]
    configured = next(d for d in DEVICES if d.name == name)
    assert (event.room, event.role) == (configured.room, configured.role)
    if data is not None:
        assert event.data[data[0]] == data[1]
