"""Homes for the inactivity tests: scripted event streams, cached simulated homes, the real homes (or a skip).

The helpers are imported by the other `test_inactivity_*` modules; the tests here check the simulated-home
harness itself, since every simulated figure rests on it.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import pytest

from homesafe.detect_inactivity import (
    LAYOUTS,
    SIM_UTC_OFFSET_S,
    SimHome,
    daytime_collapse_time,
    read_events,
    simulated_home,
)

ADL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "adl"
DAY = 86400.0
T0 = 1_700_006_400.0  # a local midnight (ts % 86400 == 0, offset 0)
Event = tuple[float, str, str, int]


def real_home(name: str) -> list[Event]:
    """A real development home's events, or a skip saying the data is absent (it is not in the repo)."""
    path = ADL_DATA / f"{name}.csv.gz"
    if not path.is_file():
        pytest.skip(f"real ADL data absent: {path} not found (shared/data/adl is not in the repository; put it "
                    "beside the repository to run the real-home tests)")
    return _real_home(str(path))


@functools.lru_cache(maxsize=4)
def _real_home(path: str) -> list[Event]:
    return [e for _, e in read_events(path)]


@functools.lru_cache(maxsize=64)
def sim(seed: int, days: float, layout: str = "full", incident: str | None = None, at: float | None = None) -> SimHome:
    """A simulated home, cached (the simulator is deterministic per seed)."""
    return simulated_home(seed, days=days, layout=layout, incident=incident, at=at)


def local(day: int, hour: float) -> float:
    """Epoch time of local `hour` on scripted day `day` (offset 0)."""
    return T0 + day * DAY + hour * 3600.0


def ordinary_day(day: int, *, wake: float = 7.0, bed: float = 22.0, gap_min: float = 6.0, seed: int = 0,
                 out: tuple[float, float] | None = None) -> list[Event]:
    """A scripted day of an older adult with a PIR per room and a bed mat: in bed at night, moving by day.

    Movement every `gap_min` minutes on average between getting up and going to bed, in a few rooms;
    `out` = (leave hour, back hour) adds an outing through the front door.
    """
    rng = random.Random(seed * 1000 + day)
    events: list[Event] = [(local(day, wake), "bed_mat", "bed", 0)]
    t = local(day, wake) + 30
    end = local(day, bed)
    rooms = ("living_motion", "kitchen_motion", "bathroom_motion", "bedroom_motion", "hallway_motion")
    while t < end:
        if out is not None and local(day, out[0]) <= t < local(day, out[1]):
            leave, back = local(day, out[0]), local(day, out[1])
            events += [(leave - 60, "hallway_motion", "motion", 1), (leave, "front_door", "front_door", 1),
                       (leave + 8, "front_door", "front_door", 0), (back, "front_door", "front_door", 1),
                       (back + 6, "front_door", "front_door", 0), (back + 15, "hallway_motion", "motion", 1)]
            t = back + 60
            continue
        events.append((t, rng.choice(rooms), "motion", 1))
        t += rng.expovariate(1.0 / (gap_min * 60.0))
    events += [(end, "bedroom_motion", "motion", 1), (end + 60, "bed_mat", "bed", 1)]
    return sorted(events)


def ordinary_days(days: int, **kwargs) -> list[Event]:
    """`days` scripted ordinary days in a row (the first starts in bed at midnight)."""
    events: list[Event] = [(T0, "bed_mat", "bed", 1)]
    for day in range(days):
        events += ordinary_day(day, **kwargs)
    return events


# -- the harness itself --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_makes_a_sane_event_stream(layout):
    """Guards against a layout silently producing no events, unknown kinds, or events out of time order."""
    from models.inactivity import KINDS

    home = sim(11, 3.0, layout)
    assert len(home.events) > 100
    assert all(kind in KINDS for _, _, kind, _ in home.events)
    assert all(a[0] <= b[0] for a, b in zip(home.events, home.events[1:], strict=False))
    kinds = {kind for _, _, kind, _ in home.events}
    assert ("motion" in kinds) == (layout in ("full", "no_bed", "sparse_pir", "mats"))
    assert ("bed" in kinds) == (layout in ("full", "sparse_pir", "mats"))
    assert "front_door" in kinds


def test_a_collapse_leaves_the_home_silent_and_the_life_before_it_unchanged():
    """Guards against delays measured on a home that still moves after its collapse, or on a different life."""
    base = sim(12, 20.0)
    at = daytime_collapse_time(base, random.Random(12), first_day=14, last_day=18)
    assert at is not None
    hour = ((at + SIM_UTC_OFFSET_S) % DAY) / 3600.0
    assert 8.0 <= hour <= 20.0
    crash = sim(12, (at - base.start) / DAY + 1.0, "full", "collapse", at)
    before = [e for e in base.events if e[0] < at]
    assert [e for e in crash.events if e[0] < at] == before
    moving_after = [e for e in crash.events if e[0] > at + 200 and e[3] == 1 and e[2] in ("motion", "front_door")]
    assert moving_after == []
