"""Who is on call when: weekly shift windows in local time, checked against an aware instant.

A shift starts at `start` on each of its `days` (0 = Monday, local) and lasts until `end`; an `end`
before `start` runs past midnight into the next day, and `start == end` lasts a whole day (24 hours from
`start`). Windows are wall-clock times in the shift's time zone, so "08:00-20:00" stays 08:00-20:00
local across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Window:
    """One weekly on-call window, as stored in `on_call_shifts`."""

    days: tuple[int, ...]
    start: str  # "HH:MM"
    end: str  # "HH:MM"
    timezone: str  # IANA


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    return int(hours) * 60 + int(minutes)


def in_window(window: Window, now: datetime) -> bool:
    """Whether the aware instant `now` falls inside `window` (start inclusive, end exclusive)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (UTC)")
    local = now.astimezone(_zone(window.timezone)).replace(tzinfo=None)
    start, end = _minutes(window.start), _minutes(window.end)
    length = timedelta(minutes=(end - start) % MINUTES_PER_DAY or MINUTES_PER_DAY)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # A window that covers `local` began today or, running past midnight, yesterday.
    for back in (0, 1):
        day = midnight - timedelta(days=back)
        if day.weekday() in window.days:
            opened = day + timedelta(minutes=start)
            if opened <= local < opened + length:
                return True
    return False


def on_call(windows: Iterable[Window], now: datetime) -> bool:
    """Whether a responder with these shifts is on call at `now`: always when they have no shifts."""
    listed = list(windows)
    return not listed or any(in_window(window, now) for window in listed)
