"""mmWave presence / fall radars: each model's own fall field, one RadarSpec row each."""

import pytest

from edge.adapters import PayloadError, readings_for
from edge.adapters.radar import DEFAULT_RADAR_MODEL, RADAR_MODELS
from gateway.protocol import EventKind

FALLS = [
    ("MIR-HE200-TY", {"presence": True, "fall_down_status": "fall"}),
    ("HS2FD-EF1-3.0", {"occupancy": True, "fall_status": "fall_alarm"}),
    ("FDS315", {"status": "falling"}),
]


@pytest.mark.parametrize(("model", "payload"), FALLS)
def test_each_models_fall_field_becomes_fall_first(model: str, payload: dict[str, object]) -> None:
    """Guards against missing a fall because radars share no field name."""
    readings = readings_for("radar", payload, model)
    assert [(r.kind, r.value) for r in readings] == [(EventKind.FALL, True), (EventKind.PRESENCE, True)]
    assert readings[0].data["source"] == "radar"


@pytest.mark.parametrize(("model", "payload"), FALLS)
def test_a_fall_field_of_another_model_is_not_a_fall(model: str, payload: dict[str, object]) -> None:
    """Guards against a spec reading fields its model does not have (e.g. a generic `status`)."""
    for other in RADAR_MODELS:
        if other != model and RADAR_MODELS[other].fall_field not in payload:
            kinds = [r.kind for r in readings_for("radar", payload, other)]
            assert EventKind.FALL not in kinds, (model, other)


@pytest.mark.parametrize(("model", "payload", "state"), [
    ("MIR-HE200-TY", {"presence": True, "fall_down_status": "maybe_fall"}, "maybe_fall"),
    ("HS2FD-EF1-3.0", {"occupancy": True, "fall_status": "fall_warning"}, "fall_warning"),
])
def test_a_suspected_fall_is_reported_not_alarmed(model: str, payload: dict[str, object], state: str) -> None:
    """Guards against both false CRITICAL alarms and throwing the radar's suspicion away."""
    [presence] = readings_for("radar", payload, model)
    assert presence.kind is EventKind.PRESENCE and presence.data["fall_state"] == state


@pytest.mark.parametrize(("status", "present"), [("occupied", True), ("sitting", True), ("on_the_bed", True),
                                                 ("low_posture", True), ("unoccupied", False)])
def test_fds315_status_enum_is_presence(status: str, present: bool) -> None:
    [presence] = readings_for("radar", {"status": status}, "FDS315")
    assert (presence.kind, presence.value, presence.data) == (EventKind.PRESENCE, present, {"state": status})


def test_an_unknown_status_is_named_not_guessed() -> None:
    """Guards against reading the converter's "Unknown (n)" as someone present (or absent)."""
    [health] = readings_for("radar", {"status": "Unknown (9)", "linkquality": 120}, "FDS315")
    assert health.kind is EventKind.DEVICE_HEALTH and "Unknown (9)" in health.data["invalid"][0]
    with pytest.raises(PayloadError, match="must be one of"):
        readings_for("radar", {"status": "Unknown (9)"}, "FDS315")


def test_unknown_model_uses_the_default_spec() -> None:
    assert DEFAULT_RADAR_MODEL in RADAR_MODELS
    kinds = [r.kind for r in readings_for("radar", {"presence": True, "fall_down_status": "fall"}, "ZY-M100")]
    assert kinds == [EventKind.FALL, EventKind.PRESENCE]


def test_no_fall_no_presence_is_just_health() -> None:
    assert [r.kind for r in readings_for("radar", {"illuminance": 20, "linkquality": 9}, None)] == [
        EventKind.DEVICE_HEALTH]


@pytest.mark.parametrize(("model", "payload"), [("MIR-HE200-TY", {"presence": "yes"}),
                                                ("MIR-HE200-TY", {"fall_down_status": 2}),
                                                ("HS2FD-EF1-3.0", {"occupancy": 1}), ("FDS315", {"status": 5})])
def test_wrong_types_are_payload_errors(model: str, payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError, match="must be"):
        readings_for("radar", payload, model)
