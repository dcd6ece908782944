"""Bed vitals: bounds, the person's own baseline, persistence, apnea-like pauses; one alarm per episode."""

import json
import random

from models.vitals import RobustBaseline, VitalsMonitor

T0 = 1_800_000_000.0


def _night(monitor: VitalsMonitor, minutes: float, hr: float, br: float, start: float, rng: random.Random,
           every_s: float = 10.0) -> list:
    alarms = []
    for i in range(int(minutes * 60 / every_s)):
        alarms += monitor.on_reading(start + i * every_s, {"heart_rate": hr + rng.gauss(0, 2),
                                                           "breathing_rate": br + rng.gauss(0, 0.7)})
    return alarms


def test_one_noisy_reading_is_not_an_alarm_but_a_sustained_low_pulse_is() -> None:
    monitor = VitalsMonitor()
    monitor.on_bed(T0, True)
    assert monitor.on_reading(T0, {"heart_rate": 32}) == []
    assert monitor.on_reading(T0 + 10, {"heart_rate": 60}) == [], "one misreading, then normal again"
    alarms = [a for i in range(30) for a in monitor.on_reading(T0 + 100 + 10 * i, {"heart_rate": 35})]
    assert [(a.reason, a.metric) for a in alarms] == [("bound", "heart_rate")]
    assert alarms[0].ts - alarms[0].since >= monitor.bound_persist_s


def test_a_change_within_bounds_alarms_only_once_the_persons_baseline_is_learned() -> None:
    rng = random.Random(1)
    cold = VitalsMonitor()
    cold.on_bed(T0, True)
    assert _night(cold, 20, hr=88, br=15, start=T0, rng=rng) == [], "88 bpm is normal for an unknown person"
    monitor = VitalsMonitor()
    monitor.on_bed(T0, True)
    assert _night(monitor, 120, hr=54, br=13, start=T0, rng=rng) == []
    assert monitor.baselines["heart_rate"].learned_
    assert abs(monitor.baselines["heart_rate"].center_ - 54) < 3
    alarms = _night(monitor, 20, hr=88, br=13, start=T0 + 7200, rng=rng)
    assert [(a.reason, a.metric) for a in alarms] == [("deviation", "heart_rate")]


def test_pause_in_breathing_while_the_heart_is_read_is_an_apnea_alarm_once() -> None:
    monitor = VitalsMonitor(apnea_s=60)
    monitor.on_bed(T0, True)
    monitor.on_reading(T0, {"heart_rate": 60, "breathing_rate": 14})
    alarms = [a for i in range(1, 13) for a in monitor.on_reading(T0 + 10 * i, {"heart_rate": 62})]
    assert [(a.reason, a.evidence["pause_s"]) for a in alarms] == [("apnea", 60)]
    monitor.on_reading(T0 + 200, {"heart_rate": 60, "breathing_rate": 14})
    later = [a for i in range(1, 8) for a in monitor.on_reading(T0 + 200 + 10 * i, {"heart_rate": 62})]
    assert [a.reason for a in later] == ["apnea"], "breathing resumed, so the next pause is a new episode"


def test_an_empty_bed_raises_nothing() -> None:
    monitor = VitalsMonitor()
    monitor.on_bed(T0, False)
    assert [a for i in range(100) for a in monitor.on_reading(T0 + 10 * i, {"heart_rate": 20})] == []


def test_state_round_trips_through_json_and_stays_small() -> None:
    rng = random.Random(2)
    monitor = VitalsMonitor()
    monitor.on_bed(T0, True)
    _night(monitor, 60, hr=58, br=14, start=T0, rng=rng)
    blob = json.dumps(monitor.to_dict())
    restored = VitalsMonitor()
    restored.load_dict(json.loads(blob))
    probe = {"heart_rate": 33.0, "breathing_rate": 14.0}
    for i in range(30):
        assert monitor.on_reading(T0 + 4000 + 10 * i, probe) == restored.on_reading(T0 + 4000 + 10 * i, probe)
    assert len(blob) < 2000


def test_baseline_shrugs_off_outliers() -> None:
    baseline = RobustBaseline(prior_center=65, prior_scale=8)
    rng = random.Random(3)
    for i in range(2000):
        baseline.partial_fit(200.0 if i % 20 == 0 else rng.gauss(60, 2))  # 5% mat misreads
    assert abs(baseline.center_ - 60) < 1.5
    assert baseline.scale_ < 5
