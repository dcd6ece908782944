"""FallDetector: the trigger, the candidate features and a boosted-tree classifier, as one estimator.

It follows scikit-learn's estimator conventions (STYLE #3): `__init__` stores its parameters verbatim, `fit`
returns self and sets attributes ending in `_`, `decision_function` is score minus threshold (>= 0 alarms),
and using it unfitted raises NotFittedError. Its state round-trips through plain JSON with a version stamp.
scikit-learn is imported only inside `fit`; scoring walks the exported trees with numpy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.base import NotFittedError, check_is_fitted, check_state_header
from models.falls.features import FEATURE_NAMES, FS, N_FEATURES, magnitude, recording_candidates
from models.falls.trees import TreeEnsemble

if TYPE_CHECKING:
    from models.falls.stream import FallAlarm, FallStream

STATE_KIND = "homesafe.models.falls.FallDetector"
FORMAT_VERSION = 1
DEFAULT_ARTIFACT = "falls.json"
_FITTED = ("trees_", "threshold_", "n_features_in_")


def _as_recording(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"expected a recording of shape (n_samples, 3) in g at 50 Hz, got shape {arr.shape}; "
                         "resample other rates with FallDetector.stream(fs=...) or detect(..., fs=...)")
    if not np.isfinite(arr).all():
        raise ValueError("recording holds NaN or infinite values; drop or interpolate them first")
    return arr


class FallDetector:
    """Streaming fall detector for a body-worn 3-axis accelerometer, in any orientation.

    A cheap trigger (|a| >= trigger_g and the largest |a| within ±1 s) picks candidate impacts; each candidate
    is scored by gradient-boosted trees over rotation-invariant features of the window around it, post_s
    seconds after the impact, and alarms when its score reaches `threshold_`.

    Args:
        trigger_g: |a| (g) that makes a peak a candidate impact.
        post_s: seconds from impact to the decision (the latency); at most 2.
        refractory_s: after an alarm, no other alarm for candidates within this many seconds (one fall, one
            alarm).
        max_false_alarms_per_h: when `threshold` is None, `fit` picks the lowest threshold whose grouped
            out-of-fold false alarms per hour of ADL stay at or below this.
        threshold: a fixed raw-score (log-odds) threshold instead.
        max_iter, learning_rate, max_depth, min_samples_leaf, l2_regularization: of the boosted trees.
        cv_splits: grouped folds used to pick the threshold out of fold.
        random_state: seed of everything random in `fit`.
    """

    def __init__(self, *, trigger_g: float = 1.6, post_s: float = 1.8, refractory_s: float = 20.0,
                 max_false_alarms_per_h: float = 2.0, threshold: float | None = None, max_iter: int = 150,
                 learning_rate: float = 0.05, max_depth: int = 3, min_samples_leaf: int = 40,
                 l2_regularization: float = 1.0, cv_splits: int = 5, random_state: int = 0) -> None:
        self.trigger_g = trigger_g
        self.post_s = post_s
        self.refractory_s = refractory_s
        self.max_false_alarms_per_h = max_false_alarms_per_h
        self.threshold = threshold
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.cv_splits = cv_splits
        self.random_state = random_state

    # -- parameters -----------------------------------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's `get_params`."""
        return {name: getattr(self, name) for name in _PARAM_NAMES}

    def set_params(self, **params: Any) -> FallDetector:
        """Set constructor parameters, as scikit-learn's `set_params`; returns self."""
        for name, value in params.items():
            if name not in _PARAM_NAMES:
                raise ValueError(f"unknown parameter {name!r} for FallDetector; expected one of {_PARAM_NAMES}")
            setattr(self, name, value)
        return self

    @property
    def post_samples(self) -> int:
        """Samples at 50 Hz from impact to decision."""
        return round(self.post_s * FS)

    def _check_params(self) -> None:
        if not 0.5 < self.trigger_g < 16:
            raise ValueError(f"trigger_g must be in (0.5, 16) g, got {self.trigger_g!r}")
        if not 1.0 <= self.post_s <= 2.0:
            raise ValueError(f"post_s must be in [1, 2] s (decision within 2 s of impact), got {self.post_s!r}")
        if self.refractory_s < 0:
            raise ValueError(f"refractory_s must be >= 0, got {self.refractory_s!r}")

    # -- fitting --------------------------------------------------------------------------------------------

    def fit(self, recordings: Sequence[Any], y: Sequence[Any], *, groups: Sequence[Any] | None = None
            ) -> FallDetector:
        """Learn from whole recordings at 50 Hz labelled fall (1/True) or ADL (0/False); returns self.

        In a fall recording the candidate at its largest |a| is the positive example and its other candidates
        are left out (they may belong to the fall); every candidate of an ADL recording is a negative.
        `groups` (e.g. subject ids) keeps a group's recordings in one fold when the threshold is picked out of
        fold; without it each recording is its own group.
        """
        self._check_params()
        for name in (*_FITTED, "feature_names_", "cv_", "n_candidates_", "card_"):
            self.__dict__.pop(name, None)
        recs = [_as_recording(r) for r in recordings]
        labels = np.asarray([bool(v) for v in y])
        if len(recs) != len(labels):
            raise ValueError(f"got {len(recs)} recordings and {len(labels)} labels; expected one label each")
        if not (labels.any() and (~labels).any()):
            raise ValueError("fit needs both fall and ADL recordings")
        group_ids = np.arange(len(recs)) if groups is None else np.asarray(groups)
        if len(group_ids) != len(recs):
            raise ValueError(f"got {len(group_ids)} groups for {len(recs)} recordings")
        table = candidate_table(recs, labels, trigger_g=self.trigger_g, post=self.post_samples)
        if not table.y.any():
            raise ValueError("no fall recording has a candidate at its largest |a|: check units (g) and trigger_g")
        train = table.train_mask
        model = self._make_model().fit(table.x[train], table.y[train])
        trees = TreeEnsemble.from_sklearn(model)
        check = trees.raw_score(table.x[train][:256])
        if not np.allclose(check, model.decision_function(table.x[train][:256]), rtol=0, atol=1e-9):
            raise RuntimeError("exported trees disagree with scikit-learn; this scikit-learn version changed its "
                               "tree layout, pin the version used for training")
        if self.threshold is None:
            oof = self._out_of_fold_scores(table, group_ids)
            threshold = pick_threshold(oof, table, [len(r) for r in recs], self.max_false_alarms_per_h)
            self.cv_ = {"oof_threshold": threshold, "folds": int(min(self.cv_splits, len(np.unique(group_ids))))}
        else:
            threshold = float(self.threshold)
        self.trees_ = trees
        self.threshold_ = float(threshold)
        self.n_features_in_ = N_FEATURES
        self.feature_names_ = list(FEATURE_NAMES)
        self.n_candidates_ = {"positive": int(table.y[train].sum()), "negative": int((~table.y[train]).sum())}
        return self

    def _make_model(self) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            early_stopping=False, random_state=self.random_state)

    def _out_of_fold_scores(self, table: CandidateTable, group_ids: np.ndarray) -> np.ndarray:
        from sklearn.model_selection import GroupKFold

        cand_groups = group_ids[table.rec]
        splits = min(self.cv_splits, len(np.unique(cand_groups)))
        if splits < 2:
            raise ValueError("picking the threshold out of fold needs at least 2 groups; pass threshold=...")
        oof = np.full(len(table.y), np.nan)
        folds = GroupKFold(n_splits=splits).split(table.x, table.y, cand_groups)
        for train_idx, test_idx in folds:
            fit_idx = train_idx[table.train_mask[train_idx]]
            if table.y[fit_idx].all() or not table.y[fit_idx].any():
                raise ValueError("a fold holds only one class; give more groups with falls and ADL, or fewer "
                                 "cv_splits")
            model = self._make_model().fit(table.x[fit_idx], table.y[fit_idx])
            oof[test_idx] = TreeEnsemble.from_sklearn(model).raw_score(table.x[test_idx])
        return oof

    # -- scoring --------------------------------------------------------------------------------------------

    def score_features(self, features: np.ndarray) -> np.ndarray:
        """Raw score (log-odds of a fall) of candidate feature rows, shape (n, n_features_in_)."""
        check_is_fitted(self, _FITTED)
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features_in_:
            raise ValueError(f"expected features of shape (n, {self.n_features_in_}), got {x.shape}")
        return self.trees_.raw_score(x)

    def decision_function(self, recordings: Sequence[Any]) -> np.ndarray:
        """Per recording at 50 Hz: the largest candidate score minus `threshold_` (>= 0 alarms); -inf if none."""
        check_is_fitted(self, _FITTED)
        out = np.full(len(recordings), -np.inf)
        for k, rec in enumerate(recordings):
            _, feats = recording_candidates(_as_recording(rec), trigger_g=self.trigger_g, post=self.post_samples)
            if len(feats):
                out[k] = float(self.score_features(feats).max()) - self.threshold_
        return out

    def predict(self, recordings: Sequence[Any]) -> np.ndarray:
        """Per recording: True when it raises at least one alarm."""
        return self.decision_function(recordings) >= 0

    def stream(self, fs: float = FS, *, still_down_s: float | None = None) -> FallStream:
        """A streaming session for one wearer: push (t, xyz) chunks at `fs` Hz, get FallAlarms back.

        Args:
            fs: input sample rate; other rates than 50 Hz are resampled.
            still_down_s: if set, a second alarm (stage "still_down") this many seconds after an impact alarm
                when the wearer has lain still since, tilted from the posture before the fall.
        """
        from models.falls.stream import FallStream

        check_is_fitted(self, _FITTED)
        return FallStream(self, fs=fs, still_down_s=still_down_s)

    def detect(self, t: np.ndarray, xyz: np.ndarray, *, fs: float | None = None) -> list[FallAlarm]:
        """Alarms of one whole recording, replayed as a single push (the same as any chunking of it)."""
        t = np.asarray(t, dtype=np.float64)
        if fs is None:
            fs = infer_rate(t)
        stream = self.stream(fs)
        return stream.push(t, xyz)

    # -- state ----------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as a JSON-ready dict, stamped with its kind and format version."""
        check_is_fitted(self, _FITTED)
        return {
            "kind": STATE_KIND,
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
            "state": {
                "threshold": self.threshold_,
                "feature_names": list(self.feature_names_),
                "n_candidates": dict(getattr(self, "n_candidates_", {})),
                "trees": self.trees_.to_dict(),
            },
            "card": dict(getattr(self, "card_", {})),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FallDetector:
        """Rebuild a fitted detector from `to_dict` output; ValueError on a wrong kind or version."""
        check_state_header(data, kind=STATE_KIND, version=FORMAT_VERSION)
        params = data.get("params", {})
        unknown = set(params) - set(_PARAM_NAMES)
        if unknown:
            raise ValueError(f"unknown FallDetector parameters in state: {sorted(unknown)}")
        det = cls(**params)
        state = data["state"]
        if list(state["feature_names"]) != list(FEATURE_NAMES):
            raise ValueError(f"state was trained on features {state['feature_names']}, this code computes "
                             f"{list(FEATURE_NAMES)}; retrain with `homesafe train falls`")
        det.trees_ = TreeEnsemble.from_dict(state["trees"])
        det.threshold_ = float(state["threshold"])
        det.n_features_in_ = N_FEATURES
        det.feature_names_ = list(state["feature_names"])
        det.n_candidates_ = dict(state.get("n_candidates", {}))
        if data.get("card"):
            det.card_ = dict(data["card"])
        return det

    def to_json(self) -> str:
        """Serialize the fitted state as compact JSON text (no pickle)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> FallDetector:
        """Rebuild from `to_json` text."""
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> Path:
        """Write the JSON artifact to `path` (parents created); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_artifact(cls, path: str | Path | None = None) -> FallDetector:
        """Load a saved detector; without `path`, the default model shipped in `models/artifacts/`."""
        if path is None:
            text = resources.files("models").joinpath("artifacts", DEFAULT_ARTIFACT).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_json(text)


_PARAM_NAMES = ("trigger_g", "post_s", "refractory_s", "max_false_alarms_per_h", "threshold", "max_iter",
                "learning_rate", "max_depth", "min_samples_leaf", "l2_regularization", "cv_splits", "random_state")


def infer_rate(t: np.ndarray) -> float:
    """Sample rate (Hz) from the median interval of increasing time stamps in seconds."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) < 2:
        raise ValueError(f"need at least 2 time stamps to infer the sample rate, got {len(t)}; give fs")
    dt = float(np.median(np.diff(t)))
    if not dt > 0:
        raise ValueError("time stamps do not increase; give them in seconds, sorted")
    return 1.0 / dt


@dataclass(frozen=True, eq=False)
class CandidateTable:
    """Candidates of many recordings: features `x`, owning recording, index in it, training label and mask."""

    x: np.ndarray  # (n, N_FEATURES)
    rec: np.ndarray  # recording of each candidate
    idx: np.ndarray  # sample index in its recording
    y: np.ndarray  # True for the candidate at a fall recording's largest |a|
    train_mask: np.ndarray  # the candidates fit learns from
    labels: np.ndarray  # per recording: True for a fall


def candidate_table(recordings: Sequence[np.ndarray], labels: np.ndarray, *, trigger_g: float, post: int
                    ) -> CandidateTable:
    """Find and featurize every candidate; label the one at a fall recording's largest |a| positive."""
    feats, rec, idx, y, train = [], [], [], [], []
    for k, (acc, is_fall) in enumerate(zip(recordings, labels, strict=True)):
        cand, x = recording_candidates(acc, trigger_g=trigger_g, post=post)
        peak = int(np.argmax(magnitude(acc))) if len(acc) else -1
        at_peak = cand == peak
        feats.append(x)
        rec.append(np.full(len(cand), k))
        idx.append(cand)
        y.append(at_peak & bool(is_fall))
        train.append(at_peak | (not is_fall))
    if not feats:
        raise ValueError("no recordings")
    return CandidateTable(x=np.concatenate(feats), rec=np.concatenate(rec).astype(np.intp),
                          idx=np.concatenate(idx).astype(np.intp), y=np.concatenate(y).astype(bool),
                          train_mask=np.concatenate(train).astype(bool), labels=np.asarray(labels, dtype=bool))


def pick_threshold(scores: np.ndarray, table: CandidateTable, lengths: Sequence[int], max_fa_per_h: float) -> float:
    """Lowest raw-score threshold at which ADL candidates scoring at or above it number <= max_fa_per_h per hour.

    Counting every ADL candidate (no refractory period) overstates false alarms a little: conservative.
    """
    adl_hours = float(np.asarray(lengths, dtype=np.float64)[~table.labels].sum()) / FS / 3600
    neg = np.sort(scores[~table.labels[table.rec]])[::-1]
    allowed = int(np.floor(max_fa_per_h * adl_hours + 1e-9))
    if len(neg) == 0:
        return 0.0
    if allowed >= len(neg):
        return float(neg[-1])
    return float(np.nextafter(neg[allowed], np.inf))


__all__ = ["FallDetector", "NotFittedError", "infer_rate"]
