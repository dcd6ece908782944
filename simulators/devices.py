"""The devices of a simulated home: what each one is, where it is, its state, and the payload it sends.

The default home has the smart safety service package (call pendant, a PIR per room, the front-door
contact, smoke and gas in the kitchen, a water-leak sensor and a fall radar in the bathroom, a wearable)
and a home-care bed's mat. Models are Zigbee2MQTT model ids, so `bridge/devices` and an edge agent's
configuration can both be generated from the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from simulators import z2m

DEVICE_TYPES = ("button", "motion", "contact", "smoke", "gas", "water", "radar", "wearable", "bed_mat")
DEFAULT_MODELS = {
    "button": "HS1EB/HS1EB-E",  # Heiman smart emergency button
    "motion": "SNZB-03",  # SONOFF PIR
    "contact": "SNZB-04",  # SONOFF door contact
    "smoke": "HS1SA",  # Heiman smoke detector
    "gas": "HS1CG",  # Heiman combustible gas sensor (mains)
    "water": "SJCGQ11LM",  # Aqara water leak sensor
    "radar": z2m.DEFAULT_RADAR_MODEL,  # Tuya mmWave presence radar with fall detection
    "wearable": z2m.DEFAULT_WEARABLE_MODEL,
    "bed_mat": z2m.DEFAULT_BED_MAT_MODEL,
}
VITALS_BED_MATS = frozenset({z2m.DEFAULT_BED_MAT_MODEL})  # the other models report presence only
LOW_BATTERY = 15  # %: below this, devices that have the field set `battery_low`
LAST_SEEN_FORMATS = ("ISO_8601", "epoch")  # Zigbee2MQTT's advanced.last_seen settings (besides "disable")


@dataclass(frozen=True, slots=True)
class SimDevice:
    """A device as paired in Zigbee2MQTT: friendly name, type, room, role and model id."""

    name: str
    type: str
    room: str | None
    role: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        if self.type not in DEVICE_TYPES:
            raise ValueError(f"device {self.name!r}: type {self.type!r} is not one of {', '.join(DEVICE_TYPES)}")
        if self.model is None:
            object.__setattr__(self, "model", DEFAULT_MODELS[self.type])

    def as_dict(self) -> dict[str, Any]:
        """`{name, type, room, role, model}`, as an edge agent's configuration lists devices."""
        return {"name": self.name, "type": self.type, "room": self.room, "role": self.role, "model": self.model}


SAFETY_PACKAGE = (
    SimDevice("sos_button", "button", "bedroom", "pendant"),
    SimDevice("bedroom_motion", "motion", "bedroom"),
    SimDevice("living_motion", "motion", "living_room"),
    SimDevice("kitchen_motion", "motion", "kitchen"),
    SimDevice("bathroom_motion", "motion", "bathroom"),
    SimDevice("hallway_motion", "motion", "hallway"),
    SimDevice("front_door", "contact", "hallway", "front_door"),
    SimDevice("kitchen_smoke", "smoke", "kitchen"),
    SimDevice("kitchen_gas", "gas", "kitchen"),
    SimDevice("bathroom_leak", "water", "bathroom"),
    SimDevice("bathroom_radar", "radar", "bathroom", "fall_radar"),
    SimDevice("wearable", "wearable", None, "wearable"),  # moves with the resident
)
HOME_CARE_BED = (SimDevice("bed_mat", "bed_mat", "bedroom", "bed"),)
DEFAULT_DEVICES = SAFETY_PACKAGE + HOME_CARE_BED
BASIC_DEVICES = tuple(d for d in SAFETY_PACKAGE if d.type in ("button", "motion", "contact"))


