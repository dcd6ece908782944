"""Alerts: reading them (newest first, or one with its timeline), acknowledging and resolving them.

Every caller with a token reads alerts; responders only those of homes in their communities (another
community's alert is 403, not hidden behind a 404: the caller learns nothing but that it is not theirs).
Acknowledging and resolving is for people who act on alerts (admin, operator, responder), recorded as
the caller's `principal.key` and audited in the same transaction as the change.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from fastapi import APIRouter, Body, Header, HTTPException, Path, Query
from sqlalchemy.orm import Session

from server.api.deps import ReaderDep, SessionDep, StaffDep, forbid_unless_sees
from server.auth import Principal, Role
from server.crud.alerts import get_alert
from server.crud.audit import record
from server.crud.lifecycle import LifecycleError, acknowledge, resolve, timeline
from server.crud.registry import home_community
from server.crud.scoping import list_alerts_in
from server.db.tables import AlertRow
from server.schemas import AckIn, AlertDetail, AlertPublic, ResolveIn, TimelineEntry

router = APIRouter(prefix="/alerts", tags=["alerts"])

AlertId = Annotated[str, Path(min_length=1, max_length=64)]
ENTITY: Final = "alerts"
ACK_FIELDS: Final = ("status", "acknowledged_at", "acknowledged_by", "ack_channel")
RESOLVE_FIELDS: Final = ("status", "resolved_at", "resolved_by", "outcome")


def _http(exc: LifecycleError) -> HTTPException:
    return HTTPException(exc.status_code, detail=exc.message)


def _visible_alert(session: Session, principal: Principal, alert_id: str) -> AlertRow:
    """The alert, 404 if there is none, 403 if its home is outside the caller's communities."""
    row = get_alert(session=session, alert_id=alert_id)
    if row is None:
        raise HTTPException(404, detail=f"no alert {alert_id!r}")
    if principal.scoped:
        forbid_unless_sees(principal, home_community(session=session, home_id=row.home))
    return row


def _on_behalf_of(body: AckIn | ResolveIn | None) -> dict[str, str]:
    # `by` is a note from shared desks ("user:alice" on an operator token): kept in the audit, never the actor.
    return {"on_behalf_of": body.by} if body is not None and body.by else {}


@router.get("")
def read_alerts(
    session: SessionDep,
    principal: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    home: str | None = None,
) -> list[AlertPublic]:
    """Alerts newest first (by event time), optionally of one home; responders get their communities' only."""
    rows = list_alerts_in(session=session, limit=limit, communities=principal.communities, home=home)
    return [AlertPublic.model_validate(row) for row in rows]


@router.get("/{alert_id}")
def read_alert(alert_id: AlertId, session: SessionDep, principal: ReaderDep) -> AlertDetail:
    """One alert with its `status`, its ladder and a `timeline` of every transition and notification."""
    row = _visible_alert(session, principal, alert_id)
    detail = AlertDetail.model_validate(row)
    detail.timeline = [TimelineEntry(**entry) for entry in timeline(session=session, alert_id=alert_id)]
    if principal.role is Role.INTEGRATOR:
        # Integrators check that a run notified someone, not whom: the numbers are residents' and staff's data.
        for entry in detail.timeline:
            entry.to = None
    return detail


@router.post("/{alert_id}/ack")
def ack_alert(
    alert_id: AlertId,
    session: SessionDep,
    principal: StaffDep,
    body: Annotated[AckIn | None, Body()] = None,
    channel: Annotated[
        Literal["api", "web"], Header(alias="X-HomeSafe-Channel", description="web when sent by the dashboard")
    ] = "api",
) -> AlertPublic:
    """Acknowledge as the caller: they take the alert and its ladder stops. 404 unknown, 403 another
    community's, 409 already resolved. The timeline says whether it came from the dashboard or the API."""
    _visible_alert(session, principal, alert_id)
    # Added before the lifecycle call, which commits it with the change (and leaves it out when it changes
    # nothing, e.g. the same caller acknowledging twice, or raises).
    record(session=session, actor=principal.key, action="ack", entity=ENTITY, entity_id=alert_id,
           fields=ACK_FIELDS, channel=channel, **_on_behalf_of(body))
    try:
        row = acknowledge(session=session, alert_id=alert_id, actor=principal.key, channel=channel)
    except LifecycleError as exc:
        raise _http(exc) from None
    return AlertPublic.model_validate(row)


@router.post("/{alert_id}/resolve")
def resolve_alert(alert_id: AlertId, body: ResolveIn, session: SessionDep, principal: StaffDep) -> AlertPublic:
    """Close as the caller with an `outcome` and a `note`. 404 unknown, 403 another community's, 409 already
    resolved, 422 unknown outcome."""
    _visible_alert(session, principal, alert_id)
    fields = (*RESOLVE_FIELDS, "note") if body.note is not None else RESOLVE_FIELDS
    record(session=session, actor=principal.key, action="resolve", entity=ENTITY, entity_id=alert_id,
           fields=fields, outcome=body.outcome, **_on_behalf_of(body))
    try:
        row = resolve(session=session, alert_id=alert_id, actor=principal.key, outcome=body.outcome, note=body.note)
    except LifecycleError as exc:
        raise _http(exc) from None
    return AlertPublic.model_validate(row)
