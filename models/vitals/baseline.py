"""A person's usual value of one vital sign, as a streaming median and spread in O(1) memory.

Bed mats misread (a turn in bed, a visitor sitting on the edge), so the baseline must shrug off
outliers: a median and a median absolute deviation tracked by stochastic approximation move by at
most a fixed step per reading, whatever the reading.
"""

from __future__ import annotations

from typing import Any

from models.base import NotFittedError


class RobustBaseline:
    """Streaming median (`center_`) and MAD-based scale (`scale_`) of a vital sign.

    Args:
        prior_center: where the median starts (a population value, e.g. 65 bpm).
        prior_scale: where the scale starts (a population spread, e.g. 8 bpm).
        step: how far one reading moves the median, as a fraction of the scale; small means slow, robust.
        min_readings: readings before the baseline counts as the person's own (`learned_`).
    """

    def __init__(self, *, prior_center: float, prior_scale: float, step: float = 0.02,
                 min_readings: int = 200) -> None:
        self.prior_center = prior_center
        self.prior_scale = prior_scale
        self.step = step
        self.min_readings = min_readings

    def partial_fit(self, value: float) -> RobustBaseline:
        """Move the estimates one step toward `value`."""
        if not hasattr(self, "center_"):
            self.center_ = float(self.prior_center)
            self.scale_ = float(self.prior_scale)
            self.n_readings_ = 0
        move = self.step * self.scale_
        self.center_ += move if value > self.center_ else -move if value < self.center_ else 0.0
        # Quantile tracking of |x - median|: its median is the MAD; 1.4826 MAD estimates a normal sigma.
        deviation = abs(value - self.center_) * 1.4826
        self.scale_ += self.step * self.scale_ * (1.0 if deviation > self.scale_ else -1.0)
        self.n_readings_ += 1
        return self

    @property
    def learned_(self) -> bool:
        return getattr(self, "n_readings_", 0) >= self.min_readings

    def zscore(self, value: float, *, floor: float) -> float:
        """How unusual `value` is for this person, in scales (never dividing by less than `floor`)."""
        if not hasattr(self, "center_"):
            raise NotFittedError("this RobustBaseline has seen no reading yet; call partial_fit first")
        return (value - self.center_) / max(self.scale_, floor)

    def to_dict(self) -> dict[str, Any]:
        return {"center": getattr(self, "center_", None), "scale": getattr(self, "scale_", None),
                "n": getattr(self, "n_readings_", 0)}

    def load_dict(self, state: dict[str, Any]) -> None:
        if state.get("center") is not None:
            self.center_ = float(state["center"])
            self.scale_ = float(state["scale"])
            self.n_readings_ = int(state["n"])
