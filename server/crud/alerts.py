"""Storing alerts from the gateway, each once: a new alert opens and starts its escalation ladder (or joins
the storm group of its home, `server/escalation/storms.py`), an alert of the same type for a home whose
alert is still unresolved is merged into it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.protocol import Alert
from server.crud.transitions import add_transition
from server.db.tables import AlertMergeRow, AlertRow, AlertStatus
from server.escalation import storms, wakeups
from server.escalation.config import EscalationConfig
from server.texts import alert_ref

_LOGGER = logging.getLogger(__name__)

MAX_MERGED_EVIDENCE: Final = 20  # merged alerts kept in `evidence["_merged"]`, the newest ones
MERGED_KEY: Final = "_merged"
_RACE_RETRIES: Final = 3


def _open_alert(session: Session, *, home: str, alert_type: str) -> AlertRow | None:
    return session.scalars(
        select(AlertRow).where(
            AlertRow.home == home, AlertRow.type == alert_type, AlertRow.status != AlertStatus.RESOLVED
        )
    ).first()


def _merge(*, session: Session, open_id: str, alert: Alert, now: datetime) -> AlertRow | None:
    """Fold `alert` into the unresolved alert `open_id` of the same home and type (no commit).

    Returns the updated row, or `None` if that alert was resolved meanwhile (the caller starts over).
    """
    # The insert comes first: it takes the write lock (SQLite), and the row lock below (PostgreSQL) makes
    # concurrent merges read-modify-write the count and evidence one after another, none lost.
    session.add(AlertMergeRow(id=alert.id, alert_id=open_id, received_at=now))
    session.flush()
    # FOR NO KEY UPDATE, not FOR UPDATE: the merge row just inserted holds a key-share lock on the alert, and
    # two merges each holding one would deadlock waiting for a full row lock.
    row = session.get(AlertRow, open_id, with_for_update={"key_share": True}, populate_existing=True)
    if row is None or row.status == AlertStatus.RESOLVED:
        return None
    event_at = datetime.fromtimestamp(alert.ts, UTC)
    evidence: dict[str, Any] = dict(row.evidence or {})
    merged = list(evidence.get(MERGED_KEY, []))
    merged.append({"id": alert.id, "ts": alert.ts, "device": alert.device, "evidence": dict(alert.evidence)})
    evidence[MERGED_KEY] = merged[-MAX_MERGED_EVIDENCE:]
    row.evidence = evidence  # a new dict: SQLAlchemy sees the JSON column changed
    row.count = (row.count or 1) + 1
    row.last_event_at = max(row.last_event_at or row.opened_at, event_at)
    add_transition(
        session=session, alert_id=row.id, at=now, kind="merged", from_status=row.status, to_status=row.status,
        actor="gateway", detail=f"alert {alert.id} merged (count {row.count})",
    )
    return row


def ingest_alert(
    *,
    session: Session,
    alert: Alert,
    operator_phone: str | None = None,
    escalation: EscalationConfig | None = None,
    now: datetime | None = None,
) -> AlertRow | None:
    """Store an alert and bring it to a human; returns the stored (or updated) alert, `None` for a duplicate.

    A new alert opens a row and fires its ladder's first step in the same transaction, so its first
    notifications exist as soon as it does; during a storm from its home it joins that storm's group
    instead, or leads it when more severe (`storms.open_alert`). An alert of the same type for a home
    whose alert of that type is not resolved yet updates that one (count, last event time, bounded
    evidence) instead: no second ladder. Idempotent on `alert.id`: a replay of a stored or merged alert
    creates nothing. Commits.

    Args:
        escalation: the policy, numbers and time scale; by default the shipped policy in real time with
            everything beyond the registry going to `operator_phone`.
    """
    if escalation is None:
        if operator_phone is None:
            raise TypeError("ingest_alert needs escalation= (or at least operator_phone=)")
        escalation = EscalationConfig.for_operator(operator_phone)
    received_at = now if now is not None else datetime.now(UTC)
    for _attempt in range(_RACE_RETRIES):
        # A merged alert has no row of its own: its id in alert_merges is what keeps a replay out.
        if session.get(AlertMergeRow, alert.id) is not None:
            _LOGGER.debug("alert %s already merged; duplicate ignored", alert.id)
            return None
        existing = _open_alert(session, home=alert.home, alert_type=alert.type)
        try:
            if existing is not None:
                if existing.id == alert.id:
                    _LOGGER.debug("alert %s already stored; duplicate ignored", alert.id)
                    return None
                merged = _merge(session=session, open_id=existing.id, alert=alert, now=received_at)
                if merged is None:
                    session.rollback()
                    continue  # resolved meanwhile: this alert opens a new one
                session.commit()
                _LOGGER.info("alert %s merged into open alert %s", alert.id, merged.id)
                return merged
            row = _new_row(alert, received_at)
            # No existence check first: the primary key is the check, which also holds when two requests
            # race; the partial unique index on unresolved (home, type) catches two different alerts racing.
            # The flush also takes SQLite's write lock: storm decisions about one home are made one at a time.
            session.add(row)
            session.flush()
            placement = storms.open_alert(session=session, config=escalation, alert=row, now=received_at)
            session.commit()
        except IntegrityError:
            session.rollback()
            if session.get(AlertRow, alert.id) is not None or session.get(AlertMergeRow, alert.id) is not None:
                _LOGGER.debug("alert %s already stored; duplicate ignored", alert.id)
                return None
            continue  # another alert of this home and type won the race: merge into it
        if placement.notifications:
            wakeups.wake(session, wakeups.DISPATCH)
        if placement.acknowledged:
            wakeups.wake(session, wakeups.ACKS)  # joined a group already taken: the home hears help is coming
        wakeups.wake(session, wakeups.ESCALATION)
        return row
    raise RuntimeError(f"alert {alert.id} lost the open-alert race {_RACE_RETRIES} times; the gateway will resend it")


def _new_row(alert: Alert, received_at: datetime) -> AlertRow:
    opened_at = datetime.fromtimestamp(alert.ts, UTC)
    return AlertRow(
        id=alert.id,
        home=alert.home,
        type=alert.type,
        severity=alert.severity,
        status=AlertStatus.OPEN,
        ref=alert_ref(alert.id),
        opened_at=opened_at,
        raised_at=datetime.fromtimestamp(alert.raised_at, UTC),
        received_at=received_at,
        device=alert.device,
        event_id=alert.event_id,
        evidence=dict(alert.evidence),
        model_version=alert.model_version,
        count=1,
        last_event_at=opened_at,
    )


def list_alerts(*, session: Session, limit: int, home: str | None = None) -> Sequence[AlertRow]:
    """Alerts newest first (by event time), optionally of one home."""
    query = select(AlertRow).order_by(AlertRow.opened_at.desc(), AlertRow.received_at.desc()).limit(limit)
    if home is not None:
        query = query.where(AlertRow.home == home)
    return session.scalars(query).all()


def get_alert(*, session: Session, alert_id: str) -> AlertRow | None:
    """One alert, or `None` if there is no such alert."""
    return session.get(AlertRow, alert_id)
