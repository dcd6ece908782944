"""Wearable acceleration: physics the fall model will meet as honest positives and negatives."""

from __future__ import annotations

import numpy as np
import pytest

from simulators import wearable
from simulators.wearable import ACTIVITIES, FALLS, activity, fall, magnitude, random_rotation, read_csv, write_csv

FS = 50.0
SEEDS = range(25)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


@pytest.mark.parametrize("kind", ["standing", "sitting", "lying"])
def test_at_rest_the_magnitude_is_one_g_whatever_the_device_orientation(kind: str) -> None:
    """Guards against gravity added per axis instead of rotated (|a| would vary with the mount), or a missing
    rotation (gravity always on one axis, which no real pendant or wrist band guarantees)."""
    gravity_dirs = []
    for seed in SEEDS:
        samples = activity(kind, 10.0, FS, _rng(seed))
        mag = magnitude(samples)
        assert abs(mag.mean() - 1.0) < 0.03, (seed, mag.mean())
        assert mag.std() < 0.03, (seed, mag.std())
        mean = samples.mean(axis=0)
        gravity_dirs.append(mean / np.linalg.norm(mean))
    dirs = np.array(gravity_dirs)
    # Random mounts: gravity shows up on every axis, with both signs, across seeds.
    for axis in range(3):
        assert dirs[:, axis].min() < -0.3 and dirs[:, axis].max() > 0.3, dirs[:, axis]


def test_random_rotations_are_proper_rotations() -> None:
    """Guards against a reflection or a scaled matrix, which would change |a| or flip handedness."""
    for seed in SEEDS:
        r = random_rotation(_rng(seed))
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)


def _everyday_peaks() -> np.ndarray:
    return np.array([magnitude(activity(kind, 10.0, FS, _rng(seed))).max()
                     for kind in ACTIVITIES for seed in range(15)])


def test_falls_dip_toward_free_fall_then_hit_harder_than_everyday_activities() -> None:
    """Guards against falls that are only a spike (no descent), or impacts a stumble or sitting down
    matches: the fall model needs both the dip and a peak that usually stands out."""
    everyday = _everyday_peaks()
    threshold = np.percentile(everyday, 95)
    assert threshold < 2.6, f"everyday activities peak too high: 95th percentile {threshold:.2f} g"
    above = 0
    total = 0
    for kind in FALLS:
        for seed in range(20):
            samples, impact = fall(kind, FS, _rng(seed))
            mag = magnitude(samples)
            descent = mag[impact - int(FS): impact - 2]
            assert descent.min() < 0.65, (kind, seed, descent.min())  # near free fall before the impact
            assert 2.0 <= mag[impact] <= 8.0 + 1e-9, (kind, seed, mag[impact])
            assert mag[impact] == mag[impact - 10: impact + 11].max()  # the index is the peak
            above += mag[impact] > threshold
            total += 1
    assert above / total >= 0.85, f"only {above}/{total} falls peak above everyday activities' 95th percentile"


def test_falls_dip_lower_than_everyday_activities() -> None:
    """Guards against a descent phase so shallow that walking on stairs looks the same."""
    everyday_min = np.median([magnitude(activity(kind, 10.0, FS, _rng(s))).min() for kind in ACTIVITIES
                              for s in range(10)])
    fall_min = np.median([magnitude(f[0][f[1] - 50: f[1]]).min() for kind in FALLS for s in range(10)
                          for f in [fall(kind, FS, _rng(s))]])
    assert fall_min < 0.4 < everyday_min, (fall_min, everyday_min)


@pytest.mark.parametrize("kind", FALLS)
def test_gravity_points_elsewhere_after_a_fall(kind: str) -> None:
    """Guards against a fall that ends in the posture it started from (a lying body is the strongest cue)."""
    for seed in range(15):
        samples, impact = fall(kind, FS, _rng(seed), pre_s=4.0, post_s=6.0)
        before = samples[impact - int(2.5 * FS): impact - int(1.5 * FS)].mean(axis=0)
        after = samples[-int(1.0 * FS):].mean(axis=0)
        assert _angle_deg(before, after) > 45, (kind, seed, _angle_deg(before, after))
        still = magnitude(samples[-int(2.0 * FS):])
        assert still.std() < 0.03 and abs(still.mean() - 1.0) < 0.05  # lying still afterwards


