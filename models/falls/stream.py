"""The streaming side of the fall detector: a 50 Hz resampler, a small ring buffer and alarms.

A stream is one wearer's session. `push(t, xyz)` takes chunks of any size and returns the alarms decided by
the newest sample: the trigger runs vectorised over each chunk, the classifier only at candidates, and
nothing looks past the newest sample, so an alarm's `t` is the stream time at which it could be raised.
Pushing a recording in one piece or in chunks of any sizes gives the same alarms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from models.falls.features import (
    FS,
    HISTORY,
    NMS_HALF,
    PRE_START,
    PRE_STOP,
    candidate_features,
    find_candidates,
    magnitude,
)

if TYPE_CHECKING:
    from models.falls.detector import FallDetector

STAGE_IMPACT = "impact"
STAGE_STILL_DOWN = "still_down"
STILL_WINDOW = 250
"""Samples (5 s) over which the wearer must be still for a "still_down" escalation."""
STILL_MOTION_G = 0.1
STILL_TILT_DEG = 30.0
PASSTHROUGH_TOLERANCE = 0.01
"""Rates within 1% of 50 Hz are taken as 50 Hz, sample for sample, with their own time stamps."""


@dataclass(frozen=True, slots=True)
class FallAlarm:
    """A fall alarm: raised at stream time `t` (s) for the impact at `t_impact`.

    `score` is the model's probability of a fall (0-1). `stage` is "impact" for the first alarm, decided
    within 2 s of the impact, and "still_down" for the optional later escalation.
    """

    t: float
    score: float
    stage: str = STAGE_IMPACT
    t_impact: float = math.nan


class Resampler:
    """Turns timestamped samples at about `fs` Hz into a 50 Hz grid, chunk by chunk, without look-ahead.

    Faster inputs are first averaged over round(fs / 50) consecutive samples (a boxcar anti-alias filter),
    then every input is linearly interpolated at t0 + j / 50. Each output depends only on the samples around
    it, so any chunking of the input gives identical output.
    """

    def __init__(self, fs: float) -> None:
        if not (math.isfinite(fs) and 1.0 <= fs <= 10_000.0):
            raise ValueError(f"sample rate must be between 1 and 10000 Hz, got {fs!r}")
        self.fs = float(fs)
        self.passthrough = abs(self.fs / FS - 1.0) < PASSTHROUGH_TOLERANCE
        self.taps = max(1, round(self.fs / FS)) if self.fs > 1.25 * FS else 1
        self._tail_t = np.empty(0)
        self._tail_x = np.empty((0, 3))
        self._prev: tuple[float, np.ndarray] | None = None
        self._t0: float | None = None
        self._next_j = 0
        self._last_t = -math.inf

    def push(self, t: np.ndarray, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Times and (n, 3) samples at 50 Hz that the chunk completes (possibly none)."""
        if len(t) == 0:
            return t, xyz
        if t[0] <= self._last_t or (len(t) > 1 and not bool(np.all(np.diff(t) > 0))):
            raise ValueError(f"time stamps must increase strictly (got {float(t[0])!r} after "
                             f"{self._last_t!r} or a repeat within the chunk); sort the samples, drop duplicates")
        self._last_t = float(t[-1])
        if self.passthrough:
            return t, xyz
        if self.taps > 1:
            all_t = np.concatenate([self._tail_t, t])
            all_x = np.concatenate([self._tail_x, xyz])
            self._tail_t, self._tail_x = all_t[-(self.taps - 1):], all_x[-(self.taps - 1):]
            if len(all_t) < self.taps:
                return np.empty(0), np.empty((0, 3))
            t = sliding_window_view(all_t, self.taps).mean(axis=1)
            xyz = sliding_window_view(all_x, self.taps, axis=0).mean(axis=2)
        if self._prev is None:
            self._t0 = float(t[0])
            seg_t, seg_x = t, xyz
        else:
            seg_t = np.concatenate([[self._prev[0]], t])
            seg_x = np.concatenate([self._prev[1][None, :], xyz])
        self._prev = (float(t[-1]), xyz[-1].copy())
        assert self._t0 is not None
        last_j = math.floor((float(seg_t[-1]) - self._t0) * FS + 1e-9)
        if last_j < self._next_j:
            return np.empty(0), np.empty((0, 3))
        grid = self._t0 + np.arange(self._next_j, last_j + 1) / FS
        self._next_j = last_j + 1
        out = np.column_stack([np.interp(grid, seg_t, seg_x[:, c]) for c in range(3)])
        return grid, out


def _sigmoid(raw: float) -> float:
    return 1.0 / (1.0 + math.exp(-raw)) if raw > -700 else 0.0


