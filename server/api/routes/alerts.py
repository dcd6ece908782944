"""Alerts: reading them (newest first, or one with its timeline), acknowledging and resolving them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Query

from server.api.deps import ActorDep, SessionDep
from server.crud.alerts import get_alert, list_alerts
from server.crud.lifecycle import LifecycleError, acknowledge, resolve, timeline
from server.schemas import AckIn, AlertDetail, AlertPublic, ResolveIn, TimelineEntry

router = APIRouter(prefix="/alerts", tags=["alerts"])

AlertId = Annotated[str, Path(min_length=1, max_length=64)]
DEFAULT_API_ACTOR = "api"  # until authentication names the user


def _http(exc: LifecycleError) -> HTTPException:
    return HTTPException(exc.status_code, detail=exc.message)


@router.get("")
def read_alerts(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    home: str | None = None,
) -> list[AlertPublic]:
    """Alerts newest first (by event time), optionally of one home."""
    return [AlertPublic.model_validate(row) for row in list_alerts(session=session, limit=limit, home=home)]


@router.get("/{alert_id}")
def read_alert(alert_id: AlertId, session: SessionDep) -> AlertDetail:
    """One alert with its `status`, its ladder and a `timeline` of every transition and notification."""
    row = get_alert(session=session, alert_id=alert_id)
    if row is None:
        raise HTTPException(404, detail=f"no alert {alert_id!r}")
    detail = AlertDetail.model_validate(row)
    detail.timeline = [TimelineEntry(**entry) for entry in timeline(session=session, alert_id=alert_id)]
    return detail


@router.post("/{alert_id}/ack")
def ack_alert(
    alert_id: AlertId, session: SessionDep, actor: ActorDep, body: Annotated[AckIn | None, Body()] = None
) -> AlertPublic:
    """Acknowledge: someone takes the alert and its ladder stops. 404 unknown, 409 already resolved."""
    who = actor or (body.by if body is not None else None) or DEFAULT_API_ACTOR
    try:
        row = acknowledge(session=session, alert_id=alert_id, actor=who, channel="api")
    except LifecycleError as exc:
        raise _http(exc) from None
    return AlertPublic.model_validate(row)


@router.post("/{alert_id}/resolve")
def resolve_alert(alert_id: AlertId, body: ResolveIn, session: SessionDep, actor: ActorDep) -> AlertPublic:
    """Close with an `outcome` and a `note`. 404 unknown, 409 already resolved, 422 unknown outcome."""
    who = actor or body.by or DEFAULT_API_ACTOR
    try:
        row = resolve(session=session, alert_id=alert_id, actor=who, outcome=body.outcome, note=body.note)
    except LifecycleError as exc:
        raise _http(exc) from None
    return AlertPublic.model_validate(row)
