"""On-call windows (server/registry/oncall.py) and the registry lookups of the escalation engine
(server/escalation/recipients.py): who is on duty at a given instant, and a home's resident category."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import create_schema, make_engine, make_sessionmaker
from server.db.tables import HomeRow, OnCallShiftRow, ResidentRow, ResponderRow, VisitorAssignmentRow
from server.escalation.policy import CATEGORIES
from server.escalation.recipients import (
    ServiceNumbers,
    assigned_visitors,
    home_category,
    on_duty_responders,
    recipients_for,
)
from server.registry.oncall import Window, in_window, on_call
from server.schemas.registry import DEVICE_TYPES, Category

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = [0, 1, 2, 3, 4]


def _at(year: int, month: int, day: int, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    """An instant given in local time, as the aware UTC datetime the engine passes."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


# 2026-11-23 is a Monday, 2026-11-27 a Friday, 2026-11-28 a Saturday.
@pytest.mark.parametrize(
    ("window", "instant", "inside"),
    [
        (Window(tuple(WEEKDAYS), "08:00", "20:00", "Asia/Shanghai"), _at(2026, 11, 23, 8, 0), True),
        (Window(tuple(WEEKDAYS), "08:00", "20:00", "Asia/Shanghai"), _at(2026, 11, 23, 19, 59), True),
        (Window(tuple(WEEKDAYS), "08:00", "20:00", "Asia/Shanghai"), _at(2026, 11, 23, 20, 0), False),
        (Window(tuple(WEEKDAYS), "08:00", "20:00", "Asia/Shanghai"), _at(2026, 11, 23, 7, 59), False),
        (Window(tuple(WEEKDAYS), "08:00", "20:00", "Asia/Shanghai"), _at(2026, 11, 28, 12, 0), False),
        # Friday night into Saturday morning: the window belongs to the day it starts on.
        (Window((4,), "22:00", "06:00", "Asia/Shanghai"), _at(2026, 11, 27, 23, 30), True),
        (Window((4,), "22:00", "06:00", "Asia/Shanghai"), _at(2026, 11, 28, 5, 59), True),
        (Window((4,), "22:00", "06:00", "Asia/Shanghai"), _at(2026, 11, 28, 6, 0), False),
        (Window((4,), "22:00", "06:00", "Asia/Shanghai"), _at(2026, 11, 28, 23, 0), False),
        (Window((4,), "22:00", "06:00", "Asia/Shanghai"), _at(2026, 11, 27, 3, 0), False),  # Thursday's night
        # Sunday night into Monday morning wraps the week.
        (Window((6,), "20:00", "08:00", "Asia/Shanghai"), _at(2026, 11, 23, 7, 0), True),
        # start == end: a whole day from `start`.
        (Window((5,), "00:00", "00:00", "Asia/Shanghai"), _at(2026, 11, 28, 23, 59), True),
        (Window((5,), "00:00", "00:00", "Asia/Shanghai"), _at(2026, 11, 29, 0, 0), False),
        (Window((0,), "08:00", "08:00", "Asia/Shanghai"), _at(2026, 11, 24, 7, 59), True),
        (Window((0,), "08:00", "08:00", "Asia/Shanghai"), _at(2026, 11, 24, 8, 0), False),
    ],
    ids=[
        "day-start", "day-last-minute", "day-end-excluded", "before-day", "saturday-not-listed",
        "friday-late", "saturday-early", "saturday-six", "saturday-night-not-listed", "thursday-early",
        "sunday-into-monday", "all-day-last-minute", "all-day-next-day", "24h-from-eight", "24h-ends",
    ],
)
def test_window_covers_its_local_hours(window: Window, instant: datetime, inside: bool) -> None:
    """Guards who is woken at night: shift boundaries, shifts past midnight and whole-day shifts."""
    assert in_window(window, instant) is inside


def test_window_is_in_its_own_time_zone() -> None:
    """Guards responders in another time zone: 09:00-17:00 in Berlin is not 09:00-17:00 in Shanghai."""
    berlin = Window(tuple(WEEKDAYS), "09:00", "17:00", "Europe/Berlin")
    shanghai_ten = _at(2026, 11, 23, 10)  # 03:00 in Berlin
    berlin_ten = _at(2026, 11, 23, 10, zone=ZoneInfo("Europe/Berlin"))

    assert not in_window(berlin, shanghai_ten)
    assert in_window(berlin, berlin_ten)
    assert in_window(Window(tuple(WEEKDAYS), "09:00", "17:00", "Asia/Shanghai"), shanghai_ten)


def test_window_keeps_wall_clock_hours_across_daylight_saving() -> None:
    """Guards a 08:00 shift start the Monday after clocks change: it still starts at 08:00 local."""
    window = Window((0,), "08:00", "12:00", "Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")

    assert in_window(window, _at(2026, 3, 30, 8, 0, zone=berlin))  # summer time began on 29 March
    assert not in_window(window, _at(2026, 3, 30, 7, 59, zone=berlin))


