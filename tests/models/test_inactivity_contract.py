"""The inactivity profile as an estimator (STYLE #3, #4): parameters, fitting, state, version, size, card."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from models.base import NotFittedError
from models.inactivity import InactivityMonitor, InactivityProfile, default_prior, load_prior
from models.inactivity.prior import artifact_card, check_prior
from models.inactivity.stats import Belief, norm_ppf, pack, t_ppf, unpack
from tests.models.test_inactivity_homes import ordinary_days, real_home, sim

PRIOR = default_prior()


def _events_a():
    return ordinary_days(6, seed=1)


def _events_b():
    return ordinary_days(5, seed=2, wake=8.0, gap_min=9.0)


def _decisions(profile: InactivityProfile) -> list[float]:
    out = []
    for sensor, kind in (("living_motion", "motion"), ("kitchen_motion", "motion"), ("bed_mat", "bed")):
        for hour in (3, 9, 14, 20):
            out.append(profile.threshold(sensor, kind, hour))
            out += profile.decision([600.0, 3600.0, 4 * 3600.0], sensor, kind, hour).tolist()
    return out


def test_fit_and_partial_fit_return_self():
    """Guards against fit returning None or a copy (breaks `InactivityProfile(...).fit(events).threshold()`)."""
    profile = InactivityProfile(prior=PRIOR)
    assert profile.fit(_events_a()) is profile
    assert profile.partial_fit(_events_b()) is profile


def test_init_stores_params_verbatim_and_fit_leaves_them():
    """Guards against logic in __init__ or fit rewriting the caller's parameters (scikit-learn conventions)."""
    prior = copy.deepcopy(PRIOR)
    profile = InactivityProfile(prior=prior, false_alarm_rate=0.7, utc_offset_s=3600.0, half_life_days=30.0)
    before = copy.deepcopy(profile.get_params())
    profile.fit(_events_a())
    assert profile.get_params() == before
    assert profile.prior is prior and prior == PRIOR
    assert all(not name.endswith("_") for name in before)


def test_invalid_params_fail_at_fit_not_init():
    """Guards against validation in __init__ (scikit-learn's clone/set_params need it to store anything)."""
    profile = InactivityProfile(prior=PRIOR, false_alarm_rate=-1.0)
    assert profile.false_alarm_rate == -1.0
    with pytest.raises(ValueError, match="false_alarm_rate"):
        profile.fit([])
    with pytest.raises(ValueError, match="utc_offset_s"):
        InactivityProfile(prior=PRIOR, utc_offset_s=20 * 3600).fit([])


def test_refit_forgets_the_first_fit():
    """Guards against state leaking from an earlier fit (old silences or a stream position surviving fit)."""
    profile = InactivityProfile(prior=PRIOR).fit(_events_a())
    profile.fit(_events_b())
    fresh = InactivityProfile(prior=PRIOR).fit(_events_b())
    assert profile.to_json() == fresh.to_json()
    assert _decisions(profile) == _decisions(fresh)


def test_partial_fit_in_chunks_equals_one_fit():
    """Guards against learning that depends on how the stream is cut (the gateway feeds one event at a time)."""
    events = _events_a()
    whole = InactivityProfile(prior=PRIOR).fit(events)
    chunked = InactivityProfile(prior=PRIOR).partial_fit([])
    for lo in range(0, len(events), 37):
        chunked.partial_fit(events[lo:lo + 37])
    assert chunked.to_json() == whole.to_json()


def test_learned_attributes_end_in_underscore():
    """Guards against learned state hiding in plain attributes a reader would take for parameters."""
    profile = InactivityProfile(prior=PRIOR)
    params = set(profile.get_params())
    profile.fit(_events_a())
    public_new = {k for k in vars(profile) if k not in params and not k.startswith("_")}
    assert public_new and all(k.endswith("_") for k in public_new), public_new


