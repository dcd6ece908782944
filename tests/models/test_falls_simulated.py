"""Extra, honest checks on simulated wearers (simulators/wearable.py, another team's physics): the shipped model
was trained on real data only, so these falls and activities are data it has never seen."""

from __future__ import annotations

import numpy as np
import pytest

wearable = pytest.importorskip("simulators.wearable", reason="simulators/wearable.py is not there yet")

FS = 50.0


@pytest.mark.parametrize("kind", wearable.FALLS)
def test_simulated_falls_are_detected_within_two_seconds(shipped, kind):
    """Guards against a model that only knows the lab protocols (e.g. misses falls from a chair or a bed)."""
    rng = np.random.default_rng(sum(map(ord, kind)))
    hits = 0
    for _ in range(10):
        xyz, impact = wearable.fall(kind, FS, rng)
        alarms = shipped.detect(np.arange(len(xyz)) / FS, xyz, fs=FS)
        if alarms:
            hits += 1
            assert 0 <= alarms[0].t - impact / FS <= 2.0
    assert hits >= 8, f"{kind}: {hits}/10 detected"


def test_simulated_everyday_activity_raises_almost_no_alarm(shipped):
    """Guards against false alarms on ordinary life: one simulated minute of every activity, five times over."""
    rng = np.random.default_rng(7)
    alarms = minutes = 0
    for kind in wearable.ACTIVITIES:
        for _ in range(5):
            xyz = wearable.activity(kind, 60.0, FS, rng)
            alarms += len(shipped.detect(np.arange(len(xyz)) / FS, xyz, fs=FS))
            minutes += 1
    assert alarms / (minutes / 60) <= 1.0, f"{alarms} alarms in {minutes} min"
