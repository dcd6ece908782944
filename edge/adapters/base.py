"""What adapters return, and the error they raise on payloads that make no sense."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.protocol import EventKind

HEALTH_FIELDS = ("battery", "battery_low", "linkquality", "tamper", "voltage")


class PayloadError(ValueError):
    """A device payload that cannot be read; the agent reports it with this reason and goes on."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One canonical fact in a device payload, before the agent gives it an id, seq and timestamp."""

    kind: EventKind
    value: bool | float | None = None
    data: dict[str, Any] = field(default_factory=dict)


def expect_bool(payload: dict[str, Any], name: str) -> bool | None:
    """The boolean field `name`, None if absent; a wrong type is a `PayloadError`."""
    value = payload.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise PayloadError(f"field {name!r} must be true or false, got {value!r}")


def health_data(payload: dict[str, Any]) -> dict[str, Any]:
    """The device-health fields present in a payload (battery, link quality, tamper...)."""
    return {k: payload[k] for k in HEALTH_FIELDS if payload.get(k) is not None}
