"""Bed mats of home-care beds: in-bed presence and, where the mat measures them, vitals.

Zigbee2MQTT supports bed *presence* pads (Tuya's pressure strap reports `occupancy`, OWON's SPM915 is
an IAS contact zone) but, as of this writing, no Zigbee mat with vitals: Aqara's sleep monitor
(ZNSMBL11LM) is an open request whose proposed names are `heart_rate` and `respiratory_rate`, and
OWON's FDS315 radar exposes `breathing_rate`. The default spec, the HomeSafe bed-mat convention, uses
`occupancy` for in-bed (as the Tuya strap) and `heart_rate`, `breathing_rate`, `movement` for vitals.

Many mats send 0 for a rate they could not measure: 0 is dropped, never reported as a rate. A rate
outside what a body can do is left out of VITALS and named in DEVICE_HEALTH (the mat misreads); it
never costs the in-bed reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.adapters.base import Reading, expect_bool, number_problem, with_health
from gateway.protocol import EventKind


@dataclass(frozen=True, slots=True)
class BedMatSpec:
    """Where one bed-mat model reports in-bed presence and vitals (None: the model does not measure it)."""

    in_bed_field: str = "occupancy"
    in_bed_when: bool = True  # the value of `in_bed_field` that means "in bed"
    heart_rate_field: str | None = "heart_rate"
    breathing_rate_field: str | None = "breathing_rate"
    movement_field: str | None = "movement"


# (vitals key, exclusive low, exclusive high, 0 means "not measured")
_VITALS = (("heart_rate", 0.0, 300.0, True), ("breathing_rate", 0.0, 80.0, True), ("movement", 0.0, 1e6, False))

DEFAULT_BED_MAT_MODEL = "homesafe_bed_mat_v1"
DEFAULT_SPEC = BedMatSpec()
# Keys are Zigbee2MQTT `definition.model` strings; sources in tests/fixtures/z2m/<model>/.
BED_MAT_MODELS: dict[str, BedMatSpec] = {
    DEFAULT_BED_MAT_MODEL: DEFAULT_SPEC,
    # tuya.ts TS0601_bed_presence_sensor "Pressure Sensing Strap/Bed Occupancy Sensor": occupancy.
    "TS0601_bed_presence_sensor": BedMatSpec(heart_rate_field=None, breathing_rate_field=None, movement_field=None),
    # owon.ts SPM915 "Sleeping pad monitor": iasZoneAlarm contact; alarm_1 (weight on the pad) reads as
    # contact false. Polarity taken from the IAS contact mapping, not yet from a recorded payload.
    "SPM915": BedMatSpec(in_bed_field="contact", in_bed_when=False, heart_rate_field=None,
                         breathing_rate_field=None, movement_field=None),
}


def _vitals(spec: BedMatSpec, payload: dict[str, Any], problems: list[str]) -> dict[str, float]:
    fields = {"heart_rate": spec.heart_rate_field, "breathing_rate": spec.breathing_rate_field,
              "movement": spec.movement_field}
    vitals: dict[str, float] = {}
    for key, low, high, zero_unmeasured in _VITALS:
        name = fields[key]
        value = None if name is None else payload.get(name)
        if value is None or (zero_unmeasured and value == 0 and not isinstance(value, bool)):
            continue
        if zero_unmeasured:
            problem = number_problem(name or key, value, low, high, low_open=True, high_open=True)
        else:
            problem = number_problem(name or key, value, low, high, high_open=True)
        if problem:
            problems.append(problem)
        else:
            vitals[key] = float(value)
    return vitals


def bed_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """BED (in bed or not), VITALS with the rates the mat measured, then the device's health."""
    spec = BED_MAT_MODELS.get(model or "", DEFAULT_SPEC)
    readings: list[Reading] = []
    problems: list[str] = []
    state = expect_bool(payload, spec.in_bed_field)
    if state is not None:
        readings.append(Reading(EventKind.BED, state == spec.in_bed_when))
    vitals = _vitals(spec, payload, problems)
    if vitals:
        readings.append(Reading(EventKind.VITALS, None, vitals))
    return with_health(readings, payload, problems)
