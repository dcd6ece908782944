"""Storms: the many alerts one emergency raises at one home, grouped so people get one ladder, not a dozen.

A kitchen fire gives SMOKE, GAS, INACTIVITY and HOME_OFFLINE within minutes. Each would climb a ladder of
its own and the responder on the way would get a dozen texts and calls. Instead, the rules, as a
responder would expect them:

- Who groups: an alert opening for a home that has an unresolved alert leading no group of its own (a
  leader) opened within `storm.window` of it (event times; the window is scaled by `--time-scale` like
  every wait, so a demo compresses a storm along with its ladders). Resident alerts (critical, high) group
  with each other; maintenance alerts (device health) only with each other, so a flat battery never
  silences an SOS nor is escalated as one. Another home's alerts never group.
- Join: an alert no more severe than the leader joins its group (`group_id` = the leader) and climbs no
  ladder. Both get a `grouped` transition naming the other's type and ref. Whoever the leader's messages
  reached (and did not fail) gets one short text, "also: GAS at home h0003, ref X (with SMOKE ref Y)";
  at most `storm.followups` members are announced per group within a window, the rest join silently.
  The leader's later steps name the grouped types ("SMOKE (also GAS)"). If the leader is already
  acknowledged, the member is acknowledged with it at once (same actor and channel): the person who took
  the emergency has just been told about this part of it.
- Take over: an alert more severe than the leader (critical > high > maintenance) leads instead, with
  its own, faster ladder; the old leader and its members join its group, and the old ladder's pending
  steps are cancelled (`ladder_stopped`). People the old ladder reached get one text about the new leader.
- Acknowledging a leader acknowledges its members not yet acknowledged (same actor and channel, a
  transition on each). Acknowledging a member acknowledges only it: the leader is the most urgent part of
  the emergency and its ladder keeps going until someone takes the leader. A bare "1" reply is for the
  leader (the message that asked for it was the leader's).
- Resolving a leader resolves its unresolved members with the same outcome and note; resolving a member
  resolves only it. A resolved leader leads nothing: the next alert of that home starts afresh.

Every decision is rows (`alerts.group_id`, transitions, notifications), nothing in memory, so a restart
changes nothing. Decisions about one home are made one at a time: the caller flushes the new alert first,
which takes SQLite's write lock, and on PostgreSQL a transaction-scoped advisory lock on the home.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, distinct, func, or_, select, text, update
from sqlalchemy.orm import Session

from gateway.protocol import Severity
from server.crud.transitions import add_transition
from server.db.tables import AlertRow, AlertStatus, ContactRow, NotificationRow, NotificationStatus, ResponderRow
from server.escalation.config import EscalationConfig
from server.escalation.ladder import cancel_pending, notify, start_ladder
from server.escalation.policy import severity_rank
from server.escalation.recipients import Recipient, home_category
from server.texts import group_followup_message

_LOGGER = logging.getLogger(__name__)

GROUPED: Final = "grouped"
LADDER_STOPPED: Final = "ladder_stopped"
_DONE: Final = (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new alert went: its own ladder (`leader_id` None) or a group; what it created."""

    notifications: int
    leader_id: str | None = None
    acknowledged: bool = False  # joined a group already taken, so acknowledged with it


def open_alert(*, session: Session, config: EscalationConfig, alert: AlertRow, now: datetime) -> Placement:
    """Give the new alert (added and flushed, uncommitted) its place: a ladder of its own, or a group.

    No commit: the caller commits the alert with everything decided here.
    """
    _lock_home(session, alert.home)
    leaders = _leaders_near(session, config, alert)
    if not leaders:
        return Placement(start_ladder(session=session, config=config, alert=alert, now=now))
    leader = min(leaders, key=lambda row: (severity_rank(row.severity), row.opened_at, row.id))
    if severity_rank(alert.severity) < severity_rank(leader.severity):
        return Placement(_take_over(session=session, config=config, alert=alert, leaders=leaders, now=now))
    return _join(session=session, config=config, alert=alert, leader=leader, now=now)


