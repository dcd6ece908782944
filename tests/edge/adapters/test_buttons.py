"""Call buttons: every model's way of asking for help is an SOS; a long press never is ignored."""

import pytest

from edge.adapters import PayloadError, readings_for
from edge.adapters.buttons import BUTTON_MODELS, DEFAULT_SPEC
from gateway.protocol import EventKind


@pytest.mark.parametrize(
    ("payload", "model"),
    [
        ({"action": "single", "battery": 93, "linkquality": 120}, "HS1EB/HS1EB-E"),
        ({"action": "single", "battery": 93, "linkquality": 120}, "HS1EB"),
        ({"action": "hold"}, "HS1EB/HS1EB-E"),
        ({"action": "emergency"}, "TS0215A_sos"),
        ({"action": "double"}, "MIR-SO100"),
        ({"sos": True, "battery": 70}, None),
        ({"action": "long"}, "TS0215A_sos"),  # not in this model's pattern, but a long press is never ignored
        ({"action": "double"}, None),
    ],
)
def test_help_requests_become_sos_first(payload: dict[str, object], model: str | None) -> None:
    """Guards against a model's help gesture being read as nothing, or SOS queued behind health."""
    readings = readings_for("button", payload, model)
    assert readings[0].kind is EventKind.SOS and readings[0].value is True
    assert [r.kind for r in readings[1:]] in ([], [EventKind.DEVICE_HEALTH])


def test_press_carries_its_action_and_health_goes_to_device_health() -> None:
    """Guards against the battery of a pressed button being lost (it only reports it with presses)."""
    sos, health = readings_for("button", {"action": "hold", "battery": 12, "linkquality": 40}, "HS1EB/HS1EB-E")
    assert sos.data == {"action": "hold"}
    assert (health.kind, health.data) == (EventKind.DEVICE_HEALTH, {"battery": 12, "linkquality": 40})


def test_battery_report_without_press_is_device_health_not_sos() -> None:
    readings = readings_for("button", {"battery": 12, "linkquality": 40}, "HS1EB")
    assert [(r.kind, r.data) for r in readings] == [(EventKind.DEVICE_HEALTH, {"battery": 12, "linkquality": 40})]


@pytest.mark.parametrize(("action", "model"), [("single", "TS0215A_sos"), ("off", "HS1EB/HS1EB-E"), ("", None)])
def test_actions_outside_the_models_pattern_are_not_sos(action: str, model: str | None) -> None:
    """Guards against false alarms: HS1EB's "off" is the release, "" is Zigbee2MQTT clearing action."""
    assert readings_for("button", {"action": action}, model) == []


def test_a_garbled_battery_never_costs_the_sos() -> None:
    """Guards against dropping a help request because a side field is unreadable."""
    sos, health = readings_for("button", {"action": "single", "battery": "low"}, "HS1EB/HS1EB-E")
    assert sos.kind is EventKind.SOS
    assert health.data == {"invalid": ["field 'battery' must be a number in [0, 100], got 'low'"]}


@pytest.mark.parametrize("payload", [{"action": 3}, {"sos": "yes"}, {"action": ["single"]}])
def test_wrong_types_are_payload_errors(payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError, match="must be"):
        readings_for("button", payload, None)


def test_every_model_pattern_asks_for_help_somehow() -> None:
    """Guards against a table row that can never raise an SOS."""
    for model, spec in {**BUTTON_MODELS, None: DEFAULT_SPEC}.items():
        assert spec.sos_actions, model
        assert any(readings_for("button", {"action": a}, model) for a in spec.sos_actions), model
