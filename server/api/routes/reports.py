"""Reports: the monthly visit rate per community against the 100% target, who is overdue, and a chart of both.

Months are calendar months in `tz`, by default the escalation policy's time zone (the homes' local time,
Asia/Shanghai in the shipped policy); every answer says which zone it used. Operators and admins see
every community, a responder only theirs (403 when naming another).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import AwareDatetime

from server.api.deps import EscalationDep, SessionDep, StaffDep, forbid_unless_sees
from server.auth import Principal, Role
from server.escalation import EscalationConfig
from server.reports.plot import PlotUnavailableError, rate_chart_png
from server.reports.visits import (
    MAX_MONTHS,
    TARGET_RATE,
    MonthRate,
    month_of,
    months_until,
    overdue,
    parse_month,
    total,
    visit_rates,
)
from server.schemas import CommunityVisitRate, OverdueReport, OverdueResident, VisitorRef, VisitRateReport
from server.schemas.visits import Month

router = APIRouter(prefix="/reports", tags=["reports"])

PNG: Final = "image/png"
NAMES_SHOWN_TO: Final = frozenset({Role.ADMIN, Role.OPERATOR})  # visitors' names in the overdue list

TimezoneQuery = Annotated[
    str | None,
    Query(max_length=64, description="IANA time zone of the months, e.g. Asia/Shanghai; default: the policy's"),
]
CommunityQuery = Annotated[str | None, Query(min_length=1, max_length=64)]


def invalid(loc: tuple[str, str], message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, naming the field at fault."""
    detail: list[dict[str, Any]] = [{"type": "value_error", "loc": list(loc), "msg": message}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def local_zone(tz: str | None, escalation: EscalationConfig) -> ZoneInfo:
    """The zone named by `tz`, else the escalation policy's; 422 naming `tz` when unknown."""
    name = tz or escalation.policy.timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(("query", "tz"), f"expected an IANA time zone like Asia/Shanghai, got {name!r}") from None


def _scope(principal: Principal, community: str | None) -> frozenset[str] | None:
    """The communities a report covers: the one asked for (if the caller sees it), else all the caller sees."""
    if community is not None:
        forbid_unless_sees(principal, community)
        return frozenset({community})
    return principal.communities


def _public(rate: MonthRate) -> CommunityVisitRate:
    return CommunityVisitRate(
        community=rate.community,
        month=rate.month,
        duty=rate.duty,
        visited=rate.visited,
        unvisited=rate.duty - rate.visited,
        rate=rate.rate,
        target=TARGET_RATE,
        gap=rate.gap,
    )


@router.get("/visits")
def visit_rate_report(
    *,
    session: SessionDep,
    principal: StaffDep,
    escalation: EscalationDep,
    month: Annotated[Month | None, Query(description="YYYY-MM; default: the current local month")] = None,
    community: CommunityQuery = None,
    tz: TimezoneQuery = None,
) -> VisitRateReport:
    """Per community: residents with a visiting duty, those visited at least once in the month, the rate, the gap."""
    zone = local_zone(tz, escalation)
    local = parse_month(month, zone) if month is not None else month_of(datetime.now(UTC), zone)
    rates = visit_rates(session=session, months=[local], communities=_scope(principal, community))
    return VisitRateReport(
        month=local.label,
        timezone=zone.key,
        start=local.start,
        end=local.end,
        target=TARGET_RATE,
        communities=[_public(rate) for rate in rates],
        total=_public(total(rates, local.label)),
    )


@router.get("/visits/overdue")
def overdue_report(
    *,
    session: SessionDep,
    principal: StaffDep,
    escalation: EscalationDep,
    community: CommunityQuery = None,
    as_of: Annotated[AwareDatetime | None, Query(description="ISO time with offset; default: now")] = None,
    tz: TimezoneQuery = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> OverdueReport:
    """Residents with a visiting duty and no visit yet in `as_of`'s local month, most overdue first."""
    zone = local_zone(tz, escalation)
    instant = as_of or datetime.now(UTC)
    names = principal.role in NAMES_SHOWN_TO
    rows = overdue(session=session, as_of=instant, tz=zone, communities=_scope(principal, community), limit=limit)
    return OverdueReport(
        as_of=instant,
        month=month_of(instant, zone).label,
        timezone=zone.key,
        residents=[
            OverdueResident(
                resident_id=row.resident_id,
                category=row.category,
                home=row.home,
                community=row.community,
                visitors=[
                    VisitorRef(responder_id=v.responder_id, name=v.name if names else None) for v in row.visitors
                ],
                last_visit_at=row.last_visit_at,
                days_since_last_visit=row.days_since_last_visit,
            )
            for row in rows
        ],
    )


@router.get(
    "/visits.png",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}, 501: {"description": "matplotlib is not installed"}},
)
def visit_rate_chart(
    *,
    session: SessionDep,
    principal: StaffDep,
    escalation: EscalationDep,
    months: Annotated[int, Query(ge=1, le=MAX_MONTHS)] = 6,
    community: CommunityQuery = None,
    tz: TimezoneQuery = None,
) -> Response:
    """A PNG of each community's monthly visit rate over the last `months` months, with the 100% target line."""
    zone = local_zone(tz, escalation)
    now = datetime.now(UTC)
    span = months_until(now, months, zone)
    rates = visit_rates(session=session, months=span, communities=_scope(principal, community))
    try:
        png = rate_chart_png(rates=rates, months=span, timezone=zone.key, now=now)
    except PlotUnavailableError as exc:
        raise HTTPException(status.HTTP_501_NOT_IMPLEMENTED, detail=str(exc)) from None
    return Response(content=png, media_type=PNG, headers={"Cache-Control": "no-store"})
