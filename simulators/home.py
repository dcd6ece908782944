"""A simulated home: its devices and residents' everyday activity, published to its local broker."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Protocol

from simulators import z2m


class Publisher(Protocol):
    """What a simulated home needs from an MQTT client (aiomqtt.Client fits)."""

    async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None: ...


@dataclass(frozen=True, slots=True)
class SimDevice:
    """A device as paired in Zigbee2MQTT: friendly name, type, room and role."""

    name: str
    type: str
    room: str
    role: str | None = None


DEFAULT_DEVICES = (
    SimDevice("sos_button", "button", "bedroom", "pendant"),
    SimDevice("bedroom_motion", "motion", "bedroom"),
    SimDevice("living_motion", "motion", "living_room"),
    SimDevice("kitchen_motion", "motion", "kitchen"),
    SimDevice("bathroom_motion", "motion", "bathroom"),
    SimDevice("front_door", "contact", "hallway", "front_door"),
)


@dataclass(slots=True)
class SimulatedHome:
    """One home's Zigbee2MQTT: publishes device payloads under `base_topic`."""

    home: str
    base_topic: str = "zigbee2mqtt"
    devices: tuple[SimDevice, ...] = DEFAULT_DEVICES
    rng: random.Random = field(default_factory=random.Random)
    presses: int = 0

    def topic(self, device: str) -> str:
        return f"{self.base_topic}/{device}"

    def device_of_type(self, device_type: str) -> SimDevice:
        for device in self.devices:
            if device.type == device_type:
                return device
        raise LookupError(f"home {self.home} has no {device_type} device")

    async def press_button(self, client: Publisher, action: str = "single") -> None:
        """The elder presses the call button."""
        await client.publish(self.topic(self.device_of_type("button").name), z2m.button_press(action), qos=1)
        self.presses += 1

    async def move(self, client: Publisher, room: str | None = None) -> None:
        """The resident is seen by a motion sensor (in `room`, or a random one)."""
        sensors = [d for d in self.devices if d.type == "motion" and (room is None or d.room == room)]
        sensor = self.rng.choice(sensors)
        await client.publish(self.topic(sensor.name), z2m.motion(True), qos=0)

    async def open_front_door(self, client: Publisher) -> None:
        door = next(d for d in self.devices if d.role == "front_door")
        await client.publish(self.topic(door.name), z2m.contact(True), qos=0)
        await client.publish(self.topic(door.name), z2m.contact(False), qos=0)

    async def everyday_life(self, client: Publisher, *, mean_gap_s: float = 10.0) -> None:
        """Moves through the rooms, now and then through the front door, until cancelled."""
        while True:
            await asyncio.sleep(self.rng.expovariate(1.0 / mean_gap_s))
            if self.rng.random() < 0.05:
                await self.open_front_door(client)
            else:
                await self.move(client)
