"""Device adapters: a Zigbee2MQTT payload of a known device type becomes canonical readings.

One module per device family, declarative per model (a new model is a table row plus a recorded
payload fixture). Adapters are pure: no MQTT, no clock, no ids; the agent stamps those.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.adapters.base import PayloadError, Reading
from edge.adapters.buttons import button_readings
from edge.adapters.sensors import contact_readings, motion_readings

Adapter = Callable[[dict[str, Any], str | None], list[Reading]]

ADAPTERS: dict[str, Adapter] = {
    "button": button_readings,
    "motion": motion_readings,
    "contact": contact_readings,
}


def readings_for(device_type: str, payload: dict[str, Any], model: str | None = None) -> list[Reading]:
    """The canonical readings in one device payload; raises `PayloadError` on a payload that makes no sense."""
    adapter = ADAPTERS.get(device_type)
    if adapter is None:
        raise PayloadError(f"no adapter for device type {device_type!r}; known: {', '.join(sorted(ADAPTERS))}")
    return adapter(payload, model)


__all__ = ["ADAPTERS", "PayloadError", "Reading", "readings_for"]
