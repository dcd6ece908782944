"""Storing alerts from the gateway, each once, with the notifications that bring it to a human."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.protocol import Alert
from server.crud.registry import on_duty_phones
from server.db.tables import AlertRow, AlertStatus, Channel, NotificationRow, NotificationStatus
from server.texts import alert_ref, alert_sms

_LOGGER = logging.getLogger(__name__)


def _recipients(*, session: Session, home_id: str, operator_phone: str) -> list[str]:
    phones = on_duty_phones(session=session, home_id=home_id)
    if phones is None:
        _LOGGER.warning("home %s is not registered; its alert goes to the operator", home_id)
        return [operator_phone]
    if not phones:
        _LOGGER.warning("no responder on duty for home %s; its alert goes to the operator", home_id)
        return [operator_phone]
    return phones


def ingest_alert(
    *,
    session: Session,
    alert: Alert,
    operator_phone: str,
    now: datetime | None = None,
) -> AlertRow | None:
    """Store a new alert with one pending SMS per on-duty responder of its home's community.

    Idempotent on `alert.id`: an alert already stored (a replay, or a concurrent request that won the
    race) returns `None` and creates nothing. A home without a registry entry or responders on duty
    notifies `operator_phone`, so no alert is dropped for lack of data. Commits.
    """
    received_at = now if now is not None else datetime.now(UTC)
    ref = alert_ref(alert.id)
    row = AlertRow(
        id=alert.id,
        home=alert.home,
        type=alert.type,
        severity=alert.severity,
        status=AlertStatus.OPEN,
        ref=ref,
        opened_at=datetime.fromtimestamp(alert.ts, UTC),
        raised_at=datetime.fromtimestamp(alert.raised_at, UTC),
        received_at=received_at,
        device=alert.device,
        event_id=alert.event_id,
        evidence=dict(alert.evidence),
        model_version=alert.model_version,
    )
    body = alert_sms(alert, ref=ref)
    recipients = _recipients(session=session, home_id=alert.home, operator_phone=operator_phone)
    # No existence check first: the primary key is the check, which also holds when two requests race.
    try:
        session.add(row)
        session.flush()
        session.add_all(
            NotificationRow(
                alert_id=alert.id,
                to=phone,
                channel=Channel.SMS,
                body=body,
                status=NotificationStatus.PENDING,
                attempts=0,
                created_at=received_at,
            )
            for phone in recipients
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        if session.get(AlertRow, alert.id) is None:
            raise  # not a duplicate: some other constraint failed
        _LOGGER.debug("alert %s already stored; duplicate ignored", alert.id)
        return None
    return row


def list_alerts(*, session: Session, limit: int, home: str | None = None) -> Sequence[AlertRow]:
    """Alerts newest first (by event time), optionally of one home."""
    query = select(AlertRow).order_by(AlertRow.opened_at.desc(), AlertRow.received_at.desc()).limit(limit)
    if home is not None:
        query = query.where(AlertRow.home == home)
    return session.scalars(query).all()


def get_alert(*, session: Session, alert_id: str) -> AlertRow | None:
    """One alert, or `None` if there is no such alert."""
    return session.get(AlertRow, alert_id)
