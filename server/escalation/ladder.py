"""Climbing an alert's escalation ladder, one persisted step row at a time.

Each step is a row of `escalation_steps` with a `due_at`. Firing a step, creating its notifications and
scheduling the next step happen in one transaction, after a conditional UPDATE claimed the row: a crash
before the commit leaves the step pending (it fires after a restart), a commit makes it fired once, and a
second server on the same database finds nothing left to claim. Nothing about a ladder lives in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from server.acklinks import link_for
from server.crud.transitions import add_transition
from server.db.tables import (
    AlertRow,
    AlertStatus,
    EscalationStepRow,
    NotificationRow,
    NotificationStatus,
    StepState,
)
from server.escalation.config import EscalationConfig
from server.escalation.policy import CHANNELS_OF, SERVICE_KINDS, severity_rank
from server.escalation.recipients import Recipient, home_category, recipients_for, service_recipient
from server.texts import ladder_end_message, step_message

_LOGGER = logging.getLogger(__name__)

RATE_WINDOW_S = 60.0  # the per-number cap counts messages in this window (scaled by time_scale)
# A known alert type always finds a rule in a validated policy; an alert of an unknown combination (a
# newer gateway) still reaches a human.
FALLBACK_LADDER: dict[str, Any] = {
    "rule": "fallback",
    "steps": [{"who": ["operator"], "how": "both", "wait_s": 120.0}],
    "final": {"who": "operator", "how": "sms"},
}
_DONE = (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED)


def ladder_for(*, config: EscalationConfig, alert_type: str, severity: str, category: str) -> dict[str, Any]:
    """The ladder an alert of this type, severity and resident category climbs, as plain data to store."""
    policy = config.policy
    rule = policy.select(type_=alert_type, severity=severity, category=category)
    if rule is None:
        _LOGGER.warning("no escalation rule for %s (%s, %s); using the operator fallback", alert_type, severity,
                        category)
        return {**FALLBACK_LADDER, "category": category}
    return {
        "rule": rule.name,
        "category": category,
        "steps": [step.as_dict() for step in rule.ladder],
        "final": {"who": policy.final_who, "how": policy.final_how},
    }


def start_ladder(*, session: Session, config: EscalationConfig, alert: AlertRow, now: datetime) -> int:
    """Choose the new alert's ladder, record it opened, and fire its first step(s) now, in the caller's
    transaction (no commit): the first notifications are stored with the alert itself. Returns how many.
    """
    category = home_category(session=session, home_id=alert.home)
    ladder = ladder_for(config=config, alert_type=alert.type, severity=alert.severity, category=category)
    alert.category = category
    alert.ladder = ladder
    add_transition(
        session=session,
        alert_id=alert.id,
        at=now,
        kind="opened",
        from_status=None,
        to_status=alert.status,
        actor="gateway",
        detail=f"rule {ladder['rule']}, category {category}, {len(ladder['steps'])} steps",
    )
    first = EscalationStepRow(
        alert_id=alert.id, step_index=0, due_at=now, state=StepState.PENDING, attempt=1, created_at=now
    )
    session.add(first)
    session.flush()
    return _fire(session=session, config=config, alert=alert, step=first, now=now)


def claim_and_fire(*, session: Session, config: EscalationConfig, step_id: int, now: datetime) -> int | None:
    """Fire one due step if this caller wins it; commits. Returns notifications created, `None` if not won."""
    # Alert before step, the order an acknowledgement locks them in: the other order deadlocks on PostgreSQL
    # (FOR NO KEY UPDATE: inserts referencing the alert still go ahead). SQLite ignores it: one writer anyway.
    alert_id = session.scalar(select(EscalationStepRow.alert_id).where(EscalationStepRow.id == step_id))
    if alert_id is not None:
        session.get(AlertRow, alert_id, with_for_update={"key_share": True})
    # The conditional UPDATE is the claim: a step another scheduler fired since our SELECT no longer
    # matches. It also takes the row's write lock until our commit (SQLite: the database's).
    result = session.execute(
        update(EscalationStepRow)
        .where(
            EscalationStepRow.id == step_id,
            EscalationStepRow.state == StepState.PENDING,
            EscalationStepRow.due_at <= now,
        )
        .values(attempt=EscalationStepRow.attempt + 1)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        session.rollback()
        return None
    step = session.get(EscalationStepRow, step_id, populate_existing=True)
    alert = session.get(AlertRow, step.alert_id, populate_existing=True) if step else None
    if step is None or alert is None:
        session.rollback()
        return None
    created = _fire(session=session, config=config, alert=alert, step=step, now=now)
    session.commit()
    return created


def due_step_ids(*, session: Session, now: datetime, limit: int) -> Sequence[int]:
    """Ids of pending steps that are due, oldest first."""
    return session.scalars(
        select(EscalationStepRow.id)
        .where(EscalationStepRow.state == StepState.PENDING, EscalationStepRow.due_at <= now)
        .order_by(EscalationStepRow.due_at, EscalationStepRow.id)
        .limit(limit)
    ).all()


def next_due_at(*, session: Session) -> datetime | None:
    """When the earliest pending step is due, or `None` when no ladder is climbing."""
    query = select(func.min(EscalationStepRow.due_at)).where(EscalationStepRow.state == StepState.PENDING)
    return session.scalar(query)


def cancel_pending(*, session: Session, alert_id: str, now: datetime) -> int:
    """Cancel an alert's pending steps (acknowledged or resolved); no commit. Returns how many."""
    result = session.execute(
        update(EscalationStepRow)
        .where(EscalationStepRow.alert_id == alert_id, EscalationStepRow.state == StepState.PENDING)
        .values(state=StepState.CANCELLED, done_at=now)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def expedite_after(*, session: Session, alert_id: str, step_index: int, now: datetime) -> bool:
    """Make the step after `step_index` due now, if it is still waiting; no commit.

    Only the step right after: a second failure report about an earlier step must not skip a rung.
    """
    result = session.execute(
        update(EscalationStepRow)
        .where(
            EscalationStepRow.alert_id == alert_id,
            EscalationStepRow.step_index == step_index + 1,
            EscalationStepRow.state == StepState.PENDING,
            EscalationStepRow.due_at > now,
        )
        .values(due_at=now)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def _reached(session: Session, alert_id: str) -> set[str]:
    keys = session.scalars(
        select(NotificationRow.recipient).where(NotificationRow.alert_id == alert_id).distinct()
    ).all()
    return {key for key in keys if key}


def member_types(session: Session, leader_id: str) -> list[str]:
    """The types of the alerts grouped under `leader_id` (a storm), oldest first, each once."""
    types = session.scalars(
        select(AlertRow.type).where(AlertRow.group_id == leader_id).order_by(AlertRow.opened_at, AlertRow.id)
    ).all()
    return list(dict.fromkeys(types))


def _fits(planned: list[datetime], candidate: datetime, cap: int, window: timedelta) -> bool:
    """Whether one more message at `candidate` keeps every window of `window` holding it at `cap` or fewer."""
    points = sorted([*planned, candidate])
    for end in points:
        if end < candidate or end - window >= candidate:
            continue  # this window, (end - window, end], does not hold the candidate
        if sum(1 for t in points if end - window < t <= end) > cap:
            return False
    return True


def _first_slot(planned: list[datetime], earliest: datetime, cap: int, window: timedelta) -> datetime:
    candidates = sorted({earliest, *(t + window for t in planned if t + window > earliest)})
    for candidate in candidates:
        if _fits(planned, candidate, cap, window):
            return candidate
    return max(earliest, *planned) + window  # unreachable in practice; keeps the message


def _to_phone(session: Session, phone: str, now: datetime, window: timedelta) -> list[Any]:
    return list(session.execute(
        select(
            NotificationRow.id, NotificationRow.created_at, NotificationRow.not_before, NotificationRow.status,
            NotificationRow.attempts, AlertRow.severity,
        )
        .join(AlertRow, AlertRow.id == NotificationRow.alert_id)
        .where(
            NotificationRow.to == phone,
            or_(NotificationRow.created_at > now - window, NotificationRow.not_before > now - window),
        )
    ).all())


def _deferred(row: Any, now: datetime) -> bool:
    # Planned for later and never tried: the only rows whose time may still move (a claimed row's
    # not_before is a dispatcher lease, not a plan).
    return row.status == NotificationStatus.PENDING and row.attempts == 0 and row.not_before is not None and (
        row.not_before > now
    )


def _when(row: Any) -> datetime:
    planned = row.status == NotificationStatus.PENDING and row.attempts == 0 and row.not_before is not None
    return row.not_before if planned else row.created_at


def _send_slot(
    session: Session, config: EscalationConfig, phone: str, now: datetime, severity: str
) -> datetime | None:
    """`None` to send now, or when a message to `phone` fits under the per-number cap (storms).

    A message counts against it what is already on its way and what is planned for alerts as urgent or
    more: a critical alert's message never waits behind a maintenance text planned for later.
    """
    cap, window, rank = config.policy.per_number_per_minute, config.scaled(RATE_WINDOW_S), severity_rank(severity)
    planned = [
        _when(row) for row in _to_phone(session, phone, now, window)
        if not _deferred(row, now) or severity_rank(row.severity) <= rank
    ]
    slot = _first_slot(planned, now, cap, window)
    return None if slot == now else slot


def _replan_less_urgent(session: Session, config: EscalationConfig, phone: str, now: datetime, severity: str) -> int:
    """Push back planned messages of less urgent alerts to `phone` that a more urgent one just overtook,
    so the cap holds for them again; no commit. Returns how many moved (never earlier, never dropped)."""
    cap, window, rank = config.policy.per_number_per_minute, config.scaled(RATE_WINDOW_S), severity_rank(severity)
    rows = _to_phone(session, phone, now, window)
    movable = sorted(
        (row for row in rows if _deferred(row, now) and severity_rank(row.severity) > rank),
        key=lambda row: (severity_rank(row.severity), row.not_before, row.id),
    )
    times = {row.id: _when(row) for row in rows}
    moved = 0
    for row in movable:
        row_rank = severity_rank(row.severity)
        planned = [
            times[other.id] for other in rows
            if other.id != row.id and (not _deferred(other, now) or severity_rank(other.severity) <= row_rank)
        ]
        slot = _first_slot(planned, times[row.id], cap, window)
        if slot > times[row.id]:
            session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == row.id, NotificationRow.attempts == 0)
                .values(not_before=slot)
                .execution_options(synchronize_session=False)
            )
            times[row.id] = slot
            moved += 1
    return moved


