"""mmWave presence and fall radars: presence, and a fall when the model's own fall field says so.

Fall radars share no field: Tuya's MIR-HE200-TY has `fall_down_status`, Heiman's HS2FD-EF1-3.0
`fall_status`, OWON's FDS315 folds presence and falling into one `status` enum. Each model is one
`RadarSpec` row. Only a confirmed fall becomes FALL; a suspected one (`maybe_fall`, `fall_warning`)
rides along in the PRESENCE reading's data as `fall_state`, for the gateway to weigh, not to alarm on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.adapters.base import PayloadError, Reading, expect_bool, expect_str, with_health
from gateway.protocol import EventKind


@dataclass(frozen=True, slots=True)
class RadarSpec:
    """Where one radar model reports presence and falls.

    Args:
        presence_field: the field that says someone is there.
        present_values: for an enum presence field, the values meaning "someone is there";
            None when the field is a plain boolean.
        absent_values: for an enum presence field, the values meaning "nobody".
        fall_field: the field that reports falls, None if the model has none.
        fall_values: values of `fall_field` that are a confirmed fall.
        suspect_values: values of `fall_field` that are a suspected fall (reported, not alarmed).
    """

    presence_field: str = "presence"
    present_values: frozenset[str] | None = None
    absent_values: frozenset[str] = frozenset()
    fall_field: str | None = None
    fall_values: frozenset[Any] = frozenset()
    suspect_values: frozenset[Any] = frozenset()


# Keys are Zigbee2MQTT `definition.model` strings; sources in tests/fixtures/z2m/<model>/.
RADAR_MODELS: dict[str, RadarSpec] = {
    # tuya.ts MIR-HE200-TY "Human presence sensor with fall function": presence (binary),
    # fall_down_status enum from tuyaRadar.fallDown {0: none, 1: maybe_fall, 2: fall}.
    "MIR-HE200-TY": RadarSpec(presence_field="presence", fall_field="fall_down_status",
                              fall_values=frozenset({"fall"}), suspect_values=frozenset({"maybe_fall"})),
    # heiman.ts HS2FD-EF1-3.0 "Fall Detection Sensor": occupancy (binary),
    # fall_status normal / fall_warning / fall_alarm / unknown.
    "HS2FD-EF1-3.0": RadarSpec(presence_field="occupancy", fall_field="fall_status",
                               fall_values=frozenset({"fall_alarm"}), suspect_values=frozenset({"fall_warning"})),
    # owon.ts FDS315 "Fall Detection Sensor": status unoccupied / occupied / sitting / on_the_bed /
    # low_posture / falling ("Unknown (n)" for codes the converter does not know).
    "FDS315": RadarSpec(presence_field="status",
                        present_values=frozenset({"occupied", "sitting", "on_the_bed", "low_posture", "falling"}),
                        absent_values=frozenset({"unoccupied"}),
                        fall_field="status", fall_values=frozenset({"falling"})),
}
DEFAULT_RADAR_MODEL = "MIR-HE200-TY"
DEFAULT_SPEC = RADAR_MODELS[DEFAULT_RADAR_MODEL]


def _presence(spec: RadarSpec, payload: dict[str, Any], problems: list[str]) -> Reading | None:
    if spec.present_values is None:
        present = expect_bool(payload, spec.presence_field)
        return None if present is None else Reading(EventKind.PRESENCE, present)
    state = expect_str(payload, spec.presence_field)
    if state is None:
        return None
    if state in spec.present_values or state in spec.absent_values:
        return Reading(EventKind.PRESENCE, state in spec.present_values, {"state": state})
    known = sorted(spec.present_values | spec.absent_values)
    problems.append(f"field {spec.presence_field!r} must be one of {', '.join(known)}, got {state!r:.60}")
    return None


def radar_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """FALL when the model's fall field confirms one, PRESENCE, then the device's health."""
    spec = RADAR_MODELS.get(model or "", DEFAULT_SPEC)
    readings: list[Reading] = []
    problems: list[str] = []
    fall_state = payload.get(spec.fall_field) if spec.fall_field else None
    if fall_state is not None and not isinstance(fall_state, str | bool):
        raise PayloadError(f"field {spec.fall_field!r} must be a string or true/false, got {fall_state!r:.60}")
    if fall_state is not None and fall_state in spec.fall_values:
        readings.append(Reading(EventKind.FALL, True, {"source": "radar", spec.fall_field: fall_state}))
    presence = _presence(spec, payload, problems)
    if presence is not None:
        if fall_state is not None and fall_state in spec.suspect_values:
            presence = Reading(presence.kind, presence.value, {**presence.data, "fall_state": fall_state})
        readings.append(presence)
    return with_health(readings, payload, problems)
