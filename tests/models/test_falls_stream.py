"""The streaming API: chunking never changes alarms, no alarm precedes its impact, latency <= 2 s."""

from __future__ import annotations

import numpy as np
import pytest

from models.falls import STAGE_IMPACT, STAGE_STILL_DOWN, FallDetector, Resampler
from tests.models import synth

FS = 50.0


def _push_in_chunks(det: FallDetector, t, xyz, sizes, *, fs=FS, **kw):
    stream = det.stream(fs, **kw)
    alarms, lo, k = [], 0, 0
    while lo < len(t):
        n = int(sizes[k % len(sizes)])
        alarms.extend(stream.push(t[lo:lo + n], xyz[lo:lo + n]))
        lo, k = lo + n, k + 1
    return alarms


def _long_day(seed: int) -> tuple[np.ndarray, list[float]]:
    """Activities with three falls separated by more than the refractory period; also the impact times."""
    rng = np.random.default_rng(seed)
    parts, impacts, n = [], [], 0
    for kind in ("walk", "hop", "sit", "stand"):
        parts.append(synth.activity(kind, 15.0, rng))
        n += len(parts[-1])
        xyz, i = synth.fall(rng, post_s=30.0)
        parts.append(xyz)
        impacts.append((n + i) / FS)
        n += len(xyz)
    return np.concatenate(parts), impacts


def test_chunked_pushes_of_any_size_equal_one_push(shipped):
    """Guards against chunk-boundary bugs in the ring buffer: live bursts must alarm exactly like a batch."""
    xyz, _ = _long_day(1)
    t = 100.0 + np.arange(len(xyz)) / FS
    whole = shipped.stream(FS).push(t, xyz)
    assert len(whole) >= 3
    rng = np.random.default_rng(0)
    for sizes in ([1], [7], [50], [333], rng.integers(1, 120, 40), rng.integers(1, 4, 50)):
        chunked = _push_in_chunks(shipped, t, xyz, sizes)
        assert [(a.t, a.stage, a.t_impact) for a in chunked] == [(a.t, a.stage, a.t_impact) for a in whole]
        np.testing.assert_allclose([a.score for a in chunked], [a.score for a in whole], rtol=0, atol=1e-12)


def test_stream_equals_batch_decision_function(shipped, synthetic):
    """Guards against the batch path (training, evaluation) and the stream disagreeing on what alarms."""
    recs, _, _ = synthetic
    decided = shipped.decision_function(recs) >= 0
    streamed = [bool(shipped.detect(np.arange(len(r)) / FS, r, fs=FS)) for r in recs]
    assert decided.tolist() == streamed


def test_alarms_follow_their_impact_within_two_seconds(shipped):
    """Guards against look-ahead (an alarm before the impact) and against a decision later than 2 s."""
    rng = np.random.default_rng(5)
    for _ in range(30):
        xyz, impact = synth.fall(rng)
        alarms = shipped.detect(np.arange(len(xyz)) / FS, xyz, fs=FS)
        assert len(alarms) == 1
        latency = alarms[0].t - impact / FS
        assert 0 <= latency <= 2.0
        assert alarms[0].t_impact <= alarms[0].t
        assert alarms[0].stage == STAGE_IMPACT and 0.5 <= alarms[0].score <= 1


def test_no_alarm_is_reported_before_its_samples_arrive(shipped):
    """Guards against a stream reporting an alarm whose time lies after the newest sample it was given."""
    xyz, _ = _long_day(2)
    t = np.arange(len(xyz)) / FS
    stream = shipped.stream(FS)
    for lo in range(0, len(t), 37):
        for alarm in stream.push(t[lo:lo + 37], xyz[lo:lo + 37]):
            assert alarm.t <= t[min(lo + 36, len(t) - 1)]


