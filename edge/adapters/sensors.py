"""Binary room sensors: PIR motion and door contacts."""

from __future__ import annotations

from typing import Any

from edge.adapters.base import Reading, expect_bool, health_data
from gateway.protocol import EventKind


def _with_health(readings: list[Reading], payload: dict[str, Any]) -> list[Reading]:
    health = health_data(payload)
    if health and not readings:
        return [Reading(EventKind.DEVICE_HEALTH, None, health)]
    return readings


def motion_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """`occupancy: true|false` becomes a MOTION reading."""
    occupancy = expect_bool(payload, "occupancy")
    return _with_health([] if occupancy is None else [Reading(EventKind.MOTION, occupancy)], payload)


def contact_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """Zigbee2MQTT's `contact: true` means the magnet is near: the door is *closed*; DOOR carries open."""
    contact = expect_bool(payload, "contact")
    return _with_health([] if contact is None else [Reading(EventKind.DOOR, not contact)], payload)
