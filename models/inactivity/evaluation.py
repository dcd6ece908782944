"""Replaying homes through the inactivity monitor, fixed-rule baselines, and the figures that judge them.

Pure functions over event streams `(ts, sensor, kind, value)` in time order: no simulator, no files. The
same notion of activity serves the monitor and the baselines (`activity_times`), so a comparison differs
only in the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.inactivity.monitor import InactivityAlarm, InactivityMonitor
from models.inactivity.profile import InactivityProfile, _iter_events

DAYS_PER_MONTH = 30.0


def replay(events: Iterable[Any], *, end: float | None = None, monitor: InactivityMonitor | None = None,
           **params: Any) -> list[InactivityAlarm]:
    """Alarms of a home replayed from no history (or from `monitor`), ticking the clock up to `end`.

    Every event goes through `on_event` (which raises what fell due before it); `end` (default: the last
    event's time) is reached with `on_tick`, never beyond: no look-ahead.
    """
    mon = monitor if monitor is not None else InactivityMonitor(**params)
    alarms: list[InactivityAlarm] = []
    last = None
    for ts, sensor, kind, value in _iter_events(events):
        alarms += mon.on_event(ts, sensor, kind, value)
        last = ts
    stop = end if end is not None else last
    if stop is not None:
        alarms += mon.on_tick(stop)
    return alarms


def activity_times(events: Iterable[Any], *, prior: dict[str, Any] | None = None) -> np.ndarray:
    """Times of the events that are activity (what ends a silence), as the profile classifies them."""
    profile = InactivityProfile(prior=prior).partial_fit(())
    out = [ts for ts, sensor, kind, value in _iter_events(events)
           if profile._observe(float(ts), str(sensor), str(kind), value)]
    return np.asarray(out, dtype=np.float64)


def fixed_rule(activity: np.ndarray, hours: float, *, end: float) -> list[tuple[float, float]]:
    """(alarm ts, since) of the rule "no activity for `hours`": once per silence, at its start + hours."""
    limit = hours * 3600.0
    starts = np.asarray(activity, dtype=np.float64)
    if len(starts) == 0:
        return []
    ends = np.append(starts[1:], end)
    hit = ends - starts > limit
    return [(float(s + limit), float(s)) for s in starts[hit]]


def per_month(count: int, days: float) -> float:
    """A count over `days` as a rate per 30 days."""
    return float(count) / max(days, 1e-9) * DAYS_PER_MONTH


@dataclass(frozen=True)
class DelayStats:
    """Detection delays of injected collapses: median, 90th percentile, share under 2 h, misses."""

    n: int
    median_h: float | None
    p90_h: float | None
    under_2h: float | None
    misses: int

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "median_h": self.median_h, "p90_h": self.p90_h, "under_2h": self.under_2h,
                "misses": self.misses}


def delay_stats(delays_s: Sequence[float | None]) -> DelayStats:
    """Summarise delays in seconds (None = missed)."""
    got = np.asarray([d for d in delays_s if d is not None], dtype=np.float64) / 3600.0
    misses = sum(1 for d in delays_s if d is None)
    if len(got) == 0:
        return DelayStats(len(delays_s), None, None, None, misses)
    return DelayStats(len(delays_s), round(float(np.median(got)), 3), round(float(np.percentile(got, 90)), 3),
                      round(float(np.mean(got < 2.0)) * (len(got) / len(delays_s)), 3), misses)


def first_after(times: Iterable[float], t0: float, *, within: float) -> float | None:
    """Seconds from t0 to the first time at or after t0 within `within` seconds; None if none."""
    for t in sorted(times):
        if t0 <= t <= t0 + within:
            return t - t0
    return None


__all__ = ["DelayStats", "activity_times", "delay_stats", "first_after", "fixed_rule", "per_month", "replay"]
