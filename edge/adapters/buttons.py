"""Call buttons and SOS pendants: which actions of which model mean "help".

Models differ: Tuya's SOS button sends `action: "emergency"`, IAS "sos" zones send `sos: true`,
plain emergency buttons send single/double/hold. A long press is never ignored, whatever the
configured pattern. Zigbee2MQTT may clear `action` with an empty string; that is no press.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.adapters.base import PayloadError, Reading, expect_bool, with_health
from gateway.protocol import EventKind

LONG_PRESS_ACTIONS = frozenset({"hold", "long", "long_press", "press_long"})


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """How one button model asks for help: the `action` values that mean SOS."""

    sos_actions: frozenset[str]


DEFAULT_SPEC = ButtonSpec(sos_actions=frozenset({"single", "double", "emergency", "sos"}) | LONG_PRESS_ACTIONS)
_SINGLE_DOUBLE_HOLD = ButtonSpec(sos_actions=frozenset({"single", "double", "hold"}))

# Keys are Zigbee2MQTT `definition.model` strings; sources in tests/fixtures/z2m/<model>/.
BUTTON_MODELS: dict[str, ButtonSpec] = {
    # heiman.ts: "Smart emergency button", action off/single/double/hold ("off" is the release).
    "HS1EB/HS1EB-E": _SINGLE_DOUBLE_HOLD,
    "HS1EB": _SINGLE_DOUBLE_HOLD,  # the same button as configured by hand before discovery
    "HS1EB-E": _SINGLE_DOUBLE_HOLD,
    # tuya.ts: "SOS button", fz.command_emergency -> action "emergency" only.
    "TS0215A_sos": ButtonSpec(sos_actions=frozenset({"emergency"})),
    # multir.ts: MultIR "SOS Button", action single/double/hold.
    "MIR-SO100": _SINGLE_DOUBLE_HOLD,
    # sonoff.ts: SONOFF "Wireless button", fz.ewelink_action -> single/double/long.
    "SNZB-01": ButtonSpec(sos_actions=frozenset({"single", "double", "long"})),
}


def button_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """An SOS reading when the payload is a help request, then the device's health."""
    spec = BUTTON_MODELS.get(model or "", DEFAULT_SPEC)
    action = payload.get("action")
    if action is not None and not isinstance(action, str):
        raise PayloadError(f"field 'action' must be a string, got {action!r:.60}")
    sos_flag = expect_bool(payload, "sos")
    readings = []
    if sos_flag or (action and (action in spec.sos_actions or action in LONG_PRESS_ACTIONS)):
        readings.append(Reading(EventKind.SOS, True, {"action": action or "sos"}))
    return with_health(readings, payload)
