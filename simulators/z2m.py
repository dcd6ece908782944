"""Zigbee2MQTT payloads as real devices send them (field names from zigbee-herdsman-converters)."""

from __future__ import annotations

from typing import Any

import msgspec

_encode = msgspec.json.Encoder().encode


def button_press(action: str = "single", *, battery: int = 93, linkquality: int = 120) -> bytes:
    """A call button / SOS pendant press, e.g. Heiman HS1EB: `{"action":"single","battery":93,...}`."""
    return _encode({"action": action, "battery": battery, "linkquality": linkquality})


def motion(occupancy: bool, *, battery: int = 88, linkquality: int = 96) -> bytes:
    """A PIR sensor report: `occupancy` true on motion, false after its timeout."""
    return _encode({"occupancy": occupancy, "battery": battery, "linkquality": linkquality,
                    "tamper": False, "battery_low": False})


def contact(door_open: bool, *, battery: int = 91, linkquality: int = 102) -> bytes:
    """A door contact: Zigbee2MQTT says `contact: true` when the door is closed."""
    return _encode({"contact": not door_open, "battery": battery, "linkquality": linkquality})


def availability(online: bool, *, legacy: bool = False) -> bytes:
    """`{"state":"online"}` (current Zigbee2MQTT) or plain `online` (legacy)."""
    state = "online" if online else "offline"
    return state.encode() if legacy else _encode({"state": state})


def payload(fields: dict[str, Any]) -> bytes:
    """Any other payload, for faults and new device types."""
    return _encode(fields)
