"""Wearable bursts through the shipped fall model: a simulated fall alerts within 2 s, walking does not."""

import numpy as np
import pytest

from gateway.detectors import WearableFalls
from gateway.protocol import AlertType, Event, EventKind

wearable = pytest.importorskip("simulators.wearable", reason="needs the wearable simulator")
T0 = 1_800_000_000.0


def _bursts(xyz: np.ndarray, fs: float, t0: float, chunk_s: float = 1.0) -> list[Event]:
    step = int(chunk_s * fs)
    return [Event(id=f"b{i}", home="h1", device="band", kind=EventKind.ACCEL, ts=t0 + i / fs, seq=i // step,
                  data={"fs": fs, "t0": t0 + i / fs, "x": xyz[i:i + step, 0].tolist(),
                        "y": xyz[i:i + step, 1].tolist(), "z": xyz[i:i + step, 2].tolist()})
            for i in range(0, len(xyz), step)]


def test_a_simulated_fall_alerts_within_two_seconds_of_impact() -> None:
    rng = np.random.default_rng(11)
    xyz, impact = wearable.fall("forward", 50, rng, 8, 8)
    detector = WearableFalls()
    alerts = [a for e in _bursts(xyz, 50, T0) for a in detector.on_event(e, T0)]
    assert [a.type for a in alerts] == [AlertType.FALL]
    evidence = alerts[0].evidence
    assert 0 <= evidence["decided_t"] - (T0 + impact / 50) <= 2.0
    assert alerts[0].model_version.startswith("falls")


def test_walking_and_sitting_down_raise_nothing() -> None:
    rng = np.random.default_rng(12)
    detector = WearableFalls()
    for kind in ("walking", "sitting_down"):
        xyz = wearable.activity(kind, 30, 50, rng)
        assert [a for e in _bursts(xyz, 50, T0) for a in detector.on_event(e, T0)] == []


def test_a_broken_burst_is_refused_without_raising() -> None:
    detector = WearableFalls()
    bad = Event(id="x", home="h1", device="band", kind=EventKind.ACCEL, ts=T0, seq=0,
                data={"fs": 50, "t0": T0, "x": [0.1, "a"], "y": [0, 0], "z": [1, 1]})
    assert detector.on_event(bad, T0) == []