def notify(
    *,
    session: Session,
    config: EscalationConfig,
    alert: AlertRow,
    recipients: list[Recipient],
    channels: Sequence[str],
    step_index: int | None,
    body_for: Callable[[str, Recipient], str],
    now: datetime,
    with_link: bool = True,
) -> int:
    """Create the notifications of `alert` to `recipients` through `channels`, each planned under the
    per-number cap; no commit. Returns how many. `step_index` is `None` outside a ladder (a storm follow-up)."""
    created = 0
    for recipient in recipients:
        for channel in channels:
            # The cap spares people's phones in a storm; a service centre takes every alert at once.
            capped = recipient.key not in SERVICE_KINDS
            slot = _send_slot(session, config, recipient.phone, now, alert.severity) if capped else None
            row = NotificationRow(
                alert_id=alert.id,
                to=recipient.phone,
                channel=channel,
                body=body_for(channel, recipient),
                status=NotificationStatus.PENDING,
                attempts=0,
                created_at=now,
                not_before=slot,
                step=step_index,
                recipient=recipient.key,
            )
            session.add(row)
            session.flush()  # the next rate check counts this one, and the link needs its id
            if capped and _replan_less_urgent(session, config, recipient.phone, now, alert.severity):
                _LOGGER.info("alert %s: less urgent messages to %s pushed back behind it", alert.id, recipient.key)
            if with_link and channel == "sms" and config.link_secret and config.link_base_url:
                # Two-way SMS is not available everywhere (mainland China): the link works on its own.
                link = link_for(row, secret=config.link_secret, base_url=config.link_base_url, now=now)
                row.body = f"{row.body} Accept: {link}"
            if slot is not None:
                _LOGGER.info("alert %s: a %s to %s waits %.1f s for the per-number cap", alert.id, channel,
                             recipient.key, (slot - now).total_seconds())
            created += 1
    return created


