"""Contract tests run over every detector of `models` (STYLE #4): estimator behaviour and JSON state.

Add a detector by adding a `Case` to CASES: how to make it unfitted, the data to fit it with (twice, for the
refit test), and the inputs its `decision_function` takes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from models.base import NotFittedError
from models.falls import FallDetector
from tests.models import synth


@dataclass(frozen=True)
class Case:
    """One detector under contract: factory, two fit data sets (args, kwargs), decision inputs."""

    make: Callable[[], Any]
    fit_a: Callable[[], tuple[tuple, dict]]
    fit_b: Callable[[], tuple[tuple, dict]]
    inputs: Callable[[], Any]


def _falls_fit(seed: int) -> tuple[tuple, dict]:
    recs, labels, groups = synth.dataset(seed=seed, n_subjects=4, per_subject=5)
    return (recs, labels), {"groups": groups}


CASES = {
    "FallDetector": Case(
        make=lambda: FallDetector(max_iter=25, cv_splits=3, min_samples_leaf=10),
        fit_a=lambda: _falls_fit(1),
        fit_b=lambda: _falls_fit(2),
        inputs=lambda: synth.dataset(seed=3, n_subjects=2, per_subject=4)[0],
    ),
}


@pytest.fixture(params=sorted(CASES), scope="module")
def case(request) -> Case:
    return CASES[request.param]


def _fitted(case: Case, which: str = "a") -> Any:
    args, kwargs = (case.fit_a if which == "a" else case.fit_b)()
    return case.make().fit(*args, **kwargs)


def test_fit_returns_self(case):
    """Guards against fit returning None or a copy (breaks `Detector(...).fit(...).stream()` chains)."""
    det = case.make()
    args, kwargs = case.fit_a()
    assert det.fit(*args, **kwargs) is det


def test_init_stores_params_verbatim_and_fit_leaves_them(case):
    """Guards against logic in __init__ or fit rewriting the user's parameters (STYLE #3)."""
    det = case.make()
    before = copy.deepcopy(det.get_params())
    args, kwargs = case.fit_a()
    det.fit(*args, **kwargs)
    assert det.get_params() == before
    assert all(not name.endswith("_") for name in before), "parameters must not look like learned attributes"


def test_invalid_params_fail_at_fit_not_init():
    """Guards against validation in __init__, which scikit-learn's conventions forbid (clone/set_params)."""
    det = FallDetector(trigger_g=-1.0)
    assert det.trigger_g == -1.0
    args, kwargs = _falls_fit(1)
    with pytest.raises(ValueError, match="trigger_g"):
        det.fit(*args, **kwargs)


def test_refit_forgets_the_first_fit(case):
    """Guards against state leaking from an earlier fit (e.g. accumulating trees or keeping an old threshold)."""
    det = _fitted(case, "a")
    args, kwargs = case.fit_b()
    det.fit(*args, **kwargs)
    fresh = _fitted(case, "b")
    assert det.to_json() == fresh.to_json()
    np.testing.assert_array_equal(det.decision_function(case.inputs()), fresh.decision_function(case.inputs()))


def test_learned_attributes_end_in_underscore(case):
    """Guards against learned state hiding in plain attributes that a reader would take for parameters."""
    det = case.make()
    params = set(det.get_params())
    args, kwargs = case.fit_a()
    det.fit(*args, **kwargs)
    new = {k for k in vars(det) if k not in params}
    assert new and all(k.endswith("_") for k in new), new


def test_json_round_trip_gives_identical_decisions(case):
    """Guards against lossy serialization: the shipped JSON must decide exactly like the fitted object."""
    det = _fitted(case)
    text = det.to_json()
    back = type(det).from_json(text)
    assert back.to_json() == text
    np.testing.assert_array_equal(back.decision_function(case.inputs()), det.decision_function(case.inputs()))
    assert "pickle" not in text.lower()
    json.loads(text)  # plain JSON, no NaN/Infinity


def test_state_carries_a_version_stamp_that_is_checked(case):
    """Guards against loading state written by an incompatible version (or another detector) silently."""
    det = _fitted(case)
    state = det.to_dict()
    assert state["format_version"] >= 1 and state["kind"]
    newer = dict(state, format_version=state["format_version"] + 1)
    with pytest.raises(ValueError, match="format_version"):
        type(det).from_dict(newer)
    other = dict(state, kind="something.else")
    with pytest.raises(ValueError, match="kind"):
        type(det).from_dict(other)


def test_using_an_unfitted_detector_raises_not_fitted(case):
    """Guards against an unfitted detector returning garbage decisions instead of failing loudly."""
    det = case.make()
    with pytest.raises(NotFittedError, match="not fitted"):
        det.decision_function(case.inputs())
    with pytest.raises(NotFittedError):
        det.to_dict()
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


def test_unfitted_falls_detector_refuses_to_stream():
    """Guards against a gateway building a stream over a detector whose model never loaded."""
    with pytest.raises(NotFittedError):
        FallDetector().stream(50)


def test_feature_mismatch_in_state_is_refused(shipped):
    """Guards against scoring new features with trees trained on other features (silent nonsense)."""
    state = shipped.to_dict()
    state["state"]["feature_names"] = [*state["state"]["feature_names"][:-1], "renamed"]
    with pytest.raises(ValueError, match="retrain"):
        FallDetector.from_dict(state)


def test_shipped_artifact_is_small_and_has_a_model_card(shipped):
    """Guards against a missing/huge artifact or one without the card that says what it was trained on."""
    from importlib import resources

    raw = resources.files("models").joinpath("artifacts", "falls.json").read_bytes()
    assert len(raw) < 200_000
    card = shipped.card_
    for key in ("version", "seed", "trained_on", "data", "features", "cv", "operating_point", "caveats"):
        assert key in card, key
    overall = card["cv"]["overall"]
    for key in ("sensitivity", "specificity", "false_alarms_per_h", "f1", "latency_s_max"):
        assert overall[key] is not None, key
    assert card["features"] == list(shipped.feature_names_)