def parse_devices(raw: Any, where: str = "devices") -> tuple[SimDevice, ...]:
    """Devices from YAML: a list of `{name, type, room, role, model}` (`ValueError` names the bad field)."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: expected a non-empty list of devices with name and type, got {raw!r}")
    devices = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{here}: expected a mapping with name, type, room, role, model; got {item!r}")
        unknown = set(item) - {"name", "type", "room", "role", "model"}
        if unknown:
            raise ValueError(f"{here}.{sorted(unknown)[0]}: unknown device field; expected name, type, room, "
                             f"role, model")
        name = item.get("name")
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"{here}.name: expected a Zigbee2MQTT friendly name without '/', got {name!r}")
        if item.get("type") not in DEVICE_TYPES:
            raise ValueError(f"{here}.type: expected one of {', '.join(DEVICE_TYPES)}, got {item.get('type')!r}")
        for key in ("room", "role", "model"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise ValueError(f"{here}.{key}: expected a string, got {item[key]!r}")
        devices.append(SimDevice(name, item["type"], item.get("room"), item.get("role"), item.get("model")))
    names = [d.name for d in devices]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: friendly names must be unique, got {names}")
    return tuple(devices)


@dataclass(slots=True)
class DeviceState:
    """What changes in a device while it runs: battery, link, availability, its own clock's error."""

    battery: int = 90
    linkquality: int = 100
    online: bool = True
    clock_skew_s: float = 0.0
    steps: int = 0  # wearables: steps today
    extra: dict[str, Any] = field(default_factory=dict)


def last_seen(t: float, fmt: str) -> str | int:
    """Zigbee2MQTT's `last_seen` for epoch seconds `t`: ISO 8601 in UTC with milliseconds, or epoch ms."""
    if fmt == "epoch":
        return round(t * 1000)
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(device: SimDevice, state: DeviceState, reading: dict[str, Any], *, t: float,
           last_seen_format: str | None = None) -> bytes:
    """The payload `device` publishes for `reading`, with its current battery and link quality.

    Readings by type: button `{action}` (or `{}` for a check-in); motion `{occupancy}`; contact
    `{door_open}`; smoke / gas `{alarm}`; water `{leak}`; radar `{presence, fall}`; bed_mat `{in_bed,
    heart_rate, breathing_rate, movement}`; wearable `{summary: True}`, `{burst: (t0, fs, samples)}`,
    `{fall: True}` or `{sos: True}`. A periodic check-in repeats the device's current reading (a button's
    is `{}`, a wearable's the summary).
    """
    kind, s = device.type, state
    low = s.battery < LOW_BATTERY
    if kind == "button" and "action" not in reading:  # a check-in: battery and link only
        body = z2m.payload({"battery": s.battery, "linkquality": s.linkquality})
    elif kind == "button":
        body = z2m.button_press(reading["action"], battery=s.battery, linkquality=s.linkquality)
    elif kind == "motion":
        body = z2m.motion(bool(reading.get("occupancy", False)), battery=s.battery, linkquality=s.linkquality)
    elif kind == "contact":
        body = z2m.contact(bool(reading.get("door_open", False)), battery=s.battery, linkquality=s.linkquality)
    elif kind == "smoke":
        body = z2m.smoke(bool(reading.get("alarm", False)), battery_low=low, battery=s.battery)
    elif kind == "gas":
        body = z2m.gas(bool(reading.get("alarm", False)), linkquality=s.linkquality)
    elif kind == "water":
        body = z2m.water_leak(bool(reading.get("leak", False)), battery=s.battery, battery_low=low)
    elif kind == "radar":
        body = z2m.radar(bool(reading.get("presence", False)), fall=bool(reading.get("fall", False)),
                         model=device.model)
    elif kind == "bed_mat":
        vitals = device.model in VITALS_BED_MATS and reading.get("in_bed", False)
        body = z2m.bed_mat(in_bed=bool(reading.get("in_bed", False)), model=device.model,
                           heart_rate=reading.get("heart_rate") if vitals else None,
                           breathing_rate=reading.get("breathing_rate") if vitals else None,
                           movement=reading.get("movement") if vitals else None)
    elif "burst" in reading:
        t0, fs, samples = reading["burst"]
        body = z2m.wearable_burst(t0 + s.clock_skew_s, fs, samples)
    elif reading.get("fall"):
        body = z2m.wearable_fall()
    elif reading.get("sos"):
        body = z2m.wearable_sos()
    else:
        body = z2m.wearable_summary(battery=s.battery, steps=s.steps)
    if low or last_seen_format:
        fields = msgspec.json.decode(body)
        if low and "battery_low" in fields:
            fields["battery_low"] = True
        if last_seen_format:
            fields["last_seen"] = last_seen(t + s.clock_skew_s, last_seen_format)
        body = z2m.payload(fields)
    return body
