"""Visiting care by the month: who has the visiting duty, who was visited, who is overdue.

The target (DESIGN.md, "Visiting care"): special-difficulty elders are visited regularly, a monthly visit
rate of 100%. Here a resident has the visiting duty when their category is special difficulty or their
home has an assigned visitor; a visit to a home counts for every resident living there. A month is a
calendar month in the service's local time zone, so a visit at 23:30 on 31 March in Shanghai counts for
March although it is 15:30 UTC. A resident counts in a month's duty only once registered (created
before the month's end); assignments carry no date and count in every month.

Each report is a single grouped query (months are columns of it), not a query per resident or home.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from server.db.tables import HomeRow, ResidentRow, ResponderRow, VisitorAssignmentRow, VisitRow

DUTY_CATEGORY: Final = "special_difficulty"  # policy.CATEGORIES: the one the source documents name
TARGET_RATE: Final = 1.0  # monthly visit rate 100%
DEFAULT_TIMEZONE: Final = "Asia/Shanghai"  # the policy's default; the routes use the configured policy's
ALL_COMMUNITIES: Final = "*"  # the `community` of a total over several communities
MAX_MONTHS: Final = 36


@dataclass(frozen=True, slots=True)
class LocalMonth:
    """A calendar month in a time zone, as the instants `[start, end)` in UTC."""

    label: str  # "2025-03"
    start: datetime
    end: datetime


def _month(year: int, month: int, tz: ZoneInfo) -> LocalMonth:
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return LocalMonth(
        label=f"{year:04d}-{month:02d}",
        start=datetime(year, month, 1, tzinfo=tz).astimezone(UTC),
        end=datetime(*following, 1, tzinfo=tz).astimezone(UTC),
    )


def parse_month(label: str, tz: ZoneInfo) -> LocalMonth:
    """The month "YYYY-MM" in `tz`; `ValueError` when it is not one."""
    year, sep, month = label.partition("-")
    if not (sep and len(year) == 4 and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
        raise ValueError(f"expected a month like 2025-03, got {label!r}")
    return _month(int(year), int(month), tz)


def month_of(instant: datetime, tz: ZoneInfo) -> LocalMonth:
    """The local month `instant` falls in."""
    local = instant.astimezone(tz)
    return _month(local.year, local.month, tz)


def months_until(instant: datetime, count: int, tz: ZoneInfo) -> list[LocalMonth]:
    """The `count` local months ending with the one `instant` falls in, oldest first."""
    local = instant.astimezone(tz)
    index = local.year * 12 + local.month - 1
    return [_month(i // 12, i % 12 + 1, tz) for i in range(index - count + 1, index + 1)]


def has_duty() -> ColumnElement[bool]:
    """SQL condition on `ResidentRow`: the resident must be visited every month."""
    return or_(ResidentRow.category == DUTY_CATEGORY, ResidentRow.home.in_(select(VisitorAssignmentRow.home)))


@dataclass(frozen=True, slots=True)
class MonthRate:
    """One community's visiting care in one month."""

    community: str
    month: str
    duty: int
    visited: int

    @property
    def rate(self) -> float | None:
        """Visited / duty, `None` when nobody has the duty."""
        return self.visited / self.duty if self.duty else None

    @property
    def gap(self) -> float | None:
        """How far below the target (0 when met)."""
        rate = self.rate
        return None if rate is None else round(max(TARGET_RATE - rate, 0.0), 6)