def acknowledge_members(*, session: Session, leader: AlertRow, actor: str, channel: str, now: datetime) -> int:
    """Acknowledge the unacknowledged members of `leader`'s group with it; no commit. Returns how many."""
    done = 0
    skip = (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED)
    for member in _open_members(session, leader.id, skip):
        # Not `status == member.status`: on PostgreSQL the dispatcher may move it open -> notified meanwhile.
        moved = _moved(session.execute(
            update(AlertRow)
            .where(AlertRow.id == member.id, AlertRow.status.not_in(skip))
            .values(status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor, ack_channel=channel)
            .execution_options(synchronize_session=False)
        ))
        if not moved:
            continue  # taken or closed on its own meanwhile
        cancel_pending(session=session, alert_id=member.id, now=now)
        add_transition(
            session=session, alert_id=member.id, at=now, kind="acknowledged", from_status=member.status,
            to_status=AlertStatus.ACKNOWLEDGED, actor=actor, channel=channel,
            detail=f"with its group leader {leader.type} ref {leader.ref}",
        )
        done += 1
    return done


def resolve_members(
    *, session: Session, leader: AlertRow, actor: str, outcome: str, note: str | None, now: datetime
) -> int:
    """Resolve the unresolved members of `leader`'s group with its outcome and note; no commit. Returns how many."""
    done = 0
    for member in _open_members(session, leader.id, (AlertStatus.RESOLVED,)):
        moved = _moved(session.execute(
            update(AlertRow)
            .where(AlertRow.id == member.id, AlertRow.status != AlertStatus.RESOLVED)
            .values(status=AlertStatus.RESOLVED, resolved_at=now, resolved_by=actor, outcome=outcome, note=note)
            .execution_options(synchronize_session=False)
        ))
        if not moved:
            continue
        cancel_pending(session=session, alert_id=member.id, now=now)
        add_transition(
            session=session, alert_id=member.id, at=now, kind="resolved", from_status=member.status,
            to_status=AlertStatus.RESOLVED, actor=actor,
            detail=f"outcome {outcome}, with its group leader {leader.type} ref {leader.ref}",
        )
        done += 1
    return done


def leader_of(session: Session, alert_id: str) -> str:
    """The id of the alert leading `alert_id`'s group (itself when it leads or stands alone)."""
    group_id = session.scalar(select(AlertRow.group_id).where(AlertRow.id == alert_id))
    return group_id or alert_id


def _moved(result: Any) -> bool:
    return cast(CursorResult[Any], result).rowcount == 1


def _open_members(session: Session, leader_id: str, skip: Sequence[str]) -> list[Any]:
    return list(session.execute(
        select(AlertRow.id, AlertRow.status)
        .where(AlertRow.group_id == leader_id, AlertRow.status.not_in(skip))
        .order_by(AlertRow.opened_at, AlertRow.id)
    ).all())


def _lock_home(session: Session, home: str) -> None:
    # SQLite: the caller's flush of the new alert already holds the database's write lock until commit.
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"storm:{home}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _maintenance(severity: str) -> bool:
    return severity == Severity.MAINTENANCE.value


def _leaders_near(session: Session, config: EscalationConfig, alert: AlertRow) -> list[AlertRow]:
    """Unresolved alerts of the home leading no group, of the alert's class, opened within the window."""
    window = config.scaled(config.policy.storm_window_s)
    rows = session.scalars(
        select(AlertRow).where(
            AlertRow.home == alert.home,
            AlertRow.id != alert.id,
            AlertRow.group_id.is_(None),
            AlertRow.status != AlertStatus.RESOLVED,
            AlertRow.opened_at >= alert.opened_at - window,
            AlertRow.opened_at <= alert.opened_at + window,
        )
    ).all()
    return [row for row in rows if _maintenance(row.severity) == _maintenance(alert.severity)]