def test_json_round_trip_gives_identical_decisions_and_learning():
    """Guards against lossy state: a restored profile must decide, and go on learning, exactly like the original."""
    profile = InactivityProfile(prior=PRIOR).fit(_events_a())
    text = profile.to_json()
    back = InactivityProfile.from_json(text, prior=PRIOR)
    assert back.to_json() == text
    assert _decisions(back) == _decisions(profile)
    more = ordinary_days(9, seed=3)[-400:]
    assert back.partial_fit(more).to_json() == profile.partial_fit(more).to_json()
    assert "pickle" not in text.lower()
    json.loads(text)  # plain JSON, no NaN/Infinity


def test_state_carries_a_version_stamp_that_is_checked():
    """Guards against loading state of an incompatible version, another detector, or another prior silently."""
    profile = InactivityProfile(prior=PRIOR).fit(_events_a())
    state = profile.to_dict()
    assert state["format_version"] >= 1 and state["kind"]
    with pytest.raises(ValueError, match="format_version"):
        InactivityProfile.from_dict(dict(state, format_version=state["format_version"] + 1))
    with pytest.raises(ValueError, match="kind"):
        InactivityProfile.from_dict(dict(state, kind="something.else"))
    shipped = InactivityProfile().fit(_events_a()).to_dict()
    with pytest.raises(ValueError, match="prior"):
        InactivityProfile.from_dict(dict(shipped, prior_version="inactivity-prior-from-another-release"))
    monitor_state = InactivityMonitor(prior=PRIOR).snapshot()
    with pytest.raises(ValueError, match="format_version"):
        InactivityMonitor.restore(dict(monitor_state, format_version=99), prior=PRIOR)
    with pytest.raises(ValueError, match="prior"):
        InactivityMonitor.restore(monitor_state)  # made with another prior than the shipped one
    assert InactivityMonitor.restore(monitor_state, prior=PRIOR).snapshot() == monitor_state


def test_state_refers_to_its_prior_instead_of_copying_it():
    """Guards against every home's snapshot carrying the whole prior (several KB each, the same for all)."""
    state = InactivityProfile(prior=PRIOR).fit(_events_a()).to_dict()
    assert state["params"]["prior"] is None and state["prior_version"] == PRIOR["version"]
    assert len(json.dumps(state)) < len(json.dumps(PRIOR)) + 4000


def test_using_an_unfitted_profile_raises_not_fitted():
    """Guards against an unfitted profile returning garbage thresholds instead of failing loudly."""
    profile = InactivityProfile(prior=PRIOR)
    with pytest.raises(NotFittedError, match="not fitted"):
        profile.threshold("living_motion", "motion", 14)
    with pytest.raises(NotFittedError):
        profile.decision([3600.0], "living_motion", "motion", 14)
    with pytest.raises(NotFittedError):
        profile.to_dict()


def test_a_cold_start_is_the_prior_alone_and_it_is_cautious():
    """Guards against a new home alarming on ordinary silences before it has taught the profile anything."""
    profile = InactivityProfile().partial_fit([])
    assert profile.threshold("living_motion", "motion", 14) >= 2 * 3600.0
    assert profile.threshold("Bed", "bed", 1, holding=True) >= 12 * 3600.0  # asleep is not inactive
    assert profile.away_threshold() >= 72 * 3600.0


def test_decision_agrees_with_the_threshold():
    """Guards against `decision` (raw score minus log10 p) and the monitor's threshold drifting apart."""
    profile = InactivityProfile(prior=PRIOR).fit(ordinary_days(10, seed=4))
    for hour in (9, 14, 19):
        t = profile.threshold("living_motion", "motion", hour)
        rules = profile.prior_["rules"]
        if rules["min_threshold_s"] < t < rules["max_threshold_s"]:
            d = profile.decision([0.97 * t, 1.03 * t], "living_motion", "motion", hour)
            assert d[0] > 0 > d[1], (hour, t, d)


