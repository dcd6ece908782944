"""Bed mats of home-care beds: in-bed presence and vitals, declarative per model."""

import math

import pytest

from edge.adapters import PayloadError, readings_for
from edge.adapters.bed import BED_MAT_MODELS, DEFAULT_BED_MAT_MODEL
from gateway.protocol import EventKind


def test_in_bed_with_vitals() -> None:
    bed, vitals = readings_for("bed_mat", {"occupancy": True, "heart_rate": 58, "breathing_rate": 14.5,
                                           "movement": 3}, None)
    assert (bed.kind, bed.value) == (EventKind.BED, True)
    assert (vitals.kind, vitals.data) == (EventKind.VITALS, {"heart_rate": 58.0, "breathing_rate": 14.5,
                                                             "movement": 3.0})


def test_zero_rates_mean_not_measured_and_are_dropped() -> None:
    """Guards against a 0 bpm "not measured" being alarmed as cardiac arrest."""
    _, vitals = readings_for("bed_mat", {"occupancy": True, "heart_rate": 0, "breathing_rate": 0, "movement": 0},
                             None)
    assert vitals.data == {"movement": 0.0}  # lying still is a movement of 0, not a missing value


def test_only_the_fields_present_are_reported() -> None:
    [bed, vitals] = readings_for("bed_mat", {"occupancy": False, "breathing_rate": 12}, None)
    assert bed.value is False and vitals.data == {"breathing_rate": 12.0}


@pytest.mark.parametrize(("field", "value"), [("heart_rate", 300), ("heart_rate", 412), ("heart_rate", -60),
                                              ("breathing_rate", 80), ("breathing_rate", -1),
                                              ("heart_rate", "60"), ("heart_rate", math.nan),
                                              ("movement", -2), ("movement", math.inf), ("heart_rate", True)])
def test_impossible_vitals_are_left_out_and_named_but_in_bed_survives(field: str, value: object) -> None:
    """Guards against a mat's garbage rate either reaching the vitals detector or blinding bed-exit detection."""
    readings = readings_for("bed_mat", {"occupancy": True, field: value}, None)
    assert [r.kind for r in readings] == [EventKind.BED, EventKind.DEVICE_HEALTH]
    assert f"field {field!r} must be a number" in readings[1].data["invalid"][0]


def test_only_impossible_vitals_are_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="heart_rate"):
        readings_for("bed_mat", {"heart_rate": 999}, None)


def test_spm915_pad_reads_contact_false_as_in_bed() -> None:
    """Guards the SPM915 polarity (IAS alarm_1 = weight on the pad = contact false)."""
    assert readings_for("bed_mat", {"contact": False}, "SPM915")[0].value is True
    assert readings_for("bed_mat", {"contact": True}, "SPM915")[0].value is False


def test_presence_only_models_ignore_vitals_named_fields() -> None:
    """Guards against a presence strap's unrelated fields being read as vitals."""
    readings = readings_for("bed_mat", {"occupancy": True, "heart_rate": 70}, "TS0601_bed_presence_sensor")
    assert [r.kind for r in readings] == [EventKind.BED]


def test_unknown_model_uses_the_homesafe_convention() -> None:
    assert "no-such-mat" not in BED_MAT_MODELS and DEFAULT_BED_MAT_MODEL in BED_MAT_MODELS
    assert readings_for("bed_mat", {"occupancy": True}, "no-such-mat")[0].kind is EventKind.BED


@pytest.mark.parametrize(("model", "payload"), [(None, {"occupancy": "yes"}), ("SPM915", {"contact": 0})])
def test_wrong_in_bed_type_is_a_payload_error(model: str | None, payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError, match="must be true or false"):
        readings_for("bed_mat", payload, model)