def test_one_fall_gives_one_alarm_and_separate_falls_each_alarm(shipped):
    """Guards against alarm storms from one fall (bounces, rolling) and against a refractory that eats falls."""
    xyz, impacts = _long_day(3)
    alarms = shipped.detect(np.arange(len(xyz)) / FS, xyz, fs=FS)
    assert len(alarms) == len(impacts)
    for alarm, impact in zip(alarms, impacts, strict=True):
        assert 0 <= alarm.t - impact <= 2.0
    rng = np.random.default_rng(9)
    first, _ = synth.fall(rng, post_s=3.0)
    bounce, _ = synth.fall(rng, pre_s=1.5, post_s=10.0, mount=np.eye(3))
    both = np.concatenate([first, bounce])
    assert len(shipped.detect(np.arange(len(both)) / FS, both, fs=FS)) == 1


@pytest.mark.parametrize("fs", [25.0, 100.0, 200.0])
def test_other_rates_are_resampled_and_still_detected(shipped, fs):
    """Guards against a device at another rate being fed to a 50 Hz model unconverted (wrong timing)."""
    rng = np.random.default_rng(int(fs))
    xyz50, impact = synth.fall(rng)
    t50 = np.arange(len(xyz50)) / FS
    t = np.arange(0, t50[-1], 1 / fs)
    xyz = np.column_stack([np.interp(t, t50, xyz50[:, c]) for c in range(3)])
    whole = shipped.detect(t, xyz)  # rate inferred from t
    assert len(whole) == 1 and 0 <= whole[0].t - impact / FS <= 2.0 + 2 / fs
    chunked = _push_in_chunks(shipped, t, xyz, [1, 13, 64], fs=fs)
    assert [(a.t, a.stage) for a in chunked] == [(a.t, a.stage) for a in whole]


def test_resampler_is_chunk_invariant_and_on_a_50_hz_grid():
    """Guards against resampling output that drifts or depends on how the input was chunked."""
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.008, 0.012, 2000))  # ~100 Hz with jitter
    x = rng.normal(size=(2000, 3))
    whole_t, whole_x = Resampler(100.0).push(t, x)
    r = Resampler(100.0)
    parts = [r.push(t[lo:lo + n], x[lo:lo + n]) for lo, n in zip(range(0, 2000, 91), [91] * 30, strict=False)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), whole_t)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), whole_x)
    np.testing.assert_allclose(np.diff(whole_t), 1 / FS, atol=1e-9)
    assert whole_t[-1] <= t[-1]


def test_still_down_escalates_only_when_the_wearer_stays_down(shipped):
    """Guards against the optional second alarm firing for someone who got up (or never firing at all)."""
    rng = np.random.default_rng(4)
    down, impact = synth.fall(rng, post_s=40.0)
    t = np.arange(len(down)) / FS
    alarms = _push_in_chunks(shipped, t, down, [25], still_down_s=30.0)
    assert [a.stage for a in alarms] == [STAGE_IMPACT, STAGE_STILL_DOWN]
    assert alarms[1].t == pytest.approx(impact / FS + 30.0)
    fell, _ = synth.fall(rng, post_s=5.0)
    got_up = np.concatenate([fell, synth.activity("walk", 35.0, rng, mount=np.eye(3))])
    stages = [a.stage for a in shipped.detect(np.arange(len(got_up)) / FS, got_up, fs=FS)]
    assert STAGE_STILL_DOWN not in stages
    stream = shipped.stream(FS, still_down_s=30.0)
    assert [a.stage for a in stream.push(np.arange(len(got_up)) / FS, got_up)] == [STAGE_IMPACT]


def test_bad_chunks_are_refused_with_a_clear_error(shipped):
    """Guards against silently mis-aligned input: wrong shapes, time going backwards, NaN."""
    stream = shipped.stream(FS)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        stream.push(np.arange(5) / FS, np.zeros((5, 2)))
    stream.push(np.arange(5) / FS, np.tile([0, 0, 1.0], (5, 1)))
    with pytest.raises(ValueError, match="increase"):
        stream.push(np.arange(5) / FS, np.tile([0, 0, 1.0], (5, 1)))
    with pytest.raises(ValueError, match="NaN"):
        stream.push(np.array([1.0]), np.array([[np.nan, 0, 1]]))
    assert stream.push(np.empty(0), np.empty((0, 3))) == []