def test_standing_and_walking_keep_their_posture() -> None:
    """Guards against a drifting orientation that would make everyday activities look like falls."""
    for kind in ("standing", "walking", "stumble", "picking_up"):
        for seed in range(10):
            samples = activity(kind, 10.0, FS, _rng(seed))
            assert _angle_deg(samples[:50].mean(axis=0), samples[-50:].mean(axis=0)) < 20, (kind, seed)


def test_walking_steps_near_two_hertz() -> None:
    """Guards against gait at the wrong frequency: cadence is what tells walking from shaking."""
    for seed in range(20):
        mag = magnitude(activity("walking", 20.0, FS, _rng(seed)))
        spectrum = np.abs(np.fft.rfft((mag - mag.mean()) * np.hanning(len(mag))))
        freqs = np.fft.rfftfreq(len(mag), 1 / FS)
        peak = freqs[1:][np.argmax(spectrum[1:])]
        assert 1.7 <= peak <= 2.1, (seed, peak)


def test_the_same_seed_gives_the_same_signal() -> None:
    """Guards against hidden global randomness: tests and the fall model's data must be reproducible."""
    a, ia = fall("lateral", FS, _rng(42))
    b, ib = fall("lateral", FS, _rng(42))
    c, _ = fall("lateral", FS, _rng(43))
    assert ia == ib
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(activity("walking", 5, FS, _rng(1)), activity("walking", 5, FS, _rng(1)))


def test_shapes_and_impact_position() -> None:
    """Guards against off-by-one windows: callers slice around the impact index."""
    for kind in ACTIVITIES:
        assert activity(kind, 7.3, FS, _rng(0)).shape == (365, 3)
    samples, impact = fall("backward", 100.0, _rng(0), pre_s=3.0, post_s=5.0)
    assert samples.shape == (800, 3)
    assert abs(impact - 300) <= 10


def test_saturation_at_the_sensor_range() -> None:
    """Guards against impossible readings: a +-2 g sensor cannot report a 5 g impact."""
    samples, _ = fall("forward", FS, _rng(3), range_g=2.0)
    assert np.abs(samples).max() == pytest.approx(2.0)
    assert np.abs(fall("forward", FS, _rng(3))[0]).max() <= wearable.DEFAULT_RANGE_G


def test_bad_arguments_say_what_was_expected() -> None:
    """Guards against silent nonsense (a typo in a kind making an empty signal)."""
    with pytest.raises(ValueError, match="expected one of standing"):
        activity("jogging", 5, FS, _rng(0))
    with pytest.raises(ValueError, match="expected one of forward"):
        fall("sideways", FS, _rng(0))
    with pytest.raises(ValueError, match="sitting_down needs at least"):
        activity("sitting_down", 1.0, FS, _rng(0))
    with pytest.raises(ValueError, match="fs must be a positive"):
        activity("standing", 5, 0, _rng(0))


def test_csv_round_trip(tmp_path) -> None:
    """Guards against a CSV the fall detector CLI cannot read: header t,ax,ay,az, time in seconds at fs."""
    samples, _ = fall("from_bed", FS, _rng(5))
    path = write_csv(tmp_path / "fall.csv", samples, FS, t0=10.0)
    assert path.read_text().splitlines()[0] == "t,ax,ay,az"
    t, back = read_csv(path)
    assert len(t) == len(samples)
    np.testing.assert_allclose(np.diff(t), 1 / FS, atol=1e-4)
    assert t[0] == pytest.approx(10.0)
    np.testing.assert_allclose(back, samples, atol=1e-4)