def test_responder_without_shifts_is_always_on_call_and_naive_time_is_refused() -> None:
    """Guards the default (no shifts = on duty whenever the flag is set) and the aware-UTC contract."""
    assert on_call([], _at(2026, 11, 23, 3))
    assert not on_call([Window((0,), "08:00", "09:00", "UTC")], _at(2026, 11, 23, 3))
    with pytest.raises(ValueError, match="aware"):
        in_window(Window((0,), "08:00", "09:00", "UTC"), datetime(2026, 11, 23, 8, 30))  # noqa: DTZ001


def test_schema_lists_match_the_policy_and_the_edge_adapters() -> None:
    """Guards the registry's fixed sets against drifting from what the policy and the edge agents know."""
    from edge.adapters import ADAPTERS

    assert get_args(Category) == CATEGORIES
    assert set(DEVICE_TYPES) == set(ADAPTERS)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _responder(session: Session, phone: str, *, community: str = "east", on_duty: bool = True,
               shifts: tuple[tuple[tuple[int, ...], str, str], ...] = ()) -> ResponderRow:
    row = ResponderRow(name="r", phone=phone, community=community, on_duty=on_duty)
    session.add(row)
    session.flush()
    for days, start, end in shifts:
        shift = OnCallShiftRow(responder_id=row.id, days=list(days), start=start, end=end, timezone="Asia/Shanghai")
        session.add(shift)
    return row


def test_on_duty_responders_honour_their_shifts(sessions: sessionmaker[Session]) -> None:
    """Guards who an SOS reaches: the day responder by day, the night responder by night, the one on
    leave never, and one without shifts always."""
    with sessions() as session:
        session.add(HomeRow(id="h1", community="east", shard=0))
        day = _responder(session, "+8613800000001", shifts=((tuple(WEEKDAYS), "08:00", "20:00"),))
        night = _responder(session, "+8613800000002", shifts=((tuple(range(7)), "20:00", "08:00"),))
        _responder(session, "+8613800000003", on_duty=False)  # on leave: never, shifts or not
        always = _responder(session, "+8613800000004")
        _responder(session, "+8613800000005", community="west")
        session.commit()

        monday_noon = _at(2026, 11, 23, 12)
        monday_night = _at(2026, 11, 23, 23)
        saturday_noon = _at(2026, 11, 28, 12)

        def keys(now: datetime) -> list[str]:
            return [r.key for r in on_duty_responders(session=session, home_id="h1", now=now)]

        assert keys(monday_noon) == [f"responder:{day.id}", f"responder:{always.id}"]
        assert keys(monday_night) == [f"responder:{night.id}", f"responder:{always.id}"]
        assert keys(saturday_noon) == [f"responder:{always.id}"]
        numbers = ServiceNumbers(operator="+8610000000000")
        first = recipients_for("on_duty_responder", session=session, home_id="h1", reached=(), numbers=numbers,
                               now=monday_night)
        assert [r.key for r in first] == [f"responder:{night.id}"]
        phones = [r.phone for r in on_duty_responders(session=session, home_id="h1", now=monday_noon)]
        assert phones == ["+8613800000001", "+8613800000004"]
        assert on_duty_responders(session=session, home_id="nowhere", now=monday_noon) == []


def test_assigned_visitor_off_shift_is_not_reached(sessions: sessionmaker[Session]) -> None:
    """Guards visitors' nights: an INACTIVITY alert at 02:00 skips a visitor whose shift is the daytime."""
    with sessions() as session:
        session.add(HomeRow(id="h1", community="east", shard=0))
        visitor = _responder(session, "+8613700000001", community="visitors",
                             shifts=((tuple(range(7)), "08:00", "18:00"),))
        session.flush()
        session.add(VisitorAssignmentRow(home="h1", responder_id=visitor.id))
        session.commit()

        day = assigned_visitors(session=session, home_id="h1", now=_at(2026, 11, 23, 10))
        night = assigned_visitors(session=session, home_id="h1", now=_at(2026, 11, 23, 2))

    assert [(r.key, r.role) for r in day] == [(f"responder:{visitor.id}", "visitor")]
    assert night == []


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        ((), "other"),
        (("other",), "other"),
        (("other", "special_difficulty"), "special_difficulty"),
        (("special_difficulty", "disabled_or_dementia", "other"), "disabled_or_dementia"),
        (("special_difficulty", "safety_net"), "safety_net"),
    ],
    ids=["no-residents", "other", "special-difficulty", "dementia-first", "safety-net-first"],
)
def test_home_category_is_its_most_vulnerable_residents(
    sessions: sessionmaker[Session], categories: tuple[str, ...], expected: str
) -> None:
    """Guards the escalation rule a home gets: one resident with dementia makes the whole home's rule."""
    now = datetime.now(UTC)
    with sessions() as session:
        session.add(HomeRow(id="h1", community="east", shard=0))
        session.add(HomeRow(id="h2", community="east", shard=0))
        session.flush()
        for index, category in enumerate(categories):
            session.add(ResidentRow(home="h1", name=f"r{index}", category=category, created_at=now))
        session.add(ResidentRow(home="h2", name="neighbour", category="safety_net", created_at=now))
        session.commit()

        assert home_category(session=session, home_id="h1") == expected
        assert home_category(session=session, home_id="unregistered") == "other"