def _join(
    *, session: Session, config: EscalationConfig, alert: AlertRow, leader: AlertRow, now: datetime
) -> Placement:
    # Locked (PostgreSQL): an acknowledgement of the leader committing meanwhile either comes first (we
    # see it and acknowledge the member too) or waits and then finds the member to acknowledge.
    leader = session.get(AlertRow, leader.id, with_for_update=True, populate_existing=True) or leader
    alert.group_id = leader.id
    alert.category = home_category(session=session, home_id=alert.home)
    add_transition(
        session=session, alert_id=alert.id, at=now, kind="opened", from_status=None, to_status=alert.status,
        actor="gateway", detail=f"storm: grouped under {leader.type} ref {leader.ref}, no ladder of its own",
    )
    add_transition(
        session=session, alert_id=leader.id, at=now, kind=GROUPED, from_status=leader.status,
        to_status=leader.status, detail=f"{alert.type} ref {alert.ref} joined its group",
    )
    created, told = _follow_up(session=session, config=config, leader=leader, about=alert,
                               reached_from=[leader.id], skip=set(), now=now)
    add_transition(
        session=session, alert_id=alert.id, at=now, kind=GROUPED, from_status=alert.status, to_status=alert.status,
        detail=f"joined the group of {leader.type} ref {leader.ref}; {told}",
    )
    acknowledged = False
    if leader.status == AlertStatus.ACKNOWLEDGED and leader.acknowledged_by:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at, alert.acknowledged_by = now, leader.acknowledged_by
        alert.ack_channel = leader.ack_channel
        add_transition(
            session=session, alert_id=alert.id, at=now, kind="acknowledged", from_status=AlertStatus.OPEN,
            to_status=AlertStatus.ACKNOWLEDGED, actor=leader.acknowledged_by, channel=leader.ack_channel,
            detail=f"with its group leader {leader.type} ref {leader.ref}, already taken",
        )
        acknowledged = True
    _LOGGER.info("alert %s (%s) grouped under %s (%s) at home %s", alert.id, alert.type, leader.id, leader.type,
                 alert.home)
    return Placement(created, leader_id=leader.id, acknowledged=acknowledged)


def _take_over(
    *, session: Session, config: EscalationConfig, alert: AlertRow, leaders: list[AlertRow], now: datetime
) -> int:
    adopted: list[str] = []
    for found in sorted(leaders, key=lambda row: (row.opened_at, row.id)):
        old = session.get(AlertRow, found.id, with_for_update=True, populate_existing=True) or found
        cancelled = cancel_pending(session=session, alert_id=old.id, now=now)
        members = session.scalars(select(AlertRow).where(AlertRow.group_id == old.id)).all()
        old.group_id = alert.id
        adopted.append(old.id)
        if cancelled:
            add_transition(
                session=session, alert_id=old.id, at=now, kind=LADDER_STOPPED, from_status=old.status,
                to_status=old.status,
                detail=f"more severe {alert.type} ref {alert.ref} leads now ({cancelled} pending step"
                f"{'s' if cancelled != 1 else ''} cancelled)",
            )
        add_transition(
            session=session, alert_id=old.id, at=now, kind=GROUPED, from_status=old.status, to_status=old.status,
            detail=f"joined the group of more severe {alert.type} ref {alert.ref}",
        )
        add_transition(
            session=session, alert_id=alert.id, at=now, kind=GROUPED, from_status=alert.status, to_status=alert.status,
            detail=f"leads the group: {old.type} ref {old.ref} joined",
        )
        for member in members:
            member.group_id = alert.id
            adopted.append(member.id)
            add_transition(
                session=session, alert_id=member.id, at=now, kind=GROUPED, from_status=member.status,
                to_status=member.status,
                detail=f"moved with {old.type} ref {old.ref} into the group of {alert.type} ref {alert.ref}",
            )
            add_transition(
                session=session, alert_id=alert.id, at=now, kind=GROUPED, from_status=alert.status,
                to_status=alert.status,
                detail=f"leads the group: {member.type} ref {member.ref} joined (with {old.ref})",
            )
    session.flush()
    created = start_ladder(session=session, config=config, alert=alert, now=now)  # names the grouped types
    reached_now = set(session.scalars(
        select(NotificationRow.recipient).where(NotificationRow.alert_id == alert.id).distinct()
    ).all())
    first = min(leaders, key=lambda row: (severity_rank(row.severity), row.opened_at, row.id))
    more, _told = _follow_up(session=session, config=config, leader=alert, about=alert, reached_from=adopted,
                             skip={key for key in reached_now if key}, now=now, with_ref=first)
    _LOGGER.info("alert %s (%s) leads the storm at home %s: %d alerts joined, their ladders stopped", alert.id,
                 alert.type, alert.home, len(adopted))
    return created + more