def visit_rates(
    *, session: Session, months: Sequence[LocalMonth], communities: Collection[str] | None = None
) -> list[MonthRate]:
    """Duty and visited residents per community and month, by community then month.

    With `communities`, exactly those (a community without any duty resident gets zero rows); without,
    every community that has a resident with the duty.
    """
    if not months:
        return []
    # Per home, one 0/1 column per month: was it visited in that month?
    flags = [
        func.max(case((and_(VisitRow.at >= month.start, VisitRow.at < month.end), 1), else_=0)).label(f"m{i}")
        for i, month in enumerate(months)
    ]
    visited_homes = (
        select(VisitRow.home, *flags)
        .where(VisitRow.at >= min(m.start for m in months), VisitRow.at < max(m.end for m in months))
        .group_by(VisitRow.home)
        .subquery()
    )
    columns: list[Any] = []
    for i, month in enumerate(months):
        enrolled = ResidentRow.created_at < month.end
        columns.append(func.sum(case((enrolled, 1), else_=0)))
        columns.append(func.sum(case((and_(enrolled, visited_homes.c[f"m{i}"] == 1), 1), else_=0)))
    query = (
        select(HomeRow.community, *columns)
        .select_from(ResidentRow)
        .join(HomeRow, HomeRow.id == ResidentRow.home)
        .outerjoin(visited_homes, visited_homes.c.home == ResidentRow.home)
        .where(has_duty())
        .group_by(HomeRow.community)
    )
    if communities is not None:
        query = query.where(HomeRow.community.in_(sorted(communities)))
    counts: dict[str, list[int]] = {row[0]: [int(value or 0) for value in row[1:]] for row in session.execute(query)}
    for community in communities or ():
        counts.setdefault(community, [0] * (2 * len(months)))
    return [
        MonthRate(community=community, month=month.label, duty=values[2 * i], visited=values[2 * i + 1])
        for community, values in sorted(counts.items())
        for i, month in enumerate(months)
    ]


def total(rates: Sequence[MonthRate], month: str) -> MonthRate:
    """The communities' rates of one month added up."""
    chosen = [rate for rate in rates if rate.month == month]
    return MonthRate(
        community=ALL_COMMUNITIES,
        month=month,
        duty=sum(rate.duty for rate in chosen),
        visited=sum(rate.visited for rate in chosen),
    )


@dataclass(frozen=True, slots=True)
class Visitor:
    """An assigned visitor of a home."""

    responder_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Overdue:
    """A resident with the duty and no visit yet in the month of `as_of`."""

    resident_id: int
    category: str
    home: str
    community: str
    visitors: tuple[Visitor, ...]
    last_visit_at: datetime | None
    days_since_last_visit: int | None


def overdue(
    *, session: Session, as_of: datetime, tz: ZoneInfo, communities: Collection[str] | None = None, limit: int = 1000
) -> list[Overdue]:
    """Residents with the duty not visited between the start of `as_of`'s local month and `as_of`.

    Most overdue first: never visited (by home, resident), then the longest since their last visit.
    """
    month = month_of(as_of, tz)
    last = (
        select(VisitRow.home, func.max(VisitRow.at).label("last_at"))
        .where(VisitRow.at <= as_of)
        .group_by(VisitRow.home)
        .subquery()
    )
    query = (
        select(ResidentRow.id, ResidentRow.category, ResidentRow.home, HomeRow.community, last.c.last_at)
        .join(HomeRow, HomeRow.id == ResidentRow.home)
        .outerjoin(last, last.c.home == ResidentRow.home)
        .where(has_duty(), ResidentRow.created_at <= as_of, or_(last.c.last_at.is_(None), last.c.last_at < month.start))
        .order_by(last.c.last_at.asc().nulls_first(), ResidentRow.home, ResidentRow.id)
        .limit(limit)
    )
    assignments = (
        select(VisitorAssignmentRow.home, ResponderRow.id, ResponderRow.name)
        .join(ResponderRow, ResponderRow.id == VisitorAssignmentRow.responder_id)
        .join(HomeRow, HomeRow.id == VisitorAssignmentRow.home)
        .order_by(VisitorAssignmentRow.id)
    )
    if communities is not None:
        query = query.where(HomeRow.community.in_(sorted(communities)))
        assignments = assignments.where(HomeRow.community.in_(sorted(communities)))
    visitors: dict[str, list[Visitor]] = {}
    for home, responder_id, name in session.execute(assignments):
        visitors.setdefault(home, []).append(Visitor(responder_id=responder_id, name=name))
    return [
        Overdue(
            resident_id=resident_id,
            category=category,
            home=home,
            community=community,
            visitors=tuple(visitors.get(home, ())),
            last_visit_at=last_at,
            days_since_last_visit=None if last_at is None else (as_of - last_at) // timedelta(days=1),
        )
        for resident_id, category, home, community, last_at in session.execute(query)
    ]
