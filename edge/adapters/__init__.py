"""Device adapters: a Zigbee2MQTT payload of a known device type becomes canonical readings.

One module per device family, declarative per model (a new model is a table row plus a recorded
payload fixture under tests/fixtures/z2m/). Adapters are pure: no MQTT, no clock, no ids; the agent
stamps those. On any JSON object an adapter returns a list of readings or raises `PayloadError`,
never anything else. `edge.adapters.discovery` reads Zigbee2MQTT's device list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.adapters.base import PayloadError, Reading
from edge.adapters.bed import BED_MAT_MODELS, BedMatSpec, bed_readings
from edge.adapters.buttons import BUTTON_MODELS, ButtonSpec, button_readings
from edge.adapters.radar import RADAR_MODELS, RadarSpec, radar_readings
from edge.adapters.sensors import (
    contact_readings,
    gas_readings,
    motion_readings,
    smoke_readings,
    water_readings,
)
from edge.adapters.wearable import WEARABLE_MODELS, WearableSpec, wearable_readings

Adapter = Callable[[dict[str, Any], str | None], list[Reading]]

ADAPTERS: dict[str, Adapter] = {
    "button": button_readings,
    "motion": motion_readings,
    "contact": contact_readings,
    "smoke": smoke_readings,
    "gas": gas_readings,
    "water": water_readings,
    "radar": radar_readings,
    "wearable": wearable_readings,
    "bed_mat": bed_readings,
}


def readings_for(device_type: str, payload: dict[str, Any], model: str | None = None) -> list[Reading]:
    """The canonical readings in one device payload; raises `PayloadError` on a payload that makes no sense."""
    adapter = ADAPTERS.get(device_type)
    if adapter is None:
        raise PayloadError(f"no adapter for device type {device_type!r}; known: {', '.join(sorted(ADAPTERS))}")
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    if model is not None and not isinstance(model, str):
        raise PayloadError(f"device model must be a Zigbee2MQTT model string, got {model!r:.60}; fix the configuration")
    return adapter(payload, model)


__all__ = [
    "ADAPTERS",
    "BED_MAT_MODELS",
    "BUTTON_MODELS",
    "RADAR_MODELS",
    "WEARABLE_MODELS",
    "Adapter",
    "BedMatSpec",
    "ButtonSpec",
    "PayloadError",
    "RadarSpec",
    "Reading",
    "WearableSpec",
    "readings_for",
]