def _people(session: Session, alert_ids: Sequence[str], skip: set[str]) -> list[Recipient]:
    """Who messages of these alerts reached (not failed), once per person and number, oldest first."""
    rows = session.execute(
        select(NotificationRow.recipient, NotificationRow.to, func.min(NotificationRow.id))
        .where(
            NotificationRow.alert_id.in_(alert_ids),
            NotificationRow.status != NotificationStatus.FAILED,
            NotificationRow.recipient.is_not(None),
        )
        .group_by(NotificationRow.recipient, NotificationRow.to)
        .order_by(func.min(NotificationRow.id))
    ).all()
    people: list[Recipient] = []
    for key, phone, _first in rows:
        if key in skip:
            continue
        people.append(Recipient(key=key, phone=phone, role=key.split(":", 1)[0], language=_language(session, key)))
    return people


def _language(session: Session, key: str) -> str | None:
    kind, _, number = key.partition(":")
    table = {"responder": ResponderRow, "contact": ContactRow}.get(kind)
    if table is None or not number.isdigit():
        return None
    return session.scalar(select(table.language).where(table.id == int(number)))


def _announced(session: Session, config: EscalationConfig, leader_id: str, now: datetime) -> int:
    """Alerts of the group announced by a follow-up within the window (follow-ups are outside any ladder)."""
    window = config.scaled(config.policy.storm_window_s)
    return session.scalar(
        select(func.count(distinct(NotificationRow.alert_id)))
        .join(AlertRow, AlertRow.id == NotificationRow.alert_id)
        .where(
            or_(AlertRow.group_id == leader_id, AlertRow.id == leader_id),
            NotificationRow.step.is_(None),
            NotificationRow.created_at > now - window,
        )
    ) or 0


def _follow_up(
    *,
    session: Session,
    config: EscalationConfig,
    leader: AlertRow,
    about: AlertRow,
    reached_from: Sequence[str],
    skip: set[str],
    now: datetime,
    with_ref: AlertRow | None = None,
) -> tuple[int, str]:
    """One SMS about `about` to each person the alerts `reached_from` reached, within the group's cap.

    Returns the notifications created and a few words for the transition.
    """
    people = _people(session, reached_from, skip)
    if not people:
        return 0, "nobody reached yet to tell"
    cap = config.policy.storm_followups
    if _announced(session, config, leader.id, now) >= cap:
        return 0, f"not announced: {cap} follow-ups already sent for this group"
    other = with_ref or leader

    def body(_channel: str, recipient: Recipient) -> str:
        return group_followup_message(
            alert_type=about.type, home=about.home, ref=about.ref, leader_type=other.type, leader_ref=other.ref,
            language=recipient.language,
        )

    created = notify(
        session=session, config=config, alert=about, recipients=people, channels=("sms",), step_index=None,
        body_for=body, now=now, with_link=False,
    )
    return created, f"{', '.join(p.key for p in people)} told once by sms"
