"""Fixtures of the model tests: the falls data when present (skip otherwise), synthetic data, the shipped model."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.falls import FallDetector
from tests.models import synth

FALLS_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "falls"


@pytest.fixture(scope="session")
def falls_recordings():
    """Every recording of ../shared/data/falls, or a skip saying the data is absent (it is not shipped)."""
    if not (FALLS_DATA / "load.py").is_file():
        pytest.skip(f"falls data absent: {FALLS_DATA} has no load.py (UMAFall + MobiFall are not in the repo; "
                    "put shared/data/falls beside the repository to run the real-data tests)")
    from models.falls.training import load_recordings

    return load_recordings(FALLS_DATA)


@pytest.fixture(scope="session")
def clean_recordings(falls_recordings):
    """The real recordings without the sensor-fault ones (an axis stuck near 0.25 g)."""
    from models.falls.training import sensor_fault

    return [r for r in falls_recordings if not sensor_fault(r.acc)]


@pytest.fixture(scope="session")
def synthetic():
    """(recordings, labels, subject ids) of synthetic falls and activities, 72 recordings."""
    return synth.dataset(seed=0)


@pytest.fixture(scope="session")
def shipped() -> FallDetector:
    """The default model shipped in models/artifacts/falls.json."""
    return FallDetector.from_artifact()
