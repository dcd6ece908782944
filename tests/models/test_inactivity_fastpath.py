"""The inactivity monitor's per-event shortcuts give exactly what the plain code gives (same floats, same alarms)."""

from __future__ import annotations

import itertools
import math

import pytest

from models.inactivity import InactivityMonitor, InactivityProfile, default_prior
from models.inactivity.profile import AWAY
from tests.models.test_inactivity_homes import sim

SIM_OFFSET_S = 8 * 3600.0


def _reference_threshold(profile: InactivityProfile, sensor_key: str, kind_key: str, hour: int) -> float:
    """home_threshold as written before it was fused: `_threshold_x` over `_tail` and `_long_prob`."""
    rules = profile.prior_["rules"]
    x = profile._threshold_x(sensor_key, kind_key, hour, profile.silence_p())
    seconds = profile.prior_["base_silence_s"] * math.exp(min(x, 50.0))
    return min(max(seconds, rules["min_threshold_s"]), rules["max_threshold_s"])


@pytest.mark.parametrize(("layout", "prior"), [("full", None), ("mats", "default"), ("sparse_pir", None)])
def test_fused_threshold_is_the_reference_one_exactly(layout: str, prior: str | None) -> None:
    """Guards against the hand-fused, cached home_threshold drifting from `_threshold_x` by even one ulp."""
    profile = InactivityProfile(prior=default_prior() if prior else None, utc_offset_s=SIM_OFFSET_S).partial_fit([])
    checked = 0
    for ts, sensor, kind, value in sim(31, 12.0, layout).events:
        if not profile._observe(ts, sensor, kind, value) or profile.state_.ctx_kind == AWAY:
            continue
        st = profile.state_
        for hour in (int(((ts + SIM_OFFSET_S) % 86400.0) / 3600.0), 3, 14):
            fused = profile.home_threshold(st.ctx_sensor, st.ctx_kind, hour)
            assert fused == _reference_threshold(profile, st.ctx_sensor, st.ctx_kind, hour)
            checked += 1
    assert checked > 1000


def test_due_alarms_with_the_horizon_are_the_exact_ones() -> None:
    """Guards against `_due` skipping a NOT_UP that is due: with a horizon, `_next` agrees on everything due."""
    monitor = InactivityMonitor(utc_offset_s=SIM_OFFSET_S)
    events = sim(32, 12.0, "full").events
    for (ts, sensor, kind, value), (later, _, _, _) in itertools.pairwise(events):
        monitor.on_event(ts, sensor, kind, value)
        for now in (later, ts + 3 * 3600.0, ts + 20 * 3600.0):
            exact, fast = monitor._next(), monitor._next(now)
            if exact is not None and exact[0] <= now:
                assert fast == exact
            else:
                assert fast is None or fast[0] > now