def test_state_is_small_for_real_homes_and_for_a_home_with_many_sensors():
    """Guards against per-home state growing past 10 KB (the gateway keeps one per home, snapshotted)."""
    sizes = {}
    for layout in ("full", "mats"):
        home = sim(21, 30.0, layout)
        monitor = InactivityMonitor(utc_offset_s=8 * 3600.0)
        for e in home.events:
            monitor.on_event(*e)
        sizes[layout] = len(json.dumps(monitor.snapshot(), separators=(",", ":")))
    crowded = InactivityMonitor()
    for day in range(40):  # 60 sensors (more than the profile keeps), each quiet at some hour
        for k in range(60):
            t = 1_700_000_000.0 + day * 86400 + k * 1300.0 + (day % 7) * 97
            crowded.on_event(t, f"pir_{k:02d}_in_a_long_room_name", "motion", 1)
            crowded.on_event(t + 20, f"door_{k:02d}_of_the_cupboard", "door", day % 2)
    sizes["60 sensors"] = len(json.dumps(crowded.snapshot(), separators=(",", ":")))
    assert all(size <= 10_000 for size in sizes.values()), sizes


def test_state_size_on_the_real_homes():
    """Guards against the real homes' state (sparse sensors, weeks of data) passing 10 KB."""
    for name in ("ordonez_a", "kasteren_a"):
        monitor = InactivityMonitor()
        for e in real_home(name):
            monitor.on_event(*e)
        assert len(json.dumps(monitor.snapshot(), separators=(",", ":"))) <= 10_000


def test_shipped_artifact_has_a_model_card_and_was_not_fitted_to_the_real_homes():
    """Guards against shipping a prior without its card, or one built from the licence-restricted homes."""
    prior = load_prior()
    check_prior(prior)
    card = artifact_card()
    for key in ("version", "seed", "trained_on", "data", "features", "evaluation", "caveats", "hyper_parameters"):
        assert key in card, key
    assert card["version"] == prior["version"]
    assert "evaluation only" in card["data"]["real_homes"]
    assert "ordonez" not in prior["sources"].lower() and "kasteren" not in prior["sources"].lower()
    assert "no real home" in prior["sources"]
    from importlib import resources

    assert len(resources.files("models").joinpath("artifacts", "inactivity.json").read_bytes()) < 100_000


@pytest.mark.parametrize("dof", [2.0, 2.5, 3.0, 4.7, 8.0, 30.0, 400.0])
def test_t_quantiles_match_scipy(dof):
    """Guards against a wrong Student-t quantile, which every threshold rests on."""
    stats = pytest.importorskip("scipy.stats")
    for p in (1e-6, 1e-4, 0.003, 0.05, 0.5, 0.9, 0.999, 0.99999):
        assert math.isclose(t_ppf(p, dof), stats.t.ppf(p, dof), rel_tol=2e-4, abs_tol=1e-9), (p, dof)
        assert math.isclose(norm_ppf(p), stats.norm.ppf(p), rel_tol=1e-6, abs_tol=1e-9)


def test_belief_update_matches_the_direct_computation():
    """Guards against an error in the conjugate update (the posterior of many small updates must be exact)."""
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 0.4, 50)
    prior = Belief(0.0, 1.0, 2.0, 4.0)
    post = prior.update(len(x), float(x.sum()), float((x * x).sum()))
    assert math.isclose(post.mean, (2.0 * 0.0 + x.sum()) / 52.0)
    ss = ((x - x.mean()) ** 2).sum()
    var = (4.0 * 1.0 + ss + 2.0 * 50 / 52 * (x.mean() - 0.0) ** 2) / 54.0
    assert math.isclose(post.sd, math.sqrt(var))


def test_packed_statistics_round_trip_exactly():
    """Guards against the compact integer encoding of the state changing a statistic (and so a decision)."""
    cells = [0.0, 1.234, 0.0, 0.0, 0.0, 0.0, 12345.678, 0.001, 0.0, 0.0, 0.0, 0.0]
    assert unpack(pack(cells), len(cells)) == cells
    dense = [round(0.001 * k + 3.0, 3) for k in range(12)]
    assert unpack(json.loads(json.dumps(pack(dense))), 12) == dense
