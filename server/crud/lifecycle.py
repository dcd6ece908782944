"""The alert lifecycle: open -> notified -> acknowledged (by whom, how) -> resolved (with an outcome).

Every change is committed together with its row in `alert_transitions`. An acknowledgement or a
resolution cancels the ladder's pending steps, and of a storm group's leader also covers its members
(`server/escalation/storms.py`); a failed notification makes the next step due at once.
These functions are what routes, SMS/voice webhooks, ack links and the dispatcher call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from server.crud.transitions import add_transition, list_transitions
from server.db.tables import (
    AlertRow,
    AlertStatus,
    AlertTransitionRow,
    NotificationRow,
    NotificationStatus,
    Outcome,
)
from server.escalation import storms, wakeups
from server.escalation.ladder import cancel_pending, expedite_after
from server.texts import REF_ALPHABET

_LOGGER = logging.getLogger(__name__)

ACK_CHANNELS: Final = ("sms", "voice", "link", "web", "api")
OUTCOMES: Final = tuple(outcome.value for outcome in Outcome)
MAX_ACTOR_LENGTH: Final = 64
MAX_NOTE_LENGTH: Final = 2000
# Codes are read out and typed on phones: accept the letters people confuse with digits.
_REF_FIXES: Final = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


class LifecycleError(Exception):
    """A lifecycle change that cannot be made.

    `status_code` says why, in HTTP terms: 404 no such alert, 409 it conflicts with the alert's state
    (e.g. resolving twice), 422 a bad value (unknown outcome or channel). `message` is plain text for a
    person, safe to show.
    """

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _updated(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _check_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > MAX_ACTOR_LENGTH:
        raise LifecycleError(f"actor must be 1-{MAX_ACTOR_LENGTH} characters, got {len(actor)}", status_code=422)
    return actor


def _alert(session: Session, alert_id: str) -> AlertRow:
    alert = session.get(AlertRow, alert_id, populate_existing=True)
    if alert is None:
        raise LifecycleError(f"no alert {alert_id!r}", status_code=404)
    return alert


def normalize_ref(ref: str) -> str:
    """A reference code as typed or read out (`k3f9q2`, `K3F-9Q2`, `ref K3F9O2`) in its stored form."""
    text = ref.strip().upper()
    if text.startswith("REF"):
        text = text[3:]
    text = "".join(ch for ch in text if ch.isalnum()).translate(_REF_FIXES)
    return "".join(ch for ch in text if ch in REF_ALPHABET)


def mark_notified(*, session: Session, alert_id: str, channel: str, now: datetime) -> bool:
    """Move an open alert to notified when its first notification went out; no commit.

    Returns whether it moved (the dispatcher calls this for every sent message; only the first counts).
    """
    moved = _updated(
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id, AlertRow.status == AlertStatus.OPEN)
            .values(status=AlertStatus.NOTIFIED)
            .execution_options(synchronize_session=False)
        )
    )
    if moved:
        add_transition(
            session=session, alert_id=alert_id, at=now, kind="notified", from_status=AlertStatus.OPEN,
            to_status=AlertStatus.NOTIFIED, actor="system", channel=channel, detail="first notification sent",
        )
    return moved == 1


def acknowledge(
    *, session: Session, alert_id: str, actor: str, channel: str, now: datetime | None = None
) -> AlertRow:
    """Record that `actor` took the alert through `channel`, and stop its ladder. Commits.

    Idempotent: the same actor acknowledging again changes nothing. Another actor acknowledging an alert
    already taken is recorded in the audit (an `ack_again` transition) and changes nothing else.

    Args:
        actor: who, without personal data: "responder:12", "contact:3", "user:admin", "phone:+86...".
        channel: "sms", "voice", "link", "web" or "api".

    Raises:
        LifecycleError: 404 unknown alert, 409 alert already resolved, 422 bad actor or channel.
    """
    now = _now(now)
    actor = _check_actor(actor)
    if channel not in ACK_CHANNELS:
        raise LifecycleError(f"channel {channel!r} unknown; expected one of {', '.join(ACK_CHANNELS)}", status_code=422)
    for _attempt in range(3):
        alert = _alert(session, alert_id)
        if alert.status == AlertStatus.RESOLVED:
            raise LifecycleError(
                f"alert {alert.ref} is already resolved ({alert.outcome}); there is nothing to acknowledge",
                status_code=409,
            )
        if alert.status == AlertStatus.ACKNOWLEDGED:
            if alert.acknowledged_by != actor:
                add_transition(
                    session=session, alert_id=alert.id, at=now, kind="ack_again", from_status=alert.status,
                    to_status=alert.status, actor=actor, channel=channel,
                    detail=f"already acknowledged by {alert.acknowledged_by}",
                )
                session.commit()
            return alert
        previous = alert.status
        # Conditional on the status read: a concurrent acknowledgement or resolution makes this match
        # nothing, and the loop reads the alert again.
        moved = _updated(
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert.id, AlertRow.status == previous)
                .values(
                    status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor, ack_channel=channel
                )
                .execution_options(synchronize_session=False)
            )
        )
        if not moved:
            continue  # no rollback: the caller's own uncommitted work (e.g. a spent ack link) must stay
        cancelled = cancel_pending(session=session, alert_id=alert.id, now=now)
        add_transition(
            session=session, alert_id=alert.id, at=now, kind="acknowledged", from_status=previous,
            to_status=AlertStatus.ACKNOWLEDGED, actor=actor, channel=channel,
            detail=f"ladder stopped ({cancelled} pending step{'s' if cancelled != 1 else ''} cancelled)",
        )
        # A storm's leader takes its group with it; a member only itself (server/escalation/storms.py).
        storms.acknowledge_members(session=session, leader=alert, actor=actor, channel=channel, now=now)
        session.commit()
        _LOGGER.info("alert %s acknowledged via %s", alert.id, channel)
        wakeups.wake(session, wakeups.ACKS)
        return _alert(session, alert.id)
    raise LifecycleError(f"alert {alert_id!r} kept changing while being acknowledged; try again", status_code=409)


def acknowledge_by_phone(
    *, session: Session, phone: str, ref: str | None, channel: str, now: datetime | None = None
) -> AlertRow | None:
    """Acknowledge, for a reply or keypress from `phone`, the unresolved alert that phone was told about.

    With `ref`, the alert of that code; without, the most recent one not yet acknowledged (else the most
    recent unresolved one), taken as the leader of its storm group if it has one: a bare "1" answers the
    ladder that asked for it, never just a follow-up. The actor is who the number was notified as
    ("responder:12", "contact:3"), else `phone:<number>`. Returns `None` when the phone was told of no
    such unresolved alert. Commits.
    """
    query = (
        select(NotificationRow.alert_id, NotificationRow.recipient, AlertRow.status)
        .join(AlertRow, AlertRow.id == NotificationRow.alert_id)
        .where(NotificationRow.to == phone, AlertRow.status != AlertStatus.RESOLVED)
        .order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc())
    )
    if ref is not None:
        code = normalize_ref(ref)
        if not code:
            return None
        query = query.where(AlertRow.ref == code)
    rows = session.execute(query.limit(200)).all()
    if not rows:
        return None
    candidates = _as_leaders(session, rows) if ref is None else [(row[0], row[1], row[2]) for row in rows]
    waiting = [row for row in candidates if row[2] != AlertStatus.ACKNOWLEDGED]
    alert_id, recipient, _status = (waiting or candidates)[0]
    actor = recipient or f"phone:{phone}"
    return acknowledge(session=session, alert_id=alert_id, actor=actor, channel=channel, now=now)


def _as_leaders(session: Session, rows: Sequence[Any]) -> list[tuple[str, str | None, str]]:
    """(alert, recipient, status) rows with each grouped alert replaced by its group's leader, in order."""
    leaders: list[tuple[str, str | None, str]] = []
    for alert_id, recipient, status in rows:
        leader_id = storms.leader_of(session, alert_id)
        leader_status = status if leader_id == alert_id else session.scalar(
            select(AlertRow.status).where(AlertRow.id == leader_id)
        )
        if leader_status is None or leader_status == AlertStatus.RESOLVED:
            leader_id, leader_status = alert_id, status  # a member outliving its leader answers for itself
        leaders.append((leader_id, recipient, leader_status))
    return leaders


