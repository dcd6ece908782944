"""Rotation invariance: how a device is worn (pendant, wrist, belt, pocket) must not change any decision."""

from __future__ import annotations

import numpy as np

from models.falls.features import recording_candidates
from models.falls.training import random_rotation
from tests.models import synth

FS = 50.0


def _alarms(det, acc):
    return [(a.t, round(a.score, 9)) for a in det.detect(np.arange(len(acc)) / FS, acc, fs=FS)]


def test_features_do_not_change_under_rotation(shipped):
    """Guards against a feature that reads a device axis (e.g. 'x is up') and so depends on the mounting."""
    rng = np.random.default_rng(11)
    for _ in range(12):
        acc = synth.fall(rng)[0] if rng.random() < 0.5 else synth.activity("hop", 12.0, rng)
        idx, feats = recording_candidates(acc, trigger_g=shipped.trigger_g, post=shipped.post_samples)
        for _ in range(5):
            idx_r, feats_r = recording_candidates(acc @ random_rotation(rng).T, trigger_g=shipped.trigger_g,
                                                  post=shipped.post_samples)
            np.testing.assert_array_equal(idx_r, idx)
            np.testing.assert_allclose(feats_r, feats, rtol=0, atol=1e-8)


def test_random_rotation_changes_no_decision_on_synthetic_data(shipped, synthetic):
    """Guards against orientation dependence anywhere in the pipeline (trigger, features, stream)."""
    recs, _, _ = synthetic
    rng = np.random.default_rng(12)
    for acc in recs:
        assert _alarms(shipped, acc @ random_rotation(rng).T) == _alarms(shipped, acc)


def test_random_rotation_changes_no_decision_on_real_recordings(shipped, falls_recordings):
    """Guards against orientation dependence on real signals (all 3,484 records, each turned at random)."""
    rng = np.random.default_rng(13)
    accs = [r.acc for r in falls_recordings]
    rotated = [a @ random_rotation(rng).T for a in accs]
    before = shipped.decision_function(accs)
    after = shipped.decision_function(rotated)
    np.testing.assert_array_equal(after >= 0, before >= 0)
    finite = np.isfinite(before)
    np.testing.assert_array_equal(np.isfinite(after), finite)
    np.testing.assert_allclose(after[finite], before[finite], rtol=0, atol=1e-6)
    for k in range(0, len(accs), 97):  # and the streamed alarm times of a sample of them
        assert _alarms(shipped, rotated[k]) == _alarms(shipped, accs[k])
