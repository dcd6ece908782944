"""Streaming judgement of one bed's vitals: when do heart and breathing rate need a human?

Three reasons, each required to persist so one noisy reading is never an alarm:
- outside absolute safety bounds (e.g. heart rate under 40 bpm) for `bound_persist_s`;
- far from this person's own baseline (robust z-score over `z_limit`) for `deviation_persist_s`,
  once the baseline has learned from enough readings;
- an apnea-like pause: in bed, the mat still reads a heart rate, but no breathing for `apnea_s`.
Driven by event time only; the state is a few numbers per metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.base import check_state_header
from models.vitals.baseline import RobustBaseline

MODEL_VERSION = "vitals-1"
STATE_KIND = "vitals_monitor"
STATE_VERSION = 1

# Adult resting ranges (AHA: heart rate 60-100 bpm, sleep dips to ~40-50; breathing 12-20/min at rest).
# Bounds are set outside what healthy sleep reaches: crossing one for minutes needs a look.
DEFAULT_BOUNDS = {"heart_rate": (40.0, 130.0), "breathing_rate": (6.0, 30.0)}
DEFAULT_PRIORS = {"heart_rate": (65.0, 8.0), "breathing_rate": (15.0, 3.0)}
SCALE_FLOOR = {"heart_rate": 4.0, "breathing_rate": 1.5}  # beats/breaths: never call 2 bpm "unusual"
METRICS = tuple(DEFAULT_BOUNDS)


@dataclass(frozen=True, slots=True)
class VitalsAlarm:
    """A vital sign that needs a human: why, since when, and the readings behind it."""

    ts: float
    reason: str  # "bound", "deviation" or "apnea"
    metric: str
    since: float
    evidence: dict[str, Any] = field(default_factory=dict)
    model_version: str = MODEL_VERSION


class VitalsMonitor:
    """One bed's vitals; `on_reading` and `on_bed` return alarms, once per episode per metric and reason."""

    def __init__(self, *, bound_persist_s: float = 180.0, deviation_persist_s: float = 600.0,
                 z_limit: float = 4.0, apnea_s: float = 60.0) -> None:
        self.bound_persist_s = bound_persist_s
        self.deviation_persist_s = deviation_persist_s
        self.z_limit = z_limit
        self.apnea_s = apnea_s
        self.baselines = {m: RobustBaseline(prior_center=DEFAULT_PRIORS[m][0], prior_scale=DEFAULT_PRIORS[m][1])
                          for m in METRICS}
        self.in_bed = False
        self._since: dict[str, float] = {}  # "reason/metric" -> event time the condition began
        self._alarmed: set[str] = set()  # episodes already reported
        self._last_breath: float | None = None

    def on_bed(self, ts: float, in_bed: bool) -> None:
        """Someone lay down or got up: an empty bed has no vitals to judge."""
        self.in_bed = in_bed
        # Pauses count from a breath the mat actually read: a mat that measures no breathing has no apnea.
        self._last_breath = None
        if not in_bed:
            self._since.clear()

    def on_reading(self, ts: float, readings: dict[str, float]) -> list[VitalsAlarm]:
        """Judge one report of the mat (`heart_rate`, `breathing_rate`; either may be missing)."""
        if not self.in_bed:
            return []
        alarms: list[VitalsAlarm] = []
        for metric in METRICS:
            value = readings.get(metric)
            if value is None:
                continue
            low, high = DEFAULT_BOUNDS[metric]
            out_of_bounds = not low <= value <= high
            baseline = self.baselines[metric]
            z = baseline.zscore(value, floor=SCALE_FLOOR[metric]) if hasattr(baseline, "center_") else 0.0
            deviant = baseline.learned_ and abs(z) > self.z_limit
            evidence = {"value": value, "bounds": [low, high], "baseline": round(getattr(baseline, "center_", 0), 1),
                        "scale": round(getattr(baseline, "scale_", 0), 2), "z": round(z, 2)}
            alarms += self._persisting("bound", metric, condition=out_of_bounds, ts=ts,
                                       persist_s=self.bound_persist_s, evidence=evidence)
            alarms += self._persisting("deviation", metric, condition=deviant and not out_of_bounds, ts=ts,
                                       persist_s=self.deviation_persist_s, evidence=evidence)
            if not out_of_bounds and not deviant:
                baseline.partial_fit(value)  # learn only from readings that look like the person
        if readings.get("breathing_rate") is not None:
            self._last_breath = ts
            self._alarmed.discard("apnea/breathing_rate")
        elif readings.get("heart_rate") is not None and self._last_breath is not None:
            pause = ts - self._last_breath
            if pause >= self.apnea_s and "apnea/breathing_rate" not in self._alarmed:
                self._alarmed.add("apnea/breathing_rate")
                alarms.append(VitalsAlarm(ts, "apnea", "breathing_rate", self._last_breath,
                                          {"pause_s": round(pause), "heart_rate": readings["heart_rate"]}))
        return alarms

    def _persisting(self, reason: str, metric: str, *, condition: bool, ts: float, persist_s: float,
                    evidence: dict[str, Any]) -> list[VitalsAlarm]:
        key = f"{reason}/{metric}"
        if not condition:
            self._since.pop(key, None)
            self._alarmed.discard(key)
            return []
        since = self._since.setdefault(key, ts)
        if ts - since < persist_s or key in self._alarmed:
            return []
        self._alarmed.add(key)
        return [VitalsAlarm(ts, reason, metric, since, {**evidence, "lasted_s": round(ts - since)})]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": STATE_KIND, "format_version": STATE_VERSION, "in_bed": self.in_bed,
                "since": dict(self._since), "alarmed": sorted(self._alarmed), "last_breath": self._last_breath,
                "baselines": {m: b.to_dict() for m, b in self.baselines.items()}}

    def load_dict(self, state: dict[str, Any]) -> None:
        check_state_header(state, kind=STATE_KIND, version=STATE_VERSION)
        self.in_bed = bool(state["in_bed"])
        self._since = {str(k): float(v) for k, v in state["since"].items()}
        self._alarmed = set(state["alarmed"])
        self._last_breath = state["last_breath"]
        for metric, saved in state["baselines"].items():
            self.baselines[metric].load_dict(saved)
