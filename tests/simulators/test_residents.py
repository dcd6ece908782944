"""Routines: contiguous days around the resident's habits, validated settings."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest

from simulators.residents import OUT, Routine, RoutinePlanner

TZ = timezone(timedelta(hours=8))


def _stays(routine: Routine, days: int, seed: int = 1) -> list:
    start = datetime(2025, 3, 3, 10, 17, tzinfo=TZ).timestamp()
    stays = []
    for stay in RoutinePlanner(routine, TZ, random.Random(seed)).stays(start):
        if stay.start >= start + days * 86400:
            return stays
        stays.append(stay)
    return stays


def test_stays_are_contiguous_and_start_at_the_requested_time() -> None:
    """Guards against gaps or overlaps between stays: a resident is always somewhere, exactly once."""
    stays = _stays(Routine(), 14)
    assert stays[0].start == datetime(2025, 3, 3, 10, 17, tzinfo=TZ).timestamp()
    for a, b in itertools.pairwise(stays):
        assert a.end == pytest.approx(b.start), (a, b)
        assert a.end > a.start
        assert not (a.room == b.room and a.activity == b.activity)  # merged, not split


def test_days_follow_the_habits() -> None:
    """Guards against routines that ignore their settings (an early riser still sleeping at nine)."""
    early = Routine(wake=5.0, bedtime=20.0, jitter_min=10, night_bathroom_trips=0)
    for stay in _stays(early, 10):
        hour = datetime.fromtimestamp(stay.start, TZ).hour + datetime.fromtimestamp(stay.start, TZ).minute / 60
        if stay.activity == "sleep":
            assert hour >= 19.7 or hour < 5.2, (hour, stay)
        if stay.activity == "meal":
            assert 5 <= hour <= 19.5
    assert not [s for s in _stays(Routine(outing_probability=0, visitor_probability=0), 10) if s.room == OUT]


def test_routine_settings_are_validated_with_the_field_named() -> None:
    """Guards against a typo in a scenario's residents silently using defaults."""
    assert Routine.from_mapping({"wake": 7, "outing_min": [30, 60]}).outing_min == (30.0, 60.0)
    with pytest.raises(ValueError, match=r"residents\[0\]\.wak: unknown routine setting"):
        Routine.from_mapping({"wak": 7}, "residents[0]")
    with pytest.raises(ValueError, match=r"routine\.wake: expected a number"):
        Routine.from_mapping({"wake": "seven"})
    with pytest.raises(ValueError, match=r"routine\.outing_min: expected \[low, high\]"):
        Routine.from_mapping({"outing_min": [60, 30]})
    with pytest.raises(ValueError, match="wake < bedtime"):
        Routine.from_mapping({"wake": 23, "bedtime": 21})
