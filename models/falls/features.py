"""The trigger and the rotation-invariant features of a candidate fall, on 50 Hz acceleration in g.

Everything here is a pure numpy function of the sample array, so a stream and a batch over the same samples
compute bit-identical candidates and features. Nothing depends on how the device is mounted: the trigger reads
|a|, and the features are norms, variances (traces of covariance matrices) and the angle between two gravity
estimates, which any rotation of the device frame leaves unchanged.

Window geometry, in samples at 50 Hz, relative to the impact sample `i` (the candidate):

    pre posture  [i-125, i-50)    2.5 s to 1 s before impact: gravity direction and activity before
    descent      [i-50, i)        the last second before impact: free fall (|a| well below 1 g)
    impact       [i-10, i+10]     the shock: peak |a| and jerk of |a|
    post         [i+25, i+post]   0.5 s after impact to the decision: new gravity direction, stillness
    settle       the last 0.5 s of the post window
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FS = 50.0
"""The model's sample rate (Hz): every input is resampled to it."""

NMS_HALF = 50
"""A candidate is the largest |a| within ±1 s (non-maximum suppression), so one impact gives one candidate."""
PRE_START, PRE_STOP = -125, -50
DESCENT_START = -50
IMPACT_HALF = 10
POST_START = 25
SETTLE = 25
TIE_G = 1e-6
"""Comparisons of |a| against thresholds and neighbours ignore differences below 1 µg. Real data is quantised
(e.g. 1/2048 g), so equal peaks (a plateau at saturation) and values exactly at a threshold are common; a
rotation of the device changes |a| by ~1e-15 g and must not break such ties the other way."""
FEATURE_DECIMALS = 9
"""Features are rounded to 1e-9. The trees split at values seen in training, and quantised recordings repeat
values exactly; a rotation moves a feature by ~1e-15, which must not carry it across such a split."""
HISTORY = -PRE_START
"""Samples needed before a candidate; a stream starts with this many copies of its first sample."""

FEATURE_NAMES = (
    "log_peak",  # log of peak |a| (g) at impact
    "descent_min",  # lowest |a| (g) in the second before impact: free fall reads near 0
    "descent_deficit",  # mean of max(1 - |a|, 0) over that second (g·s): the speed gravity added, in g·s
    "log_jerk",  # log(1 + max |d|a|/dt|) (g/s) around impact
    "tilt_deg",  # angle between the gravity direction before the event and after it (degrees)
    "log_post_motion",  # log(0.01 + sqrt(trace of the covariance of a)) after impact: lying still is low
    "pre_vigour",  # the same before the event (not logged), floored at VIGOUR_FLOOR_G: see below
    "post_level",  # |mean |a| after impact - 1| (g): off 1 g while still moving
    "impact_s",  # time |a| spends above 1.5 g within ±0.5 s of impact (s)
    "net_dv",  # integral of (|a| - 1) from 1 s before to 0.5 s after impact (g·s)
    "log_settle",  # log(0.01 + std of |a|) over the last 0.5 s before the decision
)
VIGOUR_FLOOR_G = 0.6
"""Activity before the event is floored at 0.6 g (brisk walking reads 0.2-0.6 g): in this data the falls start
from standing still, and an unfloored feature would learn "no fall while walking", which real falls of older
adults (mostly while walking or transferring) contradict. Only vigorous activity (jogging, hopping, clapping)
counts against a fall."""
N_FEATURES = len(FEATURE_NAMES)


def magnitude(xyz: np.ndarray) -> np.ndarray:
    """|a| per sample of an (N, 3) array, in the array's unit."""
    return np.sqrt(np.einsum("ij,ij->i", xyz, xyz))


def find_candidates(mag: np.ndarray, *, trigger_g: float, start: int, stop: int) -> np.ndarray:
    """Indices `i` in [start, stop) with |a| above trigger_g that are the ±1 s maximum of |a|.

    A candidate is larger than the second before it and at least as large as the second after it, so of equal
    peaks only the first counts (equal within TIE_G). `mag` must hold NMS_HALF samples on either side of the range.
    """
    if stop <= start:
        return np.empty(0, dtype=np.intp)
    lo = start - NMS_HALF
    if lo < 0 or stop + NMS_HALF > len(mag):
        raise ValueError(f"need {NMS_HALF} samples around [{start}, {stop}), have {len(mag)} from index 0")
    centre = mag[start:stop]
    hot = np.flatnonzero(centre >= trigger_g + TIE_G)
    if hot.size == 0:
        return hot
    windows = sliding_window_view(mag[lo:stop + NMS_HALF], NMS_HALF)
    before = windows[hot].max(axis=1)  # mag[i-50 .. i-1]
    after = windows[hot + NMS_HALF + 1].max(axis=1)  # mag[i+1 .. i+50]
    peak = centre[hot]
    return (hot[(peak > before + TIE_G) & (peak >= after - TIE_G)] + start).astype(np.intp)


