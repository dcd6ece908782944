"""Welfare visits: a responder logs their own, an operator or admin logs one on a visitor's behalf."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from server.api.deps import EscalationDep, SessionDep, StaffDep
from server.api.routes.reports import TimezoneQuery, invalid, local_zone
from server.auth import Role
from server.crud.visits import list_visits, log_visit, may_visit
from server.db.tables import HomeRow, ResponderRow
from server.reports.visits import parse_month
from server.schemas import VisitIn, VisitPublic
from server.schemas.visits import Month

router = APIRouter(prefix="/visits", tags=["visits"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_visit(body: VisitIn, session: SessionDep, principal: StaffDep) -> VisitPublic:
    """Log a visit (channel "api"). 422 unknown `home` or `responder_id`, or `at` in the future; 403 not yours."""
    home = session.get(HomeRow, body.home)
    if home is None:
        raise invalid(("body", "home"), f"no home {body.home!r} is registered")
    if principal.role is Role.RESPONDER:
        if principal.responder_id is None or body.responder_id not in (None, principal.responder_id):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="a responder logs only their own visits: leave responder_id out or give your own",
            )
        responder_id = principal.responder_id
        communities = principal.communities or frozenset()
        if not may_visit(session=session, responder_id=responder_id, communities=communities, home=home):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="home outside your communities")
    else:
        if body.responder_id is None:
            raise invalid(("body", "responder_id"), "required when an operator or admin logs a visit: who visited")
        if session.get(ResponderRow, body.responder_id) is None:
            raise invalid(("body", "responder_id"), f"no responder {body.responder_id}")
        responder_id = body.responder_id
    visit, _created = log_visit(
        session=session,
        home=home.id,
        responder_id=responder_id,
        at=body.at or datetime.now(UTC),
        notes=body.notes,
        channel="api",
        actor=principal.key,
    )
    return VisitPublic.model_validate(visit)


@router.get("")
def read_visits(
    *,
    session: SessionDep,
    principal: StaffDep,
    escalation: EscalationDep,
    home: str | None = None,
    responder_id: int | None = None,
    month: Annotated[Month | None, Query()] = None,
    tz: TimezoneQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[VisitPublic]:
    """Visits latest first; a responder sees those to homes of their communities and their own.

    `month` (YYYY-MM) is a calendar month in `tz` (default: the escalation policy's time zone).
    """
    start = end = None
    if month is not None:
        local = parse_month(month, local_zone(tz, escalation))
        start, end = local.start, local.end
    rows = list_visits(
        session=session,
        limit=limit,
        home=home,
        responder_id=responder_id,
        start=start,
        end=end,
        communities=principal.communities,
        own_responder_id=principal.responder_id,
    )
    return [VisitPublic.model_validate(row) for row in rows]