class FallStream:
    """One wearer's streaming session over a fitted FallDetector (make it with `detector.stream(fs)`)."""

    def __init__(self, detector: FallDetector, *, fs: float, still_down_s: float | None = None) -> None:
        self._detector = detector
        self._post = detector.post_samples
        self._refractory = round(detector.refractory_s * FS)
        self._resampler = Resampler(fs)
        if still_down_s is not None and still_down_s * FS < self._post + STILL_WINDOW:
            raise ValueError(f"still_down_s must be at least post_s + {STILL_WINDOW / FS:g} s, got {still_down_s!r}")
        self._still = None if still_down_s is None else round(still_down_s * FS)
        self._keep = max(HISTORY + self._post + NMS_HALF, STILL_WINDOW) + 1
        self._xyz = np.empty((0, 3))
        self._mag = np.empty(0)
        self._t = np.empty(0)
        self._base = -HISTORY  # absolute sample index of self._xyz[0]
        self._next = 0  # first absolute index not yet examined as a candidate
        self._last_alarm: int | None = None
        self._pending: list[tuple[int, float, np.ndarray, float]] = []  # (deadline, t_impact, gravity before, score)

    @property
    def fs(self) -> float:
        """The input sample rate this stream expects."""
        return self._resampler.fs

    @property
    def samples_seen(self) -> int:
        """50 Hz samples consumed so far."""
        return max(0, self._base + len(self._xyz))

    def push(self, t: np.ndarray, xyz: np.ndarray) -> list[FallAlarm]:
        """Feed a chunk of samples: t (n,) seconds, strictly increasing; xyz (n, 3) in g. Returns new alarms."""
        t = np.asarray(t, dtype=np.float64).reshape(-1)
        xyz = np.asarray(xyz, dtype=np.float64)
        if xyz.ndim != 2 or xyz.shape[1] != 3 or len(xyz) != len(t):
            raise ValueError(f"expected t of shape (n,) and xyz of shape (n, 3), got {t.shape} and {xyz.shape}")
        if not (np.isfinite(t).all() and np.isfinite(xyz).all()):
            raise ValueError("chunk holds NaN or infinite values; drop those samples before pushing")
        t, xyz = self._resampler.push(t, xyz)
        if len(t) == 0:
            return []
        if len(self._xyz) == 0:  # the first samples: pretend the wearer held still before them
            self._xyz = np.repeat(xyz[:1], HISTORY, axis=0)
            self._mag = np.repeat(magnitude(xyz[:1]), HISTORY)
            self._t = t[0] - np.arange(HISTORY, 0, -1) / FS
        self._xyz = np.concatenate([self._xyz, xyz])
        self._mag = np.concatenate([self._mag, magnitude(xyz)])
        self._t = np.concatenate([self._t, t])
        alarms = self._examine()
        if self._pending:
            alarms.extend(self._escalate())
            alarms.sort(key=lambda a: a.t)
        drop = len(self._xyz) - self._keep
        if drop > 0:
            self._xyz, self._mag, self._t = self._xyz[drop:], self._mag[drop:], self._t[drop:]
            self._base += drop
        return alarms

    def _examine(self) -> list[FallAlarm]:
        """Classify the candidates whose decision sample has arrived."""
        stop = self._base + len(self._xyz) - self._post
        if stop <= self._next:
            return []
        start, self._next = self._next, stop
        cand = find_candidates(self._mag, trigger_g=self._detector.trigger_g, start=start - self._base,
                               stop=stop - self._base)
        if cand.size == 0:
            return []
        raw = self._detector.score_features(candidate_features(self._xyz, self._mag, cand, post=self._post))
        alarms = []
        threshold = self._detector.threshold_
        for j, r in zip(cand.tolist(), raw.tolist(), strict=True):
            i = j + self._base
            if r < threshold or (self._last_alarm is not None and i - self._last_alarm <= self._refractory):
                continue
            self._last_alarm = i
            score = _sigmoid(r)
            alarms.append(FallAlarm(t=float(self._t[j + self._post]), score=score, stage=STAGE_IMPACT,
                                    t_impact=float(self._t[j])))
            if self._still is not None:
                g_before = self._xyz[j + PRE_START:j + PRE_STOP].mean(axis=0)
                self._pending.append((i + self._still, float(self._t[j]), g_before, score))
        return alarms

    def _escalate(self) -> list[FallAlarm]:
        """Raise "still_down" for impacts whose wearer has lain still, tilted, until the deadline."""
        newest = self._base + len(self._xyz) - 1
        out, waiting = [], []
        for deadline, t_impact, g_before, score in self._pending:
            if deadline > newest:
                waiting.append((deadline, t_impact, g_before, score))
                continue
            j = deadline - self._base
            window = self._xyz[j - STILL_WINDOW + 1:j + 1]
            motion = float(np.sqrt(window.var(axis=0).sum()))
            g_now = window.mean(axis=0)
            cos = float(g_before @ g_now) / max(float(np.linalg.norm(g_before) * np.linalg.norm(g_now)), 1e-9)
            tilt = math.degrees(math.acos(min(1.0, max(-1.0, cos))))
            if motion < STILL_MOTION_G and tilt >= STILL_TILT_DEG:
                out.append(FallAlarm(t=float(self._t[j]), score=score, stage=STAGE_STILL_DOWN, t_impact=t_impact))
        self._pending = waiting
        return out