def _fire(
    *, session: Session, config: EscalationConfig, alert: AlertRow, step: EscalationStepRow, now: datetime
) -> int:
    """Fire `step` (claimed, or new in this transaction) and every step due right after it; no commit."""
    created = 0
    while True:
        if alert.status in _DONE:
            step.state, step.done_at = StepState.CANCELLED, now
            return created
        ladder = alert.ladder or FALLBACK_LADDER
        steps: list[dict[str, Any]] = ladder["steps"]
        total, index = len(steps), step.step_index
        if index >= total:
            created += _fire_end(session=session, config=config, alert=alert, ladder=ladder, index=index, now=now)
            step.state, step.done_at = StepState.SENT, now
            return created
        spec = steps[index]
        who, how = list(spec["who"]), spec["how"]
        quiet_end = config.policy.quiet_until(now, severity=alert.severity, who=who)
        if quiet_end is not None:
            step.due_at = quiet_end  # stays pending; the scheduler takes it up again when quiet hours end
            add_transition(
                session=session, alert_id=alert.id, at=now, kind="step_deferred", from_status=alert.status,
                to_status=alert.status, step=index,
                detail=f"step {index + 1}/{total} ({', '.join(who)}) held by quiet hours until "
                f"{quiet_end.isoformat(timespec='minutes')}",
            )
            return created
        reached = _reached(session, alert.id)
        recipients: dict[str, Recipient] = {}
        for kind in who:
            for recipient in recipients_for(
                kind, session=session, home_id=alert.home, reached=reached, numbers=config.numbers, now=now
            ):
                recipients.setdefault(recipient.phone, recipient)  # one number, one message per channel
        if not recipients:
            step.state = StepState.SKIPPED
            add_transition(
                session=session, alert_id=alert.id, at=now, kind="step_skipped", from_status=alert.status,
                to_status=alert.status, step=index,
                detail=f"step {index + 1}/{total}: nobody to reach as {', '.join(who)}; next step now",
            )
            next_due = now
        else:
            also = member_types(session, alert.id)

            def body(
                channel: str, recipient: Recipient, index: int = index, total: int = total, also: list[str] = also
            ) -> str:
                return step_message(
                    channel=channel, alert_type=alert.type, home=alert.home, device=alert.device,
                    opened_at=alert.opened_at, ref=alert.ref, step=index + 1, steps=total, count=alert.count,
                    language=recipient.language, also=also,
                )

            count = notify(
                session=session, config=config, alert=alert, recipients=list(recipients.values()),
                channels=CHANNELS_OF[how], step_index=index, body_for=body, now=now,
            )
            created += count
            step.state = StepState.SENT
            add_transition(
                session=session, alert_id=alert.id, at=now, kind="step_sent", from_status=alert.status,
                to_status=alert.status, channel=how, step=index,
                detail=f"step {index + 1}/{total}: {', '.join(r.key for r in recipients.values())} by {how}; "
                f"{count} notifications",
            )
            next_due = now + config.scaled(float(spec["wait_s"]))
        step.done_at = now
        following = EscalationStepRow(
            alert_id=alert.id,
            step_index=index + 1,
            due_at=next_due,
            state=StepState.PENDING,
            attempt=1 if next_due <= now else 0,
            created_at=now,
        )
        session.add(following)
        session.flush()
        if next_due > now:
            return created
        step = following


def _fire_end(
    *, session: Session, config: EscalationConfig, alert: AlertRow, ladder: dict[str, Any], index: int, now: datetime
) -> int:
    final = ladder.get("final") or FALLBACK_LADDER["final"]
    kind = final["who"] if final["who"] in SERVICE_KINDS else "operator"
    # The emergency line may be unset; the operator always has a number.
    recipient = service_recipient(kind, config.numbers) or Recipient("operator", config.numbers.operator, "operator")

    def body(channel: str, _recipient: Recipient) -> str:
        return ladder_end_message(
            channel=channel, alert_type=alert.type, home=alert.home, opened_at=alert.opened_at, ref=alert.ref,
            steps=index,
        )

    created = notify(
        session=session, config=config, alert=alert, recipients=[recipient], channels=CHANNELS_OF[final["how"]],
        step_index=index, body_for=body, now=now,
    )
    add_transition(
        session=session, alert_id=alert.id, at=now, kind="ladder_ended", from_status=alert.status,
        to_status=alert.status, channel=final["how"], step=index,
        detail=f"no acknowledgement after {index} steps; {recipient.key} told once, escalation over",
    )
    _LOGGER.warning("alert %s: ladder ended without acknowledgement after %d steps", alert.id, index)
    return created
