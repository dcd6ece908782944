"""The streaming monitor: streaming = batch, snapshots, event time only, no alarm before its information."""

from __future__ import annotations

import json
import random

import pytest

from models.inactivity import INACTIVITY, InactivityMonitor, default_prior
from models.inactivity.evaluation import replay
from tests.models.test_inactivity_homes import DAY, local, ordinary_days, real_home, sim

PRIOR = default_prior()
OFFSET = 8 * 3600.0


def _collapse_home():
    base = sim(31, 16.0)
    at = base.start + 15 * DAY + 14.5 * 3600.0 - 0.0
    return sim(31, 15.9, "full", "collapse", at), at


def _with_restores(events, cuts, *, end, **params):
    """Alarms of a replay that snapshots to JSON text and restores at each index in `cuts`."""
    monitor = InactivityMonitor(**params)
    alarms = []
    for i, e in enumerate(events):
        if i in cuts:
            monitor = InactivityMonitor.restore(json.loads(json.dumps(monitor.snapshot())))
        alarms += monitor.on_event(*e)
    alarms += monitor.on_tick(end)
    return alarms


def test_snapshot_and_restore_in_the_middle_give_identical_alarms():
    """Guards against state lost or changed by a snapshot (a gateway restart must not move or drop alarms)."""
    home, at = _collapse_home()
    whole = replay(home.events, end=home.end, utc_offset_s=OFFSET)
    rng = random.Random(5)
    cuts = set(rng.sample(range(len(home.events)), 25)) | {len(home.events) - 1}
    restored = _with_restores(home.events, cuts, end=home.end, utc_offset_s=OFFSET)
    assert restored == whole
    assert any(a.ts >= at for a in whole), "the collapse should have raised an alarm"


def test_snapshot_and_restore_on_a_real_home():
    """Guards against snapshot loss on sparse real data (doors only, multi-day absences)."""
    events = real_home("kasteren_a")
    whole = replay(events)
    cuts = set(range(0, len(events), 97))
    assert _with_restores(events, cuts, end=events[-1][0]) == whole


def test_alarms_never_precede_their_information():
    """Guards against look-ahead: a replay stopped at any time raises exactly the full replay's alarms so far,
    and each alarm is stamped no earlier than the silence it reports was complete."""
    home, _ = _collapse_home()
    events = home.events
    full = replay(events, end=home.end, utc_offset_s=OFFSET)
    for a in full:
        assert a.ts - a.since >= 1800.0 - 1e-6  # at least the floor of a threshold after the last activity
    rng = random.Random(7)
    for k in sorted(rng.sample(range(1, len(events)), 12)):
        stop = events[k - 1][0]
        prefix = replay(events[:k], end=stop, utc_offset_s=OFFSET)
        assert prefix == [a for a in full if a.ts <= stop], k


def test_on_event_and_on_tick_only_return_what_their_clock_has_reached():
    """Guards against a monitor stamping alarms in the future of the call that returned them."""
    home, at = _collapse_home()
    monitor = InactivityMonitor(utc_offset_s=OFFSET)
    raised = []
    for ts, sensor, kind, value in home.events:
        for alarm in monitor.on_event(ts, sensor, kind, value):
            assert alarm.ts < ts
            raised.append(alarm)
        deadline = monitor.next_deadline()
        assert deadline is None or deadline >= ts
    for alarm in monitor.on_tick(home.end):
        assert alarm.ts <= home.end
        raised.append(alarm)
    assert any(a.ts > at for a in raised)


def test_next_deadline_is_when_silence_raises_the_alarm():
    """Guards against a gateway timer scheduled at the wrong time: nothing before the deadline, the alarm at it."""
    events = ordinary_days(8, seed=3)
    events = [e for e in events if e[0] < local(7, 14.0)]  # the resident stops moving at 14:00 on day 7
    monitor = InactivityMonitor(prior=PRIOR)
    for e in events:
        monitor.on_event(*e)
    deadline = monitor.next_deadline()
    assert deadline is not None and deadline > events[-1][0]
    assert monitor.on_tick(deadline - 1.0) == []
    alarms = monitor.on_tick(deadline)
    assert [a.type for a in alarms] == [INACTIVITY]
    assert alarms[0].ts == deadline and alarms[0].since == events[-1][0]
    assert alarms[0].evidence["threshold_s"] == pytest.approx(deadline - events[-1][0], abs=0.1)
    assert alarms[0].evidence["last_sensor"] == events[-1][1]


