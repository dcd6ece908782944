"""What adapters return, the error they raise on payloads that make no sense, and field readers.

Two kinds of fields. A device's *primary* field (a button's action, a sensor's occupancy or smoke, a
radar's presence) is read strictly: a wrong type is a `PayloadError`, because Zigbee2MQTT never sends
one and the payload cannot be trusted. *Side* fields (battery, link quality, voltage, vitals) never
cost the message: an unreadable one is left out and named under `invalid` in the DEVICE_HEALTH
reading (a sensor reporting impossible values is a device-health problem), so an SOS or a smoke alarm
is never dropped because a battery field is garbled. A payload with nothing readable but problems is a
`PayloadError`, so the agent counts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gateway.protocol import EventKind

HEALTH_FIELDS = ("battery", "battery_low", "linkquality", "tamper", "voltage")
_NUMBER_RANGES = {"battery": (0.0, 100.0), "linkquality": (0.0, 255.0), "voltage": (0.0, math.inf)}


class PayloadError(ValueError):
    """A device payload that cannot be read; the agent reports it with this reason and goes on."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One canonical fact in a device payload, before the agent gives it an id, seq and timestamp."""

    kind: EventKind
    value: bool | float | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expect_bool(payload: dict[str, Any], name: str) -> bool | None:
    """The boolean field `name`, None if absent or null; a wrong type is a `PayloadError`."""
    value = payload.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise PayloadError(f"field {name!r} must be true or false, got {_short(value)}")


def expect_str(payload: dict[str, Any], name: str) -> str | None:
    """The string field `name`, None if absent or null; a wrong type is a `PayloadError`."""
    value = payload.get(name)
    if value is None or isinstance(value, str):
        return value
    raise PayloadError(f"field {name!r} must be a string, got {_short(value)}")


def as_number(value: Any) -> float | None:
    """`value` as a finite float if it is a JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def number_problem(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
                   high_open: bool = False) -> str | None:
    """Why `value` is not a number in the range for field `name`, or None if it is."""
    number = as_number(value)
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    expected = f"a number in {lo}{low:g}, {high:g}{hi}"
    if number is None:
        return f"field {name!r} must be {expected}, got {_short(value)}"
    too_low = number <= low if low_open else number < low
    too_high = number >= high if high_open else number > high
    if too_low or too_high:
        return f"field {name!r} must be {expected}, got {_short(value)}"
    return None


def read_health(payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The readable device-health fields in a payload, and what is wrong with the others."""
    health: dict[str, Any] = {}
    problems: list[str] = []
    for name in HEALTH_FIELDS:
        value = payload.get(name)
        if value is None:
            continue
        if name in _NUMBER_RANGES:
            low, high = _NUMBER_RANGES[name]
            problem = number_problem(name, value, low, high)
        else:
            problem = None if isinstance(value, bool) else f"field {name!r} must be true or false, got {_short(value)}"
        if problem:
            problems.append(problem)
        else:
            health[name] = value
    return health, problems


def health_data(payload: dict[str, Any]) -> dict[str, Any]:
    """The readable device-health fields present in a payload (battery, link quality, tamper...)."""
    return read_health(payload)[0]


def with_health(readings: list[Reading], payload: dict[str, Any], problems: list[str] | None = None) -> list[Reading]:
    """`readings`, then a DEVICE_HEALTH reading with the payload's health fields and any unreadable side fields.

    Raises `PayloadError` when there were problems and nothing readable at all is left.
    """
    health, health_problems = read_health(payload)
    invalid = [*(problems or []), *health_problems]
    if invalid and not readings and not health:
        raise PayloadError("; ".join(invalid))
    if invalid:
        health["invalid"] = invalid
    if health:
        return [*readings, Reading(EventKind.DEVICE_HEALTH, None, health)]
    return readings
