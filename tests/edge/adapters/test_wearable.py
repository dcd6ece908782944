"""Wearables: raw accelerometer bursts for the fall model, SOS key, on-device fall flag, summaries."""

import math

import pytest

from edge.adapters import PayloadError, readings_for
from edge.adapters.wearable import MAX_BURST_S
from gateway.protocol import EventKind

T0 = 1_767_225_600.0


def burst(n: int = 50, fs: float = 50, **changes: object) -> dict[str, object]:
    axes = {"x": [0.01 * (i % 100) for i in range(n)], "y": [0.0] * n, "z": [1.0] * n}
    return {"accel": {"fs": fs, "t0": T0, **axes, **changes}}


def test_burst_becomes_accel_in_g_with_floats() -> None:
    """Guards against the fall model receiving ints, strings or a reshaped burst."""
    [accel] = readings_for("wearable", burst(n=3, x=[0, 1, -2]), None)
    assert accel.kind is EventKind.ACCEL and accel.value is None
    assert accel.data == {"fs": 50.0, "t0": T0, "x": [0.0, 1.0, -2.0], "y": [0.0] * 3, "z": [1.0] * 3}
    assert all(isinstance(v, float) for axis in "xyz" for v in accel.data[axis])


@pytest.mark.parametrize("fs", [5, 50, 1000])
def test_thirty_seconds_at_any_allowed_rate_is_accepted(fs: float) -> None:
    n = int(MAX_BURST_S * fs)
    assert readings_for("wearable", burst(n=n, fs=fs), None)[0].kind is EventKind.ACCEL


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (burst(y=[0.0] * 49), "equal lengths"),
        (burst(n=0), "no samples"),
        (burst(n=1501, fs=50), "at most 30 s"),
        (burst(fs=4), "sample rate"),
        (burst(fs=1001), "sample rate"),
        (burst(fs=math.nan), "sample rate"),
        (burst(fs="50"), "sample rate"),
        (burst(t0=-1), "epoch seconds"),
        (burst(x=[0.0] * 49 + [math.inf]), r"accel.x\[49\] must be a finite number"),
        (burst(z=[1.0] * 49 + [None]), r"accel.z\[49\]"),
        (burst(y=[0.0] * 49 + [True]), r"accel.y\[49\]"),
        (burst(x=[4096.0] * 50), "within"),  # raw ADC counts mistaken for g
        ({"accel": [[0, 0, 1]]}, "must be an object"),
        (burst(x="0,0,0"), "must be a list"),
    ],
)
def test_malformed_bursts_are_payload_errors_saying_why(payload: dict[str, object], reason: str) -> None:
    """Guards against feeding the fall model a burst it would misread (or choke on)."""
    with pytest.raises(PayloadError, match=reason):
        readings_for("wearable", payload, None)


def test_a_huge_burst_is_refused_before_it_is_read() -> None:
    """Guards against a hostile 10^6-sample burst costing the hub a long loop."""
    n = 1_000_000
    with pytest.raises(PayloadError, match="at most"):
        readings_for("wearable", {"accel": {"fs": 5, "t0": T0, "x": [0.0] * n, "y": [0.0] * n, "z": [0.0] * n}}, None)


def test_sos_key_fall_flag_and_summary() -> None:
    assert [(r.kind, r.value) for r in readings_for("wearable", {"action": "sos"}, None)] == [(EventKind.SOS, True)]
    [fall] = readings_for("wearable", {"fall": True}, None)
    assert (fall.kind, fall.value, fall.data) == (EventKind.FALL, True, {"source": "wearable"})
    [health] = readings_for("wearable", {"battery": 80, "steps": 1200}, None)
    assert (health.kind, health.data) == (EventKind.DEVICE_HEALTH, {"battery": 80})


def test_alarms_come_before_the_burst_in_one_message() -> None:
    """Guards against an SOS or fall waiting behind a large burst in the spool order."""
    payload = {"fall": True, "action": "sos", **burst(), "battery": 50}
    assert [r.kind for r in readings_for("wearable", payload, None)] == [
        EventKind.SOS, EventKind.FALL, EventKind.ACCEL, EventKind.DEVICE_HEALTH]


def test_fall_false_and_other_actions_are_nothing() -> None:
    assert readings_for("wearable", {"fall": False, "action": "single"}, None) == []


@pytest.mark.parametrize("payload", [{"fall": "yes"}, {"action": 1}])
def test_wrong_types_are_payload_errors(payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError, match="must be"):
        readings_for("wearable", payload, None)