def test_an_alarm_episode_fires_once_and_rearms_on_the_next_activity():
    """Guards against alarm floods on one long silence and against a detector that never alarms again."""
    events = [e for e in ordinary_days(8, seed=3) if e[0] < local(7, 14.0)]
    monitor = InactivityMonitor(prior=PRIOR)
    for e in events:
        monitor.on_event(*e)
    first = monitor.on_tick(local(7, 23.9))
    assert [a.type for a in first] == [INACTIVITY]
    assert monitor.on_tick(local(7, 23.95)) == []
    monitor.on_event(local(8, 0.0), "living_motion", "motion", 1)  # somebody moves again, then nothing
    again = monitor.on_tick(local(8, 16.5))
    assert len(again) == 1 and again[0].since == local(8, 0.0)  # NOT_UP or INACTIVITY, once


def test_same_alarms_whatever_the_wall_clock(monkeypatch):
    """Guards against reading the wall clock anywhere: the same events must give the same alarms at any time."""
    import datetime as dt
    import time

    home, _ = _collapse_home()
    first = replay(home.events, end=home.end, utc_offset_s=OFFSET)
    monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)
    monkeypatch.setattr(time, "monotonic", lambda: 12.0)

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2001, 1, 1, tzinfo=tz)

    monkeypatch.setattr(dt, "datetime", Frozen)
    assert replay(home.events, end=home.end, utc_offset_s=OFFSET) == first


def test_models_inactivity_imports_no_clock_and_nothing_of_homesafe():
    """Guards against a clock or a HomeSafe import creeping into the pure model package (DESIGN: models is pure)."""
    import ast
    from pathlib import Path

    import models.inactivity

    allowed = {"__future__", "collections", "copy", "dataclasses", "functools", "importlib", "json", "math",
               "pathlib", "typing",
               "numpy", "models"}
    for path in Path(models.inactivity.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
        assert "time.time(" not in text and ".now(" not in text, f"{path.name} reads a clock"


def test_the_utc_offset_only_moves_local_time():
    """Guards against local time computed from UTC (or the offset applied twice): shifting every ts by the
    offset and declaring it must give the same alarms, shifted."""
    events = real_home("ordonez_a")
    base = replay(events, false_alarm_rate=8.0)  # a large budget, so that there are alarms to compare
    shift = -5.5 * 3600.0  # the same home, recorded as UTC in UTC+05:30
    moved = replay([(ts + shift, s, k, v) for ts, s, k, v in events], utc_offset_s=-shift, false_alarm_rate=8.0)
    assert base, "expected some alarms at this budget"
    assert [(a.type, round(a.ts + shift, 3), round(a.since + shift, 3)) for a in base] == \
        [(a.type, round(a.ts, 3), round(a.since, 3)) for a in moved]


def test_bad_events_are_refused_before_changing_anything():
    """Guards against a malformed event corrupting a home's state (the gateway counts and drops it)."""
    monitor = InactivityMonitor(prior=PRIOR)
    monitor.on_event(local(0, 9.0), "living_motion", "motion", 1)
    before = json.dumps(monitor.snapshot())
    for bad in ((local(0, 9.1), "x", "teleport", 1), (local(0, 9.1), "x", "motion", 2),
                (float("nan"), "x", "motion", 1), (local(0, 9.1), "", "motion", 1)):
        with pytest.raises(ValueError):
            monitor.on_event(*bad)
    assert json.dumps(monitor.snapshot()) == before


def test_late_events_do_not_move_the_clock_back():
    """Guards against an out-of-order event (spool replay) re-raising or back-dating alarms."""
    monitor = InactivityMonitor(prior=PRIOR)
    for e in ordinary_days(3, seed=5):
        monitor.on_event(*e)
    monitor.on_tick(local(3, 12.0))
    late = monitor.on_event(local(2, 12.0), "kitchen_motion", "motion", 1)
    assert late == []
    assert all(a.ts >= local(3, 12.0) for a in monitor.on_tick(local(3, 23.0)))