def _gather(values: np.ndarray, idx: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """values[i+lo : i+hi] for every i in idx, stacked: shape (len(idx), hi-lo, ...)."""
    return values[idx[:, None] + np.arange(lo, hi)]


def _motion(win: np.ndarray) -> np.ndarray:
    """sqrt of the trace of the covariance of each (k, n, 3) window: rotation-invariant activity (g)."""
    return np.sqrt(win.var(axis=1).sum(axis=1))


def candidate_features(xyz: np.ndarray, mag: np.ndarray, idx: np.ndarray, *, post: int) -> np.ndarray:
    """Feature matrix (len(idx), N_FEATURES) of the candidates `idx` (see FEATURE_NAMES).

    Args:
        xyz: (N, 3) acceleration in g at 50 Hz, any orientation.
        mag: |a| of xyz.
        idx: candidate (impact) indices, each with HISTORY samples before it and `post` samples after it.
        post: samples from impact to the decision (the post window ends there).
    """
    idx = np.asarray(idx, dtype=np.intp)
    out = np.empty((len(idx), N_FEATURES))
    if len(idx) == 0:
        return out
    if idx.min() < HISTORY or idx.max() + post >= len(mag) or post < POST_START + SETTLE:
        raise ValueError(f"candidates need {HISTORY} samples before and post={post} (>= {POST_START + SETTLE}) "
                         "samples after them")
    pre = _gather(xyz, idx, PRE_START, PRE_STOP)
    after = _gather(xyz, idx, POST_START, post + 1)
    after_mag = _gather(mag, idx, POST_START, post + 1)
    descent = _gather(mag, idx, DESCENT_START, 0)
    shock = _gather(mag, idx, -IMPACT_HALF, IMPACT_HALF + 1)
    around = _gather(mag, idx, -2 * IMPACT_HALF - 5, 2 * IMPACT_HALF + 6)  # ±0.5 s
    swing = _gather(mag, idx, DESCENT_START, POST_START + 1)
    g_pre, g_post = pre.mean(axis=1), after.mean(axis=1)
    # atan2(|u x v|, u . v) stays accurate for small angles, where arccos of the cosine loses half its digits
    tilt = np.arctan2(magnitude(np.cross(g_pre, g_post)), np.einsum("ij,ij->i", g_pre, g_post))
    out[:, 0] = np.log(np.maximum(mag[idx], 1e-3))
    out[:, 1] = descent.min(axis=1)
    out[:, 2] = np.clip(1.0 - descent, 0.0, None).mean(axis=1)
    out[:, 3] = np.log1p(np.abs(np.diff(shock, axis=1)).max(axis=1) * FS)
    out[:, 4] = np.degrees(tilt)
    out[:, 5] = np.log(0.01 + _motion(after))
    out[:, 6] = np.maximum(_motion(pre), VIGOUR_FLOOR_G)
    out[:, 7] = np.abs(after_mag.mean(axis=1) - 1.0)
    out[:, 8] = (around > 1.5 + TIE_G).sum(axis=1) / FS
    out[:, 9] = (swing - 1.0).sum(axis=1) / FS
    out[:, 10] = np.log(0.01 + after_mag[:, -SETTLE:].std(axis=1))
    return np.round(np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0), FEATURE_DECIMALS)


def pad_front(xyz: np.ndarray) -> np.ndarray:
    """Prepend HISTORY copies of the first sample, as a stream does before its first push."""
    xyz = np.asarray(xyz, dtype=np.float64)
    return np.concatenate([np.repeat(xyz[:1], HISTORY, axis=0), xyz])


def recording_candidates(xyz: np.ndarray, *, trigger_g: float, post: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidates of a whole 50 Hz recording and their features, exactly as a stream over it finds them.

    Returns (indices into `xyz`, features). Only candidates decided before the recording ends count (their
    post window fits), because a stream never looks past its newest sample.
    """
    padded = pad_front(xyz)
    mag = magnitude(padded)
    idx = find_candidates(mag, trigger_g=trigger_g, start=HISTORY, stop=max(HISTORY, len(mag) - post))
    return idx - HISTORY, candidate_features(padded, mag, idx, post=post)