def resolve(
    *,
    session: Session,
    alert_id: str,
    actor: str,
    outcome: str,
    note: str | None,
    now: datetime | None = None,
) -> AlertRow:
    """Close an alert with an outcome and an optional note; stops its ladder if still climbing. Commits.

    Raises:
        LifecycleError: 404 unknown alert, 409 already resolved, 422 unknown outcome or bad actor/note.
    """
    now = _now(now)
    actor = _check_actor(actor)
    if outcome not in OUTCOMES:
        raise LifecycleError(f"outcome {outcome!r} unknown; expected one of {', '.join(OUTCOMES)}", status_code=422)
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise LifecycleError(f"note is {len(note)} characters; at most {MAX_NOTE_LENGTH}", status_code=422)
    for _attempt in range(3):
        alert = _alert(session, alert_id)
        if alert.status == AlertStatus.RESOLVED:
            raise LifecycleError(
                f"alert {alert.ref} is already resolved ({alert.outcome}) by {alert.resolved_by}", status_code=409
            )
        previous = alert.status
        moved = _updated(
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert.id, AlertRow.status == previous)
                .values(status=AlertStatus.RESOLVED, resolved_at=now, resolved_by=actor, outcome=outcome, note=note)
                .execution_options(synchronize_session=False)
            )
        )
        if not moved:
            continue  # no rollback: the caller's own uncommitted work (e.g. a spent ack link) must stay
        cancelled = cancel_pending(session=session, alert_id=alert.id, now=now)
        detail = f"outcome {outcome}"
        if cancelled:
            detail += f"; ladder stopped ({cancelled} pending step{'s' if cancelled != 1 else ''} cancelled)"
        add_transition(
            session=session, alert_id=alert.id, at=now, kind="resolved", from_status=previous,
            to_status=AlertStatus.RESOLVED, actor=actor, detail=detail,
        )
        storms.resolve_members(session=session, leader=alert, actor=actor, outcome=outcome, note=note, now=now)
        session.commit()
        _LOGGER.info("alert %s resolved: %s", alert.id, outcome)
        if previous != AlertStatus.ACKNOWLEDGED:
            wakeups.wake(session, wakeups.ACKS)  # the home still hears that its call was answered
        return _alert(session, alert.id)
    raise LifecycleError(f"alert {alert_id!r} kept changing while being resolved; try again", status_code=409)


