"""Binary room and hazard sensors: PIR motion, door contacts, smoke, gas and water leak.

Zigbee2MQTT gives each of these one boolean field whatever the vendor (its IAS zone types map to
`occupancy`, `contact`, `smoke`, `gas`, `water_leak`; see `IAS_EXPOSE_LOOKUP` in
zigbee-herdsman-converters' modernExtend), so the table is per device type, not per model.
`contact: true` means the magnet is near: the door is *closed*; DOOR carries open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.adapters.base import Reading, expect_bool, with_health
from gateway.protocol import EventKind


@dataclass(frozen=True, slots=True)
class BinarySensorSpec:
    """Which boolean field a sensor type reports, the canonical kind it becomes, and whether to invert it."""

    field: str
    kind: EventKind
    invert: bool = False


SENSOR_TYPES: dict[str, BinarySensorSpec] = {
    "motion": BinarySensorSpec("occupancy", EventKind.MOTION),
    "contact": BinarySensorSpec("contact", EventKind.DOOR, invert=True),
    "smoke": BinarySensorSpec("smoke", EventKind.SMOKE),
    "gas": BinarySensorSpec("gas", EventKind.GAS),
    "water": BinarySensorSpec("water_leak", EventKind.WATER),
}


def binary_readings(spec: BinarySensorSpec, payload: dict[str, Any]) -> list[Reading]:
    """The sensor's canonical reading (if its field is present), then its health.

    Smoke and gas detectors report `test: true` while their test button is held; the reading says so
    in its data, so the gateway can tell a drill from a fire.
    """
    state = expect_bool(payload, spec.field)
    readings = []
    if state is not None:
        data = {"test": True} if payload.get("test") is True else {}
        readings.append(Reading(spec.kind, state != spec.invert, data))
    return with_health(readings, payload)


def motion_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """`occupancy: true|false` becomes a MOTION reading."""
    return binary_readings(SENSOR_TYPES["motion"], payload)


def contact_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """Zigbee2MQTT's `contact: true` means closed; DOOR carries open."""
    return binary_readings(SENSOR_TYPES["contact"], payload)


def smoke_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """`smoke: true|false` becomes a SMOKE reading; tamper and battery-low go to DEVICE_HEALTH."""
    return binary_readings(SENSOR_TYPES["smoke"], payload)


def gas_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """`gas: true|false` becomes a GAS reading."""
    return binary_readings(SENSOR_TYPES["gas"], payload)


def water_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """`water_leak: true|false` becomes a WATER reading."""
    return binary_readings(SENSOR_TYPES["water"], payload)