def notification_failed(*, session: Session, notification_id: int, error: str, now: datetime | None = None) -> None:
    """A provider said a notification was not delivered: mark it failed and climb to the next step at once.

    Works on top of the caller's own uncommitted changes (e.g. a receipt that already stored the
    provider's status) and commits them with its own; the notification ends as "failed", its first error
    kept. Idempotent: a second
    report about the same notification adds nothing, and never brings a later step forward. An unknown id
    is logged and ignored.
    """
    now = _now(now)
    notification = session.get(NotificationRow, notification_id, populate_existing=True)
    if notification is None:
        _LOGGER.warning("failure report for unknown notification %d ignored", notification_id)
        return
    # "failed" whatever the caller stored before (e.g. a receipt's "undelivered"): one status to query.
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == notification_id, NotificationRow.status != NotificationStatus.FAILED)
        .values(status=NotificationStatus.FAILED, not_before=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == notification_id, NotificationRow.error.is_(None))
        .values(error=error[:1000])
        .execution_options(synchronize_session=False)
    )
    label = f"notification {notification_id} "
    reported = session.scalar(
        select(AlertTransitionRow.id).where(
            AlertTransitionRow.alert_id == notification.alert_id,
            AlertTransitionRow.kind == "notification_failed",
            AlertTransitionRow.detail.startswith(label, autoescape=True),
        )
    )
    if reported is not None:
        session.commit()
        return
    alert = _alert(session, notification.alert_id)
    expedited = False
    if notification.step is not None and alert.status not in (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED):
        # Only the step right after this one, and only if it is still waiting: idempotent by itself.
        expedited = expedite_after(session=session, alert_id=alert.id, step_index=notification.step, now=now)
    detail = f"{label}to {notification.recipient or 'unknown'} failed"
    detail += "; next step now" if expedited else "; no step left waiting to bring forward"
    add_transition(
        session=session, alert_id=alert.id, at=now, kind="notification_failed", from_status=alert.status,
        to_status=alert.status, channel=notification.channel, step=notification.step, detail=detail,
    )
    session.commit()
    # The error text stays on the row: provider messages may quote the phone number.
    _LOGGER.warning("notification %d of alert %s failed; next step brought forward: %s", notification_id, alert.id,
                    expedited)
    if expedited:
        wakeups.wake(session, wakeups.ESCALATION)


def timeline(*, session: Session, alert_id: str) -> list[dict[str, Any]]:
    """Every transition and notification of an alert, oldest first (a transition before the notifications
    it created at the same instant), as plain dicts for `schemas.TimelineEntry`."""
    entries: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for row in list_transitions(session=session, alert_id=alert_id):
        entries.append((row.at, 0, row.id, {
            "at": row.at, "entry": "transition", "kind": row.kind, "step": row.step, "status": row.to_status,
            "from_status": row.from_status, "actor": row.actor, "channel": row.channel, "detail": row.detail,
        }))
    notifications = session.scalars(select(NotificationRow).where(NotificationRow.alert_id == alert_id)).all()
    for row in notifications:
        entries.append((row.created_at, 1, row.id, {
            "at": row.created_at, "entry": "notification", "kind": "notification", "step": row.step,
            "status": row.status, "recipient": row.recipient, "to": row.to, "channel": row.channel,
            "notification_id": row.id, "sent_at": row.sent_at, "detail": row.error,
        }))
    entries.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in entries]
